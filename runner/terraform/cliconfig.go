package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// cliConfigPathRE finds the directories a CLI configuration names:
// filesystem_mirror's path and plugin_cache_dir.
var cliConfigPathRE = regexp.MustCompile(`(?m)^\s*(?:path|plugin_cache_dir)\s*=\s*"([^"]+)"`)

// CLIConfigDirs returns the directories the CLI configuration file at
// path names for terraform to read providers from (filesystem_mirror
// paths and plugin_cache_dir), made absolute, for a sandbox to allow. It
// reads the file as text: attributes built by expressions are not seen.
func CLIConfigDirs(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("terraform: CLI config: %w", err)
	}
	var dirs []string
	for _, m := range cliConfigPathRE.FindAllStringSubmatch(string(data), -1) {
		d := m[1]
		if !filepath.IsAbs(d) {
			d = filepath.Join(filepath.Dir(path), d)
		}
		dirs = append(dirs, filepath.Clean(d))
	}
	return dirs, nil
}
