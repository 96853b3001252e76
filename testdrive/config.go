package testdrive

import "github.com/atollhq/atoll/testdrive/toolscache"

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
	return toolscache.CLIConfig()
}
