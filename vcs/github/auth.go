package github

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	jwt "github.com/golang-jwt/jwt/v4"
	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// tokenMinLife is the least lifetime a token handed out by Token has left:
// a token closer to expiry is replaced first, so a git fetch started with it
// does not fail half way.
const tokenMinLife = 5 * time.Minute

// jwtSigner signs the App JWT with the Client's clock: iat one minute in
// the past (clock drift), exp nine minutes ahead (GitHub allows ten).
// It implements ghinstallation.Signer and ignores the claims it is given.
type jwtSigner struct {
	key *rsa.PrivateKey
	iss string
	now func() time.Time
}

func newJWTSigner(pemKey []byte, appID int64, now func() time.Time) (*jwtSigner, error) {
	key, err := jwt.ParseRSAPrivateKeyFromPEM(pemKey)
	if err != nil {
		return nil, fmt.Errorf("github: parse App private key: %w", err)
	}
	return &jwtSigner{key: key, iss: strconv.FormatInt(appID, 10), now: now}, nil
}

// Sign implements ghinstallation.Signer.
func (s *jwtSigner) Sign(jwt.Claims) (string, error) {
	now := s.now()
	claims := jwt.RegisteredClaims{
		Issuer:    s.iss,
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.key)
}

// installation holds one installation's token transport and go-github
// clients. It is itself the http.RoundTripper under those clients: it sends
// through the current ghinstallation transport and, when GitHub answers 401
// (the token expired or was revoked early), replaces the transport, which
// fetches a new token, and replays the request once.
type installation struct {
	id   int64
	c    *Client
	rl   *rateLimitTransport
	rest *restClients
	http *http.Client // for GraphQL, same transport chain

	mu        sync.Mutex
	tr        *ghinstallation.Transport
	lastToken string                               // the last token handed to Config.Secret
	git       map[string]*ghinstallation.Transport // by repository name: narrowed git tokens
}

func (c *Client) installation(id int64) (*installation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in, ok := c.insts[id]; ok {
		return in, nil
	}
	in := &installation{id: id, c: c, rl: c.newRateLimiter("installation " + strconv.FormatInt(id, 10))}
	if _, err := in.renew(nil); err != nil {
		return nil, err
	}
	var err error
	if in.rest, err = c.newRESTClients(in); err != nil {
		return nil, err
	}
	in.http = &http.Client{Transport: in}
	c.insts[id] = in
	return in, nil
}

// api returns a go-github client with the installation's token, for one
// request (see restClients).
func (in *installation) api() *gh.Client {
	return in.rest.client()
}

// do sends one request that no go-github method models (path relative to
// the API URL, body encoded as JSON) and decodes the answer into out
// (nil: the answer is dropped). Errors are go-github's.
func (in *installation) do(ctx context.Context, method, path string, body, out any) error {
	g := in.api()
	req, err := g.NewRequest(method, path, body)
	if err != nil {
		return err
	}
	_, err = g.Do(ctx, req, out)
	return err
}

// current returns the transport in use.
func (in *installation) current() *ghinstallation.Transport {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.tr
}

// renew replaces the transport (and so the token) unless another caller
// already replaced old, and returns the transport to use.
func (in *installation) renew(old *ghinstallation.Transport) (*ghinstallation.Transport, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.tr != old {
		return in.tr, nil
	}
	atr, err := in.c.newAppsTransport(in.rl)
	if err != nil {
		return nil, err
	}
	in.tr = ghinstallation.NewFromAppsTransport(atr, in.id)
	// Without options ghinstallation posts the body "null", which GitHub's
	// description does not allow; "{}" asks for the same token.
	setEmpty(&in.tr.InstallationTokenOptions)
	return in.tr, nil
}

// setEmpty points *p at a new zero T. It exists for ghinstallation's
// InstallationTokenOptions, whose type is go-github v88's (ghinstallation's
// own dependency), not the v60 this package uses: T is inferred from the
// field, so this package names no v88 type and does not import v88.
func setEmpty[T any](p **T) {
	*p = new(T)
}

