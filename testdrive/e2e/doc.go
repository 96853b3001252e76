// Package e2e holds atoll's end-to-end tests: the GitHub emulator runs in
// the test process, atoll runs as its real binary in a child process (so a
// test can kill it with SIGKILL and start it again), terraform and tofu
// are the real ones, and every check reads GitHub's REST API the way a
// user would. The package has no code but its tests.
package e2e
