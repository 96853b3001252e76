package git

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// maxErrOutput caps the git output quoted in an error.
const maxErrOutput = 4000

// command is one git invocation, built as a value and run by run.
type command struct {
	dir  string   // working directory ("" : current)
	args []string // after "git"
	// token, when set, is sent as an HTTP Authorization header through
	// GIT_CONFIG_* environment variables: never in argv or a URL.
	token string
	// stdin, when set, is the command's standard input.
	stdin io.Reader
	// fixedDates, when set, gives a commit this command makes a fixed
	// author and committer date (mergeDate), so the commit depends only on
	// its parents, tree, identity and message.
	fixedDates bool
}

// mergeDate is the author and committer date of every merge commit atoll
// makes: with it, merging the same head into the same base gives the same
// commit on every replica, so an apply can check out the commit another
// replica planned by making the merge again.
const mergeDate = "@0 +0000"

// env returns the environment of a git command: the process's, without
// the variables that would redirect git or change the merge identity, plus
// no prompts, and the token's header when there is one.
func (c command) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "GIT_DIR", k == "GIT_WORK_TREE", k == "GIT_INDEX_FILE", k == "GIT_OBJECT_DIRECTORY",
			k == "GIT_ALTERNATE_OBJECT_DIRECTORIES", k == "GIT_CONFIG_PARAMETERS", k == "GIT_CONFIG_COUNT",
			k == "GIT_AUTHOR_NAME", k == "GIT_AUTHOR_EMAIL", k == "GIT_COMMITTER_NAME", k == "GIT_COMMITTER_EMAIL",
			k == "GIT_AUTHOR_DATE", k == "GIT_COMMITTER_DATE",
			strings.HasPrefix(k, "GIT_CONFIG_KEY_"), strings.HasPrefix(k, "GIT_CONFIG_VALUE_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	if c.fixedDates {
		env = append(env, "GIT_AUTHOR_DATE="+mergeDate, "GIT_COMMITTER_DATE="+mergeDate)
	}
	cfg := [][2]string{
		{"credential.helper", ""}, // no helper may answer (or store) for us
		{"core.askPass", ""},
		{"commit.gpgSign", "false"},
		{"tag.gpgSign", "false"},
	}
	if c.token != "" {
		cfg = append(cfg, [2]string{"http.extraHeader", authHeader(c.token)})
	}
	env = append(env, fmt.Sprintf("GIT_CONFIG_COUNT=%d", len(cfg)))
	for i, kv := range cfg {
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
	}
	return env
}

// authHeader is the HTTP header that authenticates git with an
// installation token (user x-access-token).
func authHeader(token string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
}

// exitError is a git command that ran and failed.
type exitError struct {
	args   string
	code   int
	output string
}

func (e *exitError) Error() string {
	if e.output == "" {
		return fmt.Sprintf("git %s: exit status %d", e.args, e.code)
	}
	return fmt.Sprintf("git %s: exit status %d: %s", e.args, e.code, e.output)
}

// exitCode returns the exit status of a failed git command, or -1.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return -1
}

// run runs c and returns its standard output. A failure's error quotes
// git's standard error, with the token and its encoded forms scrubbed.
func (m *Mirrors) run(ctx context.Context, c command) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", c.args...)
	cmd.Dir = c.dir
	cmd.Env = c.env()
	cmd.Stdin = c.stdin
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	args := scrub(strings.Join(c.args, " "), c.token)
	m.logger().Debug("git", "args", args, "dir", c.dir, "took", time.Since(start).Round(time.Millisecond).String(), "ok", err == nil)
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("git %s: %w", args, ctxErr)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return nil, fmt.Errorf("git %s: %s", args, scrub(err.Error(), c.token))
	}
	out := strings.TrimSpace(scrub(stderr.String(), c.token))
	if len(out) > maxErrOutput {
		out = out[:maxErrOutput] + "..."
	}
	return stdout.Bytes(), &exitError{args: args, code: ee.ExitCode(), output: out}
}

// scrub replaces the token, and the forms git could print it in, with
// "***".
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	forms := []string{
		token,
		base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token)),
		base64.StdEncoding.EncodeToString([]byte(token)),
	}
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "***")
	}
	return s
}