// RoundTrip implements http.RoundTripper.
func (in *installation) RoundTrip(req *http.Request) (*http.Response, error) {
	tr := in.current()
	in.noteToken(req.Context(), tr)
	replay := req.Body == nil || req.GetBody != nil
	resp, err := tr.RoundTrip(req)
	if err != nil {
		in.checkGone(err)
		return nil, err
	}
	if resp.StatusCode != http.StatusUnauthorized || !replay {
		return resp, nil
	}
	in.c.log.Info("installation token rejected, fetching a new one", "installation", in.id, "path", req.URL.Path)
	retry, err := cloneRequest(req)
	if err != nil {
		return resp, nil
	}
	fresh, err := in.renew(tr)
	if err != nil {
		return resp, nil
	}
	drain(resp)
	in.noteToken(retry.Context(), fresh)
	resp, err = fresh.RoundTrip(retry)
	if err != nil {
		in.checkGone(err)
	}
	return resp, err
}

// noteToken mints (or reuses) tr's token before a request goes out with
// it and hands a token not seen before to Config.Secret, so that it is
// masked before anything could echo it. Errors are left to RoundTrip.
func (in *installation) noteToken(ctx context.Context, tr *ghinstallation.Transport) {
	tok, err := tr.Token(ctx)
	if err != nil || tok == "" {
		return
	}
	in.mu.Lock()
	seen := in.lastToken == tok
	in.lastToken = tok
	in.mu.Unlock()
	if !seen {
		in.c.secret(tok)
	}
}

// checkGone forgets an installation whose token GitHub will not issue
// because it no longer exists (404), so the next call resolves again.
func (in *installation) checkGone(err error) {
	var he *ghinstallation.HTTPError
	if errors.As(err, &he) && he.Response != nil && he.Response.StatusCode == http.StatusNotFound {
		in.c.forgetInstallation(in.id)
	}
}

func (c *Client) forgetInstallation(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.insts, id)
	for k, v := range c.repoInst {
		if v == id {
			delete(c.repoInst, k)
		}
	}
	c.log.Info("installation is gone", "installation", id)
}

// gitTokenOptions narrow a git token: one repository, contents read, as
// GitHub's POST /app/installations/{id}/access_tokens takes them.
func gitTokenOptions(repo string) ([]byte, error) {
	return json.Marshal(map[string]any{"repositories": []string{repo}, "permissions": map[string]string{"contents": "read"}})
}

// gitTransport returns the transport minting repo's narrowed git tokens,
// making one when there is none or when the current one is old (a
// transport to replace); a transport another caller already replaced is
// returned as it is.
func (in *installation) gitTransport(repo string, old *ghinstallation.Transport) (*ghinstallation.Transport, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if cur := in.git[repo]; cur != nil && cur != old {
		return cur, nil
	}
	atr, err := in.c.newAppsTransport(in.rl)
	if err != nil {
		return nil, err
	}
	tr := ghinstallation.NewFromAppsTransport(atr, in.id)
	opts, err := gitTokenOptions(repo)
	if err != nil {
		return nil, err
	}
	if err := setJSON(&tr.InstallationTokenOptions, opts); err != nil {
		return nil, fmt.Errorf("github: token options: %w", err)
	}
	if in.git == nil {
		in.git = map[string]*ghinstallation.Transport{}
	}
	in.git[repo] = tr
	return tr, nil
}

// gitToken returns a token for git fetches of repo, narrowed to that
// repository and contents: read, with at least tokenMinLife left when
// GitHub's token lifetime allows it.
func (in *installation) gitToken(ctx context.Context, repo string) (string, error) {
	tr, err := in.gitTransport(repo, nil)
	if err != nil {
		return "", err
	}
	tok, err := tr.Token(ctx)
	if err != nil {
		in.checkGone(err)
		return "", fmt.Errorf("installation %d token for %s: %w", in.id, repo, err)
	}
	if exp, _, err := tr.Expiry(); err == nil && exp.Sub(in.c.now()) < tokenMinLife {
		if tr, err = in.gitTransport(repo, tr); err != nil {
			return "", err
		}
		if tok, err = tr.Token(ctx); err != nil {
			return "", fmt.Errorf("installation %d token for %s: %w", in.id, repo, err)
		}
	}
	in.c.secret(tok)
	return tok, nil
}

