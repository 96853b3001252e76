package terraform

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// workspaceArgs is the argv (after the binary) of "workspace select" or
// "workspace new".
func workspaceArgs(sub, name string) ([]string, error) {
	if err := checkWorkspaceName(name); err != nil {
		return nil, err
	}
	return []string{"workspace", sub, "-no-color", name}, nil
}

// checkWorkspaceName refuses names terraform would take for a flag or a
// path.
func checkWorkspaceName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("empty workspace name")
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("workspace name %q must not start with '-'", name)
	case strings.ContainsAny(name, "/\\\x00\n"):
		return fmt.Errorf("workspace name %q must not contain slashes or control characters", name)
	}
	return nil
}

// workspaceCmd builds "workspace select NAME" or "workspace new NAME".
func (w *Workdir) workspaceCmd(ctx context.Context, sub, name string) (*exec.Cmd, error) {
	args, err := workspaceArgs(sub, name)
	if err != nil {
		return nil, fmt.Errorf("%s workspace %s: %w", w.binName(), sub, err)
	}
	return w.command(ctx, args...), nil
}

// SelectWorkspace selects the workspace name, creating it when it does not
// exist (after Init, since workspaces live in the backend). It runs
// "workspace select" and, if that fails, "workspace new"; it works with
// every Terraform and OpenTofu version, unlike "select -or-create"
// (Terraform 1.4+).
func (w *Workdir) SelectWorkspace(ctx context.Context, name string) error {
	sel, err := w.workspaceCmd(ctx, "select", name)
	if err != nil {
		return err
	}
	selErr := w.run(ctx, sel, "workspace select", nil)
	if selErr == nil || ctx.Err() != nil {
		return selErr
	}
	create, err := w.workspaceCmd(ctx, "new", name)
	if err != nil {
		return err
	}
	if err := w.run(ctx, create, "workspace new", nil); err != nil {
		return fmt.Errorf("workspace %q could neither be selected nor created: %w (select: %v)", name, err, selErr)
	}
	return nil
}
