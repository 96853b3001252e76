package execute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// Plan files on a shared store. A plan made on one replica may be
// applied by another, so on a shared store (see Cluster) each plan file
// is also stored in the store (bucketPlanFiles, under its file name) when
// it is made. A replica that does not have a plan's file on its own disk
// fetches it from there into its data dir; the file is used only when its
// SHA-256 is the one recorded with the plan, as with a local file.
const bucketPlanFiles = "planfiles" // plan file name -> its bytes

// PlanFilesBucket is the record bucket of shared plan files, for `atoll
// db migrate`, which moves a data dir's plan files into it.
const PlanFilesBucket = bucketPlanFiles

// SharePlan stores a plan file made here for the other replicas.
func (x *Jobs) SharePlan(ctx context.Context, file string) error {
	if !x.shared() {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := x.cfg.Store.PutRecord(ctx, bucketPlanFiles, filepath.Base(file), b); err != nil {
		return fmt.Errorf("share the plan file with the other replicas: %w", err)
	}
	return nil
}

// PlanFileOf returns the path of p's plan file on this replica's disk:
// p.File when this replica made it, or else a copy fetched from the
// store, written only when its SHA-256 is p's.
func (x *Jobs) PlanFileOf(ctx context.Context, p records.Plan) (string, error) {
	if !x.shared() || p.File == "" {
		return p.File, nil
	}
	if _, err := os.Stat(p.File); err == nil {
		return p.File, nil
	}
	local := filepath.Join(x.cfg.DataDir, "plans", filepath.Base(p.File))
	if sum, err := FileSHA256(local); err == nil && sum == p.SHA256 {
		return local, nil
	}
	b, ok, err := x.cfg.Store.GetRecord(ctx, bucketPlanFiles, filepath.Base(p.File))
	if err != nil {
		return "", fmt.Errorf("fetch the plan file: %w", err)
	}
	if !ok {
		return "", fmt.Errorf("plan file %s: %w", filepath.Base(p.File), os.ErrNotExist)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != p.SHA256 {
		return "", x.explain(templates.JobError{Kind: templates.JobErrPlanFileMismatch, Name: filepath.Base(p.File)})
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
		return "", err
	}
	tmp := local + ".part"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", err
	}
	return local, os.Rename(tmp, local)
}

// PlanSHA256 is the SHA-256 of p's plan file as this replica can read it.
func (x *Jobs) PlanSHA256(ctx context.Context, p records.Plan) (string, error) {
	file, err := x.PlanFileOf(ctx, p)
	if err != nil {
		return "", err
	}
	return FileSHA256(file)
}

// DropSharedPlan removes a discarded plan's file from the store.
func (x *Jobs) DropSharedPlan(ctx context.Context, p records.Plan) {
	if !x.shared() || p.File == "" {
		return
	}
	if err := x.cfg.Store.DeleteRecord(ctx, bucketPlanFiles, filepath.Base(p.File)); err != nil {
		x.log.Warn("discard a shared plan file", "err", err)
	}
	_ = os.Remove(filepath.Join(x.cfg.DataDir, "plans", filepath.Base(p.File)))
}
