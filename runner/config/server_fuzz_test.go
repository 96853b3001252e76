package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadServer feeds LoadServer arbitrary server configuration files,
// with the webhook secret and the API token given in the environment.
// Either the file is refused with a non-empty *ValidationError whose text
// never shows those secrets, or the configuration validates and holds a
// webhook secret.
func FuzzLoadServer(f *testing.F) {
	for _, s := range []string{
		"github:\n  app_id: 42\n  private_key: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIBOgIBAAJBAKj3\n    -----END RSA PRIVATE KEY-----\n",
		"listen: 127.0.0.1:0\nworkers: 300\nreconcile_interval: -1s\ngithub: {app_id: 0}\n",
		"github: {app_id: 1, private_key: x}\nrepos: ['acme/*', '!acme/[']\napply_mode: sometimes\n",
		"drift: {enabled: true, schedule: '61 * * * *', jitter: 1h}\npermissions: {apply: {permission: root, teams: [x]}}\n",
		"policy_sets:\n  - name: sec\n    path: /nonexistent\n    owners: ['@a b']\nterraform: {env: {'1BAD': x}, secrets_env: [A-B], version: '>>1'}\n",
		"a: &a [*a, *a]\nb: &b [*a, *a]\nc: [*b, *b]\n",
		"github: {webhook_secret: x, webhook_secret_file: /nonexistent}\n",
		"workers: 99999999999999999999\nlog_level: [1]\nsummary_only: yes\n",
		"<<: {listen: ':1'}\nlisten: ':2'\n",
		"---\n---\n",
		"\t",
	} {
		f.Add(s)
	}
	const secret, token = "fuzz-webhook-secret-5e1f", "fuzz-api-token-77ab"
	env := envMap(map[string]string{"ATOLL_GITHUB_WEBHOOK_SECRET": secret, "ATOLL_API_TOKEN": token})
	path := filepath.Join(f.TempDir(), "server.yaml")
	f.Fuzz(func(t *testing.T, doc string) {
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := LoadServer(path, env, nil)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Errors) == 0 {
				t.Fatalf("error %v is not a non-empty *ValidationError", err)
			}
			for _, v := range []string{secret, token} {
				if strings.Contains(err.Error(), v) && !strings.Contains(doc, v) {
					t.Fatalf("error shows a secret: %v", err)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("loaded configuration does not validate: %v", err)
		}
		if s.GitHub.WebhookSecret == "" {
			t.Fatal("loaded configuration without a webhook secret")
		}
	})
}