// setJSON points *p at a new T decoded from data. Like setEmpty, it fills
// ghinstallation's InstallationTokenOptions without naming its go-github
// version's type.
func setJSON[T any](p **T, data []byte) error {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return err
	}
	*p = v
	return nil
}

// forRepo returns the installation serving repo: repo.InstallationID when
// set, else the cached answer, else GET /repos/{o}/{r}/installation.
func (c *Client) forRepo(ctx context.Context, repo vcs.Repo) (*installation, error) {
	if repo.Owner == "" || repo.Name == "" {
		return nil, fmt.Errorf("github: repository %q has no owner or name", repo.FullName())
	}
	id := repo.InstallationID
	key := repoKey(repo.Owner, repo.Name)
	if id == 0 {
		c.mu.Lock()
		id = c.repoInst[key]
		c.mu.Unlock()
	}
	if id == 0 {
		inst, _, err := c.appAPI().Apps.FindRepositoryInstallation(ctx, repo.Owner, repo.Name)
		if err != nil {
			return nil, wrapErr("find installation of "+repo.FullName(), err)
		}
		id = inst.GetID()
		if id == 0 {
			return nil, fmt.Errorf("find installation of %s: no id in answer", repo.FullName())
		}
	}
	c.mu.Lock()
	c.repoInst[key] = id
	c.mu.Unlock()
	return c.installation(id)
}

// Token returns a token for git fetches of repo over HTTPS (user
// "x-access-token"): an installation token of the installation serving
// repo, narrowed to that one repository and to contents: read, so a token
// that leaks from a job reads one repository and writes nothing. Tokens
// are cached per repository and replaced before they expire; the token
// returned has at least five minutes left unless GitHub issues
// shorter-lived ones.
func (c *Client) Token(ctx context.Context, repo vcs.Repo) (string, error) {
	in, err := c.forRepo(ctx, repo)
	if err != nil {
		return "", err
	}
	return in.gitToken(ctx, repo.Name)
}

// AppSlug returns the App's slug (GET /app). The App's bot user is
// slug + "[bot]". The answer is cached.
func (c *Client) AppSlug(ctx context.Context) (string, error) {
	c.mu.Lock()
	slug := c.slug
	c.mu.Unlock()
	if slug != "" {
		return slug, nil
	}
	app, _, err := c.appAPI().Apps.Get(ctx, "")
	if err != nil {
		return "", wrapErr("get app", err)
	}
	if app.GetSlug() == "" {
		return "", errors.New("get app: answer has no slug")
	}
	c.mu.Lock()
	c.slug = app.GetSlug()
	c.mu.Unlock()
	return app.GetSlug(), nil
}

// ListInstallations returns the id of every installation of the App.
func (c *Client) ListInstallations(ctx context.Context) ([]int64, error) {
	insts, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.Installation, *gh.Response, error) {
		return c.appAPI().Apps.ListInstallations(ctx, &o)
	})
	if err != nil {
		return nil, wrapErr("list installations", err)
	}
	ids := make([]int64, 0, len(insts))
	for _, in := range insts {
		ids = append(ids, in.GetID())
	}
	return ids, nil
}

// ListInstallationRepos returns the repositories an installation can see,
// each with InstallationID set; it also fills the repository-to-installation
// cache.
func (c *Client) ListInstallationRepos(ctx context.Context, installationID int64) ([]vcs.Repo, error) {
	in, err := c.installation(installationID)
	if err != nil {
		return nil, err
	}
	ghRepos, err := paginate(ctx, func(o gh.ListOptions) ([]*gh.Repository, *gh.Response, error) {
		l, resp, err := in.api().Apps.ListRepos(ctx, &o)
		if l == nil {
			return nil, resp, err
		}
		return l.Repositories, resp, err
	})
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("list repositories of installation %d", installationID), err)
	}
	repos := make([]vcs.Repo, 0, len(ghRepos))
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range ghRepos {
		vr := toRepo(r)
		vr.InstallationID = installationID
		c.repoInst[repoKey(vr.Owner, vr.Name)] = installationID
		repos = append(repos, vr)
	}
	return repos, nil
}
