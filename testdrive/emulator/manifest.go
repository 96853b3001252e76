package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// appIdentity is the one GitHub App the emulator serves.
type appIdentity struct {
	id                      int64
	slug, name, description string
	homepage                string // the manifest's url
	key                     *rsa.PublicKey
	secret                  string // webhook secret
	clientID                string
	permissions             obj
	events                  []string
}

func (a *appIdentity) url(u urls) string {
	if a.homepage != "" {
		return a.homepage
	}
	return u.web + "/apps/" + a.slug
}

func (a *appIdentity) perms() obj {
	if a.permissions != nil {
		return a.permissions
	}
	return appPermissions
}

func (a *appIdentity) eventList() []string {
	if a.events != nil {
		return a.events
	}
	return appEvents
}

// ident is the App's identity now.
func (s *Server) ident() *appIdentity { return s.app.Load() }

// pendingManifest is a manifest posted to the new-App page, waiting for
// its code to be converted (GitHub: within an hour, once).
type pendingManifest struct {
	manifest appManifest
	owner    string
	expires  time.Time
}

// appManifest is the part of GitHub's App manifest the emulator reads.
type appManifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	Description    string `json:"description"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	CallbackURLs       []string          `json:"callback_urls"`
	SetupURL           string            `json:"setup_url"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

var manifestPage = regexp.MustCompile(`^/(?:organizations/[^/]+/)?settings/apps/new$`)

// handleNewAppFromManifest is GitHub's page for registering an App from a
// manifest: POST /organizations/{org}/settings/apps/new (or
// /settings/apps/new for a user) with the form field manifest and the
// query parameter state. Where GitHub asks its user to confirm the App's
// name, the emulator accepts at once: it keeps the manifest under a new
// code and redirects to the manifest's redirect_url with code and state.
func (s *Server) handleNewAppFromManifest(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the form")
		return
	}
	var m appManifest
	if err := json.Unmarshal([]byte(r.PostForm.Get("manifest")), &m); err != nil {
		writeError(w, http.StatusBadRequest, "the manifest field is not JSON: "+err.Error())
		return
	}
	redirect, err := url.Parse(m.RedirectURL)
	switch {
	case m.Name == "" || m.URL == "":
		writeError(w, http.StatusUnprocessableEntity, "the manifest needs name and url")
		return
	case err != nil || redirect.Scheme == "" || redirect.Host == "":
		writeError(w, http.StatusUnprocessableEntity, "the manifest needs an absolute redirect_url")
		return
	}
	owner := "atoll-testdrive"
	if parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/"); parts[0] == "organizations" {
		owner = parts[1]
	}
	var b [10]byte
	_, _ = rand.Read(b[:])
	code := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.manifests[code] = &pendingManifest{manifest: m, owner: owner, expires: s.now().Add(time.Hour)}
	s.mu.Unlock()
	q := redirect.Query()
	q.Set("code", code)
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// handleManifestConversion is POST /app-manifests/{code}/conversions: the
// App becomes the manifest's, with a new id, private key, webhook secret
// and client secret, and webhooks go to its hook URL. A code works once.
func (s *Server) handleManifestConversion(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	s.mu.Lock()
	p := s.manifests[code]
	delete(s.manifests, code)
	s.mu.Unlock()
	if p == nil || !s.now().Before(p.expires) {
		notFound(w)
		return
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	m := p.manifest
	perms := obj{"metadata": "read"}
	for k, v := range m.DefaultPermissions {
		perms[k] = v
	}
	events := append([]string{}, m.DefaultEvents...)
	if events == nil {
		events = []string{}
	}
	s.mu.Lock()
	app := &appIdentity{id: s.newID(), slug: slugOf(m.Name), name: m.Name, description: m.Description,
		homepage: m.URL, key: &key.PublicKey, secret: randomHex(20), clientID: "Iv1." + randomHex(8),
		permissions: perms, events: events}
	s.app.Store(app)
	s.appUser = s.userLocked(app.slug + "[bot]")
	s.appUser.typ = "Bot"
	s.appOwner = s.userLocked(p.owner)
	if m.HookAttributes.URL != "" && (m.HookAttributes.Active == nil || *m.HookAttributes.Active) {
		s.webhookURLs = nonEmpty([]string{m.HookAttributes.URL})
	}
	out := s.appJSON(urlsOf(r))
	s.mu.Unlock()
	out["client_id"] = app.clientID
	out["client_secret"] = randomHex(20)
	out["webhook_secret"] = app.secret
	out["pem"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	writeJSON(w, http.StatusCreated, out)
}

// slugOf is GitHub's slug of an App name: lower case, runs of other
// characters than letters and digits made one "-".
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
