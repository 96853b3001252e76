package terraform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-exec/tfexec"
)

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

// SelectWorkspace selects the workspace name, creating it when it does not
// exist (after Init, since workspaces live in the backend), with
// terraform-exec: "workspace list", then nothing when name is already
// selected, "workspace select" when it exists, "workspace new" (which
// selects too) when not. Unlike "select -or-create" (Terraform 1.4+) this
// works with every Terraform and OpenTofu version, and a select that
// fails for another reason (an unreachable backend) never leads to a new
// workspace.
func (w *Workdir) SelectWorkspace(ctx context.Context, name string) error {
	if err := checkWorkspaceName(name); err != nil {
		return fmt.Errorf("%s workspace select: %w", w.binName(), err)
	}
	release, err := w.acquire(ctx, "workspace list")
	if err != nil {
		return err
	}
	defer release()
	var names []string
	var current string
	err = w.run(ctx, "workspace list", io.Discard, func(ctx context.Context, tf *tfexec.Terraform) error {
		var err error
		names, current, err = tf.WorkspaceList(ctx)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("workspace %q could not be selected: %w", name, err)
	case current == name:
		return nil
	case slices.Contains(names, name):
		return w.run(ctx, "workspace select", nil, func(ctx context.Context, tf *tfexec.Terraform) error {
			return tf.WorkspaceSelect(ctx, name)
		})
	}
	return w.run(ctx, "workspace new", nil, func(ctx context.Context, tf *tfexec.Terraform) error {
		return tf.WorkspaceNew(ctx, name)
	})
}
