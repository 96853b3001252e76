package emulator

import (
	"net/http"
	"net/http/cgi"
	"strings"
)

// isGitPath reports whether p is under /{owner}/{repo}.git.
func isGitPath(p string) bool {
	seg := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	return len(seg) >= 2 && strings.HasSuffix(seg[1], ".git") && len(seg[1]) > len(".git")
}

// serveGit serves git's smart HTTP protocol (fetch and clone only) through
// `git http-backend`. Public repositories are readable by anyone; private
// ones need an installation token of their owner (basic auth with user
// x-access-token, or a bearer token).
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	seg := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	owner, name := seg[0], strings.TrimSuffix(seg[1], ".git")
	rest := ""
	if len(seg) == 3 {
		rest = seg[2]
	}
	if strings.Contains(rest, "git-receive-pack") || r.URL.Query().Get("service") == "git-receive-pack" {
		http.Error(w, "Pushes are not supported by the testdrive emulator.", http.StatusForbidden)
		return
	}
	c, authErr := s.gitCaller(r)
	s.mu.Lock()
	rp := s.repoLocked(owner, name)
	own := rp != nil && s.canReadLocked(c, rp)
	var dir string
	private := false
	if rp != nil {
		dir = strings.TrimPrefix(strings.TrimPrefix(rp.dir, s.cfg.DataDir), "/")
		private = rp.private
	}
	s.mu.Unlock()
	switch {
	case authErr != nil:
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "remote: Invalid username or password.", http.StatusUnauthorized)
		return
	case rp == nil || (private && c.kind == anonymous):
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "remote: Repository not found.", http.StatusUnauthorized)
		return
	case private && !own:
		http.Error(w, "remote: Repository not found.", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + dir + "/" + rest
	r2.URL.RawPath = ""
	h := &cgi.Handler{
		Path: s.git,
		Args: []string{"http-backend"},
		Env: append(gitEnv(),
			"GIT_PROJECT_ROOT="+s.cfg.DataDir,
			"GIT_HTTP_EXPORT_ALL=1",
		),
		InheritEnv: []string{"PATH"},
	}
	h.ServeHTTP(w, r2)
}

// gitCaller reads git's credentials: basic auth whose password is an
// installation token, or a bearer/token Authorization header.
func (s *Server) gitCaller(r *http.Request) (caller, error) {
	if r.Header.Get("Authorization") == "" {
		return caller{}, nil
	}
	c, err := s.authenticate(r)
	if err != nil {
		return caller{}, err
	}
	if c.kind == appJWT {
		return caller{}, errBadCredentials
	}
	return c, nil
}
