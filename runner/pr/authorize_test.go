package pr_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// authHost answers permissions and team membership from maps.
type authHost struct {
	perms   map[string]vcs.Permission
	teams   map[string][]string // "org/slug" -> members
	failFor string              // UserPermission fails for this user
}

func (h authHost) UserPermission(_ context.Context, _ vcs.Repo, user string) (vcs.Permission, error) {
	if user == h.failFor {
		return "", errors.New("rate limited")
	}
	if p, ok := h.perms[user]; ok {
		return p, nil
	}
	return vcs.PermissionRead, nil
}

func (h authHost) IsTeamMember(_ context.Context, _ vcs.Repo, org, slug, user string) (bool, error) {
	return slices.Contains(h.teams[org+"/"+slug], user), nil
}

func TestLacks(t *testing.T) {
	host := authHost{
		perms:   map[string]vcs.Permission{"alice": vcs.PermissionWrite, "bob": vcs.PermissionAdmin, "carol": vcs.PermissionWrite},
		teams:   map[string][]string{"acme/sre": {"bob"}},
		failFor: "mallory",
	}
	perms := config.Permissions{Apply: config.CommandPermission{Permission: vcs.PermissionWrite, Teams: []string{"acme/sre"}}}
	repo := vcs.Repo{Owner: "acme", Name: "infra"}
	tests := []struct {
		name, user, command string
		want                *templates.Need
		wantErr             bool
	}{
		{"write may plan by default", "alice", "plan", nil, false},
		{"read may not plan", "dave", "plan", &templates.Need{Permission: "write", Repo: "acme/infra", Have: "read"}, false},
		{"a team member may apply", "bob", "apply", nil, false},
		{"write outside the team may not apply", "carol", "apply", &templates.Need{Teams: []string{"acme/sre"}}, false},
		{"the host cannot tell", "mallory", "plan", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pr.Lacks(context.Background(), host, perms, repo, tc.user, tc.command)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && (got.Permission != tc.want.Permission || got.Have != tc.want.Have ||
				got.Repo != tc.want.Repo || !slices.Equal(got.Teams, tc.want.Teams))) {
				t.Errorf("Lacks = %+v, want %+v", got, tc.want)
			}
		})
	}
}
