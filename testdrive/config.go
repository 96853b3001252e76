package testdrive

import (
	"os"
	"path/filepath"
)

// MergeConfig merges over into base, recursively for maps: how a server
// config given to `atoll testdrive --server-config` (or a test's overlay)
// is laid over the testdrive defaults.
func MergeConfig(base, over map[string]any) {
	for k, v := range over {
		if bm, ok := base[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				MergeConfig(bm, om)
				continue
			}
		}
		base[k] = v
	}
}

// ToolsCLIConfig is the terraform CLI config `make tools` writes, which
// points terraform at the local provider mirror ($ATOLL_TOOLS_DIR, default
// ~/.cache/atoll/tools); "" when there is none.
func ToolsCLIConfig() string {
	dir := os.Getenv("ATOLL_TOOLS_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "atoll", "tools")
	}
	rc := filepath.Join(dir, "terraformrc")
	if _, err := os.Stat(rc); err != nil {
		return ""
	}
	return rc
}
