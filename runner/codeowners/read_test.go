package codeowners

import (
	"context"
	"errors"
	"testing"

	"github.com/atollhq/atoll/vcs"
)

// files is a repository at one ref: path -> content; a missing path is
// vcs.ErrNotFound, a path in broken fails otherwise.
type files struct {
	at     map[string]string
	broken string
}

func (f files) ReadFile(_ context.Context, _ vcs.Repo, _, path string) ([]byte, error) {
	if path == f.broken {
		return nil, errors.New("server error")
	}
	s, ok := f.at[path]
	if !ok {
		return nil, vcs.ErrNotFound
	}
	return []byte(s), nil
}

func TestReadUsesTheFirstFileGitHubWould(t *testing.T) {
	ctx := context.Background()
	repo := vcs.Repo{Owner: "acme", Name: "infra"}
	tests := []struct {
		name     string
		repo     files
		wantFile string // "" : none
		wantErr  bool
	}{
		{"none", files{}, "", false},
		{".github first", files{at: map[string]string{"CODEOWNERS": "* @a\n", ".github/CODEOWNERS": "* @b\n"}}, ".github/CODEOWNERS", false},
		{"root before docs", files{at: map[string]string{"CODEOWNERS": "* @a\n", "docs/CODEOWNERS": "* @b\n"}}, "CODEOWNERS", false},
		{"docs last", files{at: map[string]string{"docs/CODEOWNERS": "* @b\n"}}, "docs/CODEOWNERS", false},
		{"an unreadable file is an error, not none", files{broken: ".github/CODEOWNERS", at: map[string]string{"CODEOWNERS": "* @a\n"}}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			co, err := Read(ctx, tc.repo, repo, "0123456789abcdef")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			switch {
			case tc.wantFile == "" && co != nil:
				t.Errorf("read %s, want none", co.File)
			case tc.wantFile != "" && (co == nil || co.File != tc.wantFile || len(co.Rules) != 1):
				t.Errorf("read %+v, want %s with its rule", co, tc.wantFile)
			}
		})
	}
}
