// Package toolscache finds what `make tools` (scripts/tools.sh) installs
// into the tools cache, $ATOLL_TOOLS_DIR (default ~/.cache/atoll/tools):
// terraform, tofu, the provider mirror and its CLI config, and GitHub's
// published descriptions of its REST API and webhooks, which the tests
// check atoll and the emulator against.
//
// GitHub's descriptions come from pinned npm packages (scripts/npm's
// package-lock.json): @octokit/openapi (the REST API's OpenAPI
// description), @octokit/webhooks-examples (example payloads) and
// @octokit/webhooks-schemas (the payloads' JSON schema). The functions
// that return them take a testing.TB and fail the test, naming the command
// to run, when the cache lacks them: a test never skips for want of them.
package toolscache

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// EnvVar names the tools cache's directory.
const EnvVar = "ATOLL_TOOLS_DIR"

// Dir is the tools cache: $ATOLL_TOOLS_DIR, or ~/.cache/atoll/tools.
func Dir() string {
	if d := os.Getenv(EnvVar); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "atoll", "tools")
}

// CLIConfig is the terraform CLI config `make tools` writes, which points
// terraform at the local provider mirror; "" when there is none.
func CLIConfig() string {
	rc := filepath.Join(Dir(), "terraformrc")
	if _, err := os.Stat(rc); err != nil {
		return ""
	}
	return rc
}

// npmPackage is where npm installed package name in the tools cache.
func npmPackage(name string) string {
	return filepath.Join(Dir(), "npm", "node_modules", "@octokit", name)
}

// required returns path, or fails t with the command that installs it.
func required(t testing.TB, path, what string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the tools cache (%s=%s) lacks %s (%s): run `make tools`", EnvVar, Dir(), what, path)
	}
	return path
}

// OpenAPIFile is GitHub's OpenAPI description of the REST API for
// github.com (@octokit/openapi, generated/api.github.com.json); t fails
// when it is missing.
func OpenAPIFile(t testing.TB) string {
	t.Helper()
	return required(t, filepath.Join(npmPackage("openapi"), "generated", "api.github.com.json"), "GitHub's OpenAPI description")
}

// BrowserDriver is the directory holding node_modules/playwright-core,
// installed from testdrive/browser; t fails when it is missing.
func BrowserDriver(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Dir(), "browser")
	required(t, filepath.Join(dir, "node_modules", "playwright-core", "package.json"), "playwright-core")
	return dir
}

// WebhookSchemaFile is the JSON schema of every webhook payload
// (@octokit/webhooks-schemas, schema.json); t fails when it is missing.
func WebhookSchemaFile(t testing.TB) string {
	t.Helper()
	return required(t, filepath.Join(npmPackage("webhooks-schemas"), "schema.json"), "GitHub's webhook schema")
}

// Example is one of GitHub's example webhook payloads.
type Example struct {
	// Name tells the examples of one event apart: the payload's action
	// (the event's name when it has none) and its place in the package's
	// list, as in "opened-3".
	Name string
	// Payload is the example's JSON, byte for byte as published.
	Payload []byte
}

var (
	examplesOnce sync.Once
	examples     map[string][]Example
	examplesErr  error
)

// WebhookExamples returns the example payloads for event from
// @octokit/webhooks-examples (api.github.com/index.json), in the package's
// order; t fails when the package is missing or has no example of event.
func WebhookExamples(t testing.TB, event string) []Example {
	t.Helper()
	path := required(t, filepath.Join(npmPackage("webhooks-examples"), "api.github.com", "index.json"), "GitHub's webhook examples")
	examplesOnce.Do(func() { examples, examplesErr = readExamples(path) })
	if examplesErr != nil {
		t.Fatalf("webhook examples: %v (run `make tools` to reinstall them)", examplesErr)
	}
	if len(examples[event]) == 0 {
		t.Fatalf("webhook examples (%s) have none for %s", path, event)
	}
	return examples[event]
}

// readExamples reads the package's index: a list of events, each with
// its example payloads.
func readExamples(path string) (map[string][]Example, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var index []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string][]Example{}
	for _, ev := range index {
		for i, raw := range ev.Examples {
			var head struct {
				Action any `json:"action"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, fmt.Errorf("%s: %s example %d: %w", path, ev.Name, i, err)
			}
			name, _ := head.Action.(string)
			if name == "" {
				name = ev.Name
			}
			out[ev.Name] = append(out[ev.Name], Example{Name: fmt.Sprintf("%s-%d", name, i), Payload: raw})
		}
	}
	return out, nil
}
