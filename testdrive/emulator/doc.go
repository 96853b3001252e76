// Package emulator is a GitHub of our own for tests and the local demo.
// atoll's real GitHub client (go-github and ghinstallation) talks to it over
// real HTTP; nothing here reaches github.com.
//
// It serves:
//
//   - the REST subset atoll calls, at the root (as api.github.com) and
//     under /api/v3/ (as GitHub Enterprise Server), with GitHub's JSON
//     shapes, 404 for what is absent or not visible, 422 Validation Failed
//     bodies, Link pagination, x-ratelimit-* headers and X-GitHub-Request-Id
//     on every answer;
//   - GraphQL at POST /graphql and /api/graphql: minimizeComment,
//     unminimizeComment, node(id) for an IssueComment, rateLimit;
//   - GitHub App authentication: /app endpoints take only an RS256 JWT
//     signed by the App's key (iss the App id, exp at most ten minutes
//     after iat, 60 s of clock skew forgiven, checked against Config.Now);
//     POST /app/installations/{id}/access_tokens issues ghs_ tokens that
//     expire after Config.TokenTTL, narrowed as GitHub does by
//     repositories, repository_ids and permissions (a narrowed token
//     reaches only its repositories, REST and git, and cannot write
//     without a write permission; a narrowing beyond the installation or
//     the App's permissions is refused with 422); an unknown or expired token gets 401
//     Bad credentials; writes need a token of the repository's
//     installation, and are attributed to the App's bot user
//     "<slug>[bot]";
//   - webhooks for every action, signed with Config.WebhookSecret and
//     delivered asynchronously, in order per repository, to
//     Config.WebhookURL (or round-robin over Config.WebhookURLs, as a load
//     balancer before several replicas); like GitHub, a failed delivery is recorded and not
//     retried until someone asks for a redelivery (same X-GitHub-Delivery);
//   - git's smart HTTP protocol at /{owner}/{repo}.git through
//     `git http-backend` (fetch and clone; pushes are refused): anonymous
//     for public repositories, an installation token (basic auth user
//     x-access-token, or a bearer header) for private ones;
//   - GitHub's App manifest flow: POST /organizations/{org}/settings/apps/new
//     (the page where GitHub's user confirms; the emulator accepts at once
//     and redirects to the manifest's redirect_url with a code) and POST
//     /app-manifests/{code}/conversions, which makes the emulator's App the
//     manifest's, with a new id, key and secrets (manifest.go);
//   - a control API under /_testdrive/ (no authentication) that plays the
//     people: creating repositories, pushing commits, opening, reviewing,
//     merging and closing pull requests, commenting, granting permissions,
//     adding and removing team members, listing, redelivering, replaying
//     (same body, new delivery id), pausing and resuming webhooks, and
//     forcing rate-limit failures. Control is its Go client.
//
// Every repository belongs to an organization that has the App installed
// (one installation per owner); users exist from their first mention.
// Repositories are public unless created private. Unknown users have read
// on public repositories and none on private ones; the organization itself
// is admin.
//
// State lives in memory, except the repositories, which are real bare git
// repositories under Config.DataDir: commits are real (git fast-import),
// pull requests get refs/pull/N/head, merges are real merge commits (git
// merge-tree), and mergeable / mergeable_state are computed from git.
//
// The package's own tests validate every REST response against GitHub's
// OpenAPI description and every webhook payload against GitHub's webhook
// JSON schemas, both from GitHub's npm packages in the tools cache
// (package testdrive/toolscache).
package emulator
