package execute

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// symlinkCheckout is a checkout whose pull request committed symlinks,
// and a directory outside it ("outside", standing for atoll's data dir or
// another repository's files) that atoll must never write into.
func symlinkCheckout(t *testing.T) (checkout, outside string) {
	t.Helper()
	base := t.TempDir()
	checkout, outside = filepath.Join(base, "checkout"), filepath.Join(base, "outside")
	for _, d := range []string{checkout, outside, filepath.Join(checkout, "real")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return checkout, outside
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("atoll wrote %s outside the checkout", filepath.Join(dir, e.Name()))
	}
}

// TestStateBackendRefusesProjectDirLeavingCheckout checks that a project
// dir that is, or lies under, a symlink to outside the checkout gets no
// backend override (nor workspace file) written through it, with an error
// naming why, for both the default and another workspace.
func TestStateBackendRefusesProjectDirLeavingCheckout(t *testing.T) {
	for _, tc := range []struct{ name, dir, ws string }{
		{"project dir is the symlink", "evil", "default"},
		{"a parent is the symlink", "up/proj", "default"},
		{"absolute symlink, other workspace", "abs", "staging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkout, outside := symlinkCheckout(t)
			if err := os.MkdirAll(filepath.Join(outside, "proj"), 0o755); err != nil {
				t.Fatal(err)
			}
			mustSymlink(t, "../outside", filepath.Join(checkout, "evil"))
			mustSymlink(t, "../outside", filepath.Join(checkout, "up"))
			mustSymlink(t, outside, filepath.Join(checkout, "abs"))
			r := &Jobs{cfg: withOpen(t, Deps{DataDir: t.TempDir()})}
			job := stateJob(tc.dir, tc.ws)
			_, err := r.ensureStateBackend(job, checkout, filepath.Join(checkout, tc.dir))
			if err == nil || !strings.Contains(err.Error(), "outside the repository") || !strings.Contains(err.Error(), tc.dir) {
				t.Fatalf("ensureStateBackend = %v, want an error naming %q as leading outside the repository", err, tc.dir)
			}
			if _, err := os.Stat(filepath.Join(outside, "proj", backendOverrideFile)); err == nil {
				t.Error("the override was written outside the checkout")
			}
			ents, _ := os.ReadDir(outside)
			for _, e := range ents {
				if e.Name() != "proj" {
					t.Errorf("atoll wrote %s outside the checkout", e.Name())
				}
			}
			assertEmptyDir(t, filepath.Join(outside, "proj"))
		})
	}
}

// TestStateBackendReplacesSymlinkedOverrideFile checks that a pull
// request committing zz_atoll_backend.tf (or .terraform/environment) as a
// symlink to a file outside the checkout does not get that file
// overwritten: the symlink is replaced by atoll's file.
func TestStateBackendReplacesSymlinkedOverrideFile(t *testing.T) {
	checkout, outside := symlinkCheckout(t)
	victim := filepath.Join(outside, "victim.tfstate")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(checkout, "real")
	mustSymlink(t, victim, filepath.Join(proj, backendOverrideFile))
	r := &Jobs{cfg: withOpen(t, Deps{DataDir: t.TempDir()})}
	if _, err := r.ensureStateBackend(stateJob("real", "default"), checkout, proj); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the file the symlink named was overwritten: %q", b)
	}
	fi, err := os.Lstat(filepath.Join(proj, backendOverrideFile))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the override is not a regular file in the project: %v %v", fi, err)
	}
}

// TestStateBackendFollowsSymlinkInsideCheckout checks that a project dir
// linked to another dir of the same checkout keeps working: the override
// lands in the linked dir, inside the checkout.
func TestStateBackendFollowsSymlinkInsideCheckout(t *testing.T) {
	checkout, outside := symlinkCheckout(t)
	mustSymlink(t, "real", filepath.Join(checkout, "alias"))
	r := &Jobs{cfg: withOpen(t, Deps{DataDir: t.TempDir()})}
	if _, err := r.ensureStateBackend(stateJob("alias", "staging"), checkout, filepath.Join(checkout, "alias")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(checkout, "real", backendOverrideFile)); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(checkout, "real", ".terraform", "environment")); err != nil || string(b) != "staging" {
		t.Fatalf("environment = %q, %v", b, err)
	}
	assertEmptyDir(t, outside)
}

// TestStageRunPlanFilesStayInCheckout checks the files atoll moves in and
// out of a workflow's project dir (PLANFILE): when a custom step swapped
// the project dir for a symlink out of the checkout, atoll neither writes
// the plan there nor reads a plan from there, and a PLANFILE that is a
// symlink to a file outside is replaced, never written through.
func TestStageRunPlanFilesStayInCheckout(t *testing.T) {
	checkout, outside := symlinkCheckout(t)
	tmp := t.TempDir()
	staged := filepath.Join(tmp, "staged.tfplan")
	if err := os.WriteFile(staged, []byte("plan"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The project dir "evil" leads out; a plan sits outside, as if the
	// custom step had written it there.
	mustSymlink(t, outside, filepath.Join(checkout, "evil"))
	if err := os.WriteFile(filepath.Join(outside, "atoll-j.tfplan"), []byte("not the plan"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &stageRun{root: checkout, planFile: filepath.Join(checkout, "evil", "atoll-j.tfplan")}
	if err := s.copyPlanIn(staged); err == nil {
		t.Error("copyPlanIn wrote through a project dir leading out of the checkout")
	}
	if err := s.takePlan(filepath.Join(tmp, "local.tfplan")); err == nil {
		t.Error("takePlan read a plan through a project dir leading out of the checkout")
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "atoll-j.tfplan")); string(b) != "not the plan" {
		t.Errorf("the file outside changed: %q", b)
	}
	// PLANFILE itself a symlink to a file outside.
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, victim, filepath.Join(checkout, "real", "atoll-j.tfplan"))
	s = &stageRun{root: checkout, planFile: filepath.Join(checkout, "real", "atoll-j.tfplan")}
	if err := s.copyPlanIn(staged); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("copyPlanIn wrote through PLANFILE's symlink: %q", b)
	}
	if err := s.takePlan(filepath.Join(tmp, "local.tfplan")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(tmp, "local.tfplan")); string(b) != "plan" {
		t.Fatalf("local plan = %q", b)
	}
}
