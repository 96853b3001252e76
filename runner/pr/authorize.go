package pr

import (
	"context"
	"fmt"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Authorizer is what deciding who may run a comment command asks of the
// code host: a user's permission on the repository and team membership.
type Authorizer interface {
	UserPermission(ctx context.Context, repo vcs.Repo, user string) (vcs.Permission, error)
	facts.TeamAsker
}

// PermissionFor is who may run command under perms: its entry, else
// write permission.
func PermissionFor(perms config.Permissions, command string) config.CommandPermission {
	if p, ok := perms.For(command); ok && p.Permission != "" {
		return p
	}
	return config.CommandPermission{Permission: vcs.PermissionWrite}
}

// Lacks is what user lacks to run command on repo under perms: nil when
// nothing; else the permission they lack (and have), or the teams of
// which they are in none. An error is the code host's, when it could not
// tell.
func Lacks(ctx context.Context, host Authorizer, perms config.Permissions, repo vcs.Repo, user, command string) (*templates.Need, error) {
	need := PermissionFor(perms, command)
	perm, err := host.UserPermission(ctx, repo, user)
	if err != nil {
		return nil, fmt.Errorf("permission of %s: %w", user, err)
	}
	if !perm.AtLeast(need.Permission) {
		return &templates.Need{Permission: string(need.Permission), Repo: repo.FullName(), Have: string(perm)}, nil
	}
	if len(need.Teams) == 0 {
		return nil, nil
	}
	member, err := facts.MemberOfAny(ctx, host, repo, user, need.Teams)
	if member {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &templates.Need{Teams: need.Teams}, nil
}
