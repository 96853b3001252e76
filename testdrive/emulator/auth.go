package emulator

import (
	"crypto/rand"
	"errors"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// JWT rules of GitHub Apps: RS256, iss the App id, exp at most ten minutes
// after iat, and a little clock skew forgiven.
const (
	jwtMaxLifetime = 10 * time.Minute
	jwtClockSkew   = 60 * time.Second
)

// errBadCredentials is GitHub's answer to an unknown or expired credential.
var errBadCredentials = errors.New("Bad credentials")

type callerKind int

const (
	anonymous callerKind = iota
	appJWT
	installationToken
	userToken // a user's token: from the OAuth web flow, or a personal access token (see Server.UserToken)
)

// caller is who made a request.
type caller struct {
	kind  callerKind
	inst  *installation // installationToken only
	user  *user         // userToken only
	token string
	tok   *token // installationToken only
}

// owns reports whether the caller holds an installation token that
// reaches rp: one of rp's installation, not narrowed to other
// repositories.
func (c caller) owns(rp *repo) bool {
	return rp != nil && c.kind == installationToken && c.inst == rp.owner.inst &&
		(c.tok == nil || c.tok.repos == nil || c.tok.repos[rp.id])
}

// writes reports whether the caller's token may write: a token narrowed
// to read permissions (contents: read, for git fetches) may not.
func (c caller) writes() bool {
	if c.tok == nil || c.tok.perms == nil {
		return true
	}
	for _, level := range c.tok.perms {
		if level == "write" || level == "admin" {
			return true
		}
	}
	return false
}

// authenticate reads the Authorization header. No header is anonymous; a
// bad JWT or an unknown or expired token is an error (401).
func (s *Server) authenticate(r *http.Request) (caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return caller{}, nil
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer", "token":
	case "basic":
		_, pass, ok := r.BasicAuth()
		if !ok {
			return caller{}, errBadCredentials
		}
		cred = pass
	default:
		return caller{}, errBadCredentials
	}
	if strings.Count(cred, ".") == 2 {
		if err := s.checkJWT(cred); err != nil {
			return caller{}, err
		}
		return caller{kind: appJWT}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[cred]
	if !ok || (!t.expires.IsZero() && !s.now().Before(t.expires)) {
		return caller{}, errBadCredentials
	}
	if t.user != nil {
		return caller{kind: userToken, user: t.user, token: cred}, nil
	}
	return caller{kind: installationToken, inst: t.inst, token: cred, tok: t}, nil
}

// checkJWT validates an App JWT as GitHub does.
func (s *Server) checkJWT(raw string) error {
	claims := &jwt.RegisteredClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	_, err := p.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return s.ident().key, nil })
	if err != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	now := s.now()
	switch {
	case claims.IssuedAt == nil:
		return errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.")
	case claims.ExpiresAt == nil:
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.")
	case claims.IssuedAt.After(now.Add(jwtClockSkew)):
		return errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.")
	case claims.ExpiresAt.Sub(claims.IssuedAt.Time) > jwtMaxLifetime, claims.ExpiresAt.After(now.Add(jwtMaxLifetime + jwtClockSkew)):
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	case !claims.ExpiresAt.After(now.Add(-jwtClockSkew)):
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.")
	case claims.Issuer != strconv.FormatInt(s.ident().id, 10):
		return errors.New("'Issuer' claim ('iss') must be an Integer")
	}
	return nil
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newToken makes an installation token: "ghs_" and 76 random characters
// (longer than the classic 40, as GitHub's newer tokens are).
func newToken() string {
	b := make([]byte, 76)
	n := big.NewInt(int64(len(tokenAlphabet)))
	for i := range b {
		k, _ := rand.Int(rand.Reader, n)
		b[i] = tokenAlphabet[k.Int64()]
	}
	return "ghs_" + string(b)
}

// requireJWT sends 401 unless the caller is the App itself.
func requireJWT(w http.ResponseWriter, r *http.Request) bool {
	if callerOf(r).kind != appJWT {
		writeError(w, http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	return true
}

// requireToken sends 401 (403 for a JWT) unless the caller holds an
// installation token.
func requireToken(w http.ResponseWriter, r *http.Request) bool {
	switch callerOf(r).kind {
	case installationToken, userToken:
		return true
	case appJWT:
		writeError(w, http.StatusForbidden, "Resource not accessible by integration")
	default:
		writeError(w, http.StatusUnauthorized, "Requires authentication")
	}
	return false
}

// visibleRepo finds the repository of the request path and checks the
// caller may see it (write: and change it); otherwise it sends 404 (or
// 401/403 for writes) and returns nil. Callers hold s.mu.
func (s *Server) visibleRepo(w http.ResponseWriter, r *http.Request, write bool) *repo {
	rp := s.repoLocked(r.PathValue("owner"), r.PathValue("repo"))
	c := callerOf(r)
	if rp == nil || (rp.private && !s.canReadLocked(c, rp)) {
		notFound(w)
		return nil
	}
	if write && !s.canWriteLocked(c, rp) {
		if c.kind == anonymous {
			writeError(w, http.StatusUnauthorized, "Requires authentication")
		} else {
			writeError(w, http.StatusForbidden, "Resource not accessible by integration")
		}
		return nil
	}
	return rp
}

// canReadLocked says whether c may read the private repository rp: the
// installation that holds it, or a user with any role on it.
func (s *Server) canReadLocked(c caller, rp *repo) bool {
	switch c.kind {
	case installationToken:
		return c.owns(rp)
	case userToken:
		return s.permissionLocked(rp, c.user.login) != "none"
	}
	return false
}

// canWriteLocked says whether c may change rp: the installation that
// holds it, or a user with the write, maintain or admin role.
func (s *Server) canWriteLocked(c caller, rp *repo) bool {
	switch c.kind {
	case installationToken:
		return c.owns(rp) && c.writes()
	case userToken:
		role := s.permissionLocked(rp, c.user.login)
		return role == "write" || role == "maintain" || role == "admin"
	}
	return false
}

// actorOf is who a write through the REST API by r is attributed to: the
// App's bot user, or the owner of a personal access token.
func (s *Server) actorOf(r *http.Request) *user {
	if c := callerOf(r); c.kind == userToken {
		return c.user
	}
	return s.appUser
}

// UserToken makes a personal access token ("ghp_" and 36 characters, as
// GitHub's classic tokens) for the user login, created when missing, for
// a tool that acts as a bot user rather than as a GitHub App. The token
// never expires; it is accepted as "token", "Bearer" or Basic auth (as
// the password) on REST, GraphQL and git. The user reads and writes the
// repositories where it has a role (see the collaborators control call).
func (s *Server) UserToken(login string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(login)
	t := "ghp_" + newToken()[4:40]
	s.tokens[t] = &token{user: u}
	return t
}
