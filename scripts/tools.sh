#!/usr/bin/env bash
# tools.sh installs what atoll's tests and testdrive need into a cache
# outside the checkout, so that every clone and every CI run reuses it.
# What is present is never rebuilt.
#
#   scripts/tools.sh             everything the tests need (make tools, make test)
#   scripts/tools.sh testdrive   only what make testdrive needs: one terraform
#                                (none when a terraform or tofu 1.5+ is on PATH),
#                                the provider mirror and its CLI config
#
#   ATOLL_TOOLS_DIR   where to install (default ~/.cache/atoll/tools)
#
# Layout:
#   bin/terraform            Terraform 1.5.7, built from the Go module proxy
#   bin/tofu                 OpenTofu 1.10.6, likewise
#   mirror/<host>/hashicorp/local/<ver>/linux_amd64/terraform-provider-local_v<ver>
#                            for host registry.terraform.io and registry.opentofu.org
#   terraformrc              a CLI config whose provider_installation uses the mirror
#   npm/node_modules/@octokit/{openapi,webhooks-examples,webhooks-schemas}
#                            GitHub's REST and webhook descriptions, installed
#                            with `npm ci` from scripts/npm (pinned, integrity-checked)
#   (not in the cache) Debian's postgresql package, installed with apt-get when
#                            /usr/lib/postgresql/15/bin/initdb is missing (as root)
#   browser/node_modules/playwright-core
#                            what drives Chromium in the browser test, with `npm ci`
#                            from testdrive/browser, the same way
set -euo pipefail

TERRAFORM_VERSION=1.5.7
TOFU_VERSION=1.10.6
mode="${1:-all}"
case "$mode" in
  all | testdrive) ;;
  *) echo "usage: scripts/tools.sh [testdrive]" >&2; exit 2 ;;
esac
scripts="$(cd "$(dirname "$0")" && pwd)"
dir="${ATOLL_TOOLS_DIR:-$HOME/.cache/atoll/tools}"
mkdir -p "$dir/bin" "$dir/mirror"
bin="$dir/bin"
goos=$(go env GOOS)
goarch=$(go env GOARCH)
export GOFLAGS=-mod=mod
start=$SECONDS

log() { printf 'tools: %s\n' "$*" >&2; }

# modDir downloads a module and prints its directory in the module cache.
modDir() {
  go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# progress reads `go build -v` output (one line per package compiled) and
# shows how many of the build's $1 packages are done: on one updated line
# on a terminal, else a line every 10%. Everything read goes to $2, whose
# last lines are shown if the build fails.
progress() {
  local total=$1 logfile=$2 n=0 step=0 pct line
  ((total > 0)) || total=1
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%s\n' "$line" >>"$logfile"
    # Package paths outside the standard library start with a host name;
    # anything else is a download notice or a compiler message.
    [[ "$line" =~ ^[a-z0-9-]+\.[a-z0-9.-]+/[^[:space:]]*$ ]] || continue
    n=$((n + 1))
    pct=$((n * 100 / total))
    ((pct <= 99)) || pct=99
    if [ -t 2 ]; then
      printf '\rtools:   %2d%% (%d of %d packages)' "$pct" "$n" "$total" >&2
    elif ((pct / 10 > step)); then
      step=$((pct / 10))
      log "  $((step * 10))%"
    fi
  done
  [ -t 2 ] && printf '\r\033[K' >&2
  return 0
}

# gobuild DIR PKGDIR COMMAND... runs COMMAND (a `go build -v` or
# `go install -v`) in DIR, showing its progress over the packages that the
# main package in PKGDIR needs.
gobuild() {
  local wd=$1 pkgdir=$2 total logfile
  shift 2
  log "  fetching its modules"
  total=$(cd "$pkgdir" && GOFLAGS=-mod=readonly go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' . 2>/dev/null | grep -c . || true)
  log "  compiling $total packages"
  logfile=$(mktemp)
  if ! (cd "$wd" && "$@" 2>&1) | progress "$total" "$logfile"; then
    log "the build failed; its last lines:"
    tail -n 30 "$logfile" >&2
    rm -f "$logfile"
    exit 1
  fi
  rm -f "$logfile"
  log "  done ($((SECONDS - start))s so far)"
}

buildTerraform() {
  log "building terraform $TERRAFORM_VERSION from source: about 5 minutes on two cores"
  local src
  src=$(modDir "github.com/hashicorp/terraform@v$TERRAFORM_VERSION")
  [ -d "$src" ] || { log "could not download the terraform module"; exit 1; }
  gobuild "$PWD" "$src" env GOBIN="$bin.tmp.tf" go install -v "github.com/hashicorp/terraform@v$TERRAFORM_VERSION"
  mv "$bin.tmp.tf/terraform" "$bin/terraform" && rmdir "$bin.tmp.tf"
}

buildTofu() {
  log "building tofu $TOFU_VERSION from source: about 6 minutes on two cores"
  local src work
  src=$(modDir "github.com/opentofu/opentofu@v$TOFU_VERSION")
  [ -d "$src" ] || { log "could not download the opentofu module"; exit 1; }
  # Its go.mod has replace directives, so it cannot be `go install`ed: build
  # a writable copy.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  gobuild "$work" "$work/cmd/tofu" go build -v -o "$bin/tofu.tmp" ./cmd/tofu
  mv "$bin/tofu.tmp" "$bin/tofu"
  rm -rf "$work"
}

# usableOnPath prints the first of terraform and tofu on PATH (outside the
# cache) of version 1.5 or newer, as "NAME VERSION PATH"; fails if none.
usableOnPath() {
  local name path out major minor
  for name in terraform tofu; do
    path=$(command -v "$name" 2>/dev/null) || continue
    # The whole output, not `| head -n 1`: under pipefail, head closing the
    # pipe early would fail the pipeline.
    out=$(CHECKPOINT_DISABLE=1 timeout 30 "$path" version 2>/dev/null) || continue
    out=${out%%$'\n'*}
    [[ "$out" =~ v([0-9]+)\.([0-9]+)\.[0-9]+ ]] || continue
    major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
    if ((major > 1 || (major == 1 && minor >= 5))); then
      echo "$name ${out##* } $path"
      return 0
    fi
  done
  return 1
}

have_provider() {
  local d
  for d in "$dir"/mirror/registry.terraform.io/hashicorp/local/*/; do
    [[ "$(basename "$d")" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || continue
    ls "$d${goos}_${goarch}"/terraform-provider-local_v* >/dev/null 2>&1 && return 0
  done
  return 1
}

buildProvider() {
  rm -rf "$dir/mirror" && mkdir -p "$dir/mirror"
  log "building the hashicorp/local provider from source: about 2 minutes on two cores"
  # The module has no /v2 path, so @latest is a pseudo-version that Terraform
  # would treat as a pre-release and never select; the mirror is laid out
  # under the release the CHANGELOG names instead.
  local modver moddir ver host d
  modver=$(go list -m -json github.com/terraform-providers/terraform-provider-local@latest | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')
  [ -n "$modver" ] || { log "could not resolve the local provider's module version"; exit 1; }
  moddir=$(modDir "github.com/terraform-providers/terraform-provider-local@$modver")
  ver=$(sed -n 's/^## \([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' "$moddir/CHANGELOG.md")
  ver=${ver%%$'\n'*}
  [ -n "$ver" ] || { log "could not read the local provider's release from its CHANGELOG"; exit 1; }
  gobuild "$PWD" "$moddir" env GOBIN="$bin.tmp.local" go install -v "github.com/terraform-providers/terraform-provider-local@$modver"
  for host in registry.terraform.io registry.opentofu.org; do
    d="$dir/mirror/$host/hashicorp/local/$ver/${goos}_${goarch}"
    mkdir -p "$d"
    cp "$bin.tmp.local/terraform-provider-local" "$d/terraform-provider-local_v$ver"
  done
  rm -rf "$bin.tmp.local"
}

# haveGitHubDescriptions: GitHub's descriptions are installed, from the
# lock file in scripts/npm (they are installed again when it changes).
haveGitHubDescriptions() {
  [ -d "$dir/npm/node_modules/@octokit" ] && cmp -s "$scripts/npm/package-lock.json" "$dir/npm/package-lock.json"
}

installGitHubDescriptions() {
  local npmdir="$dir/npm"
  log "installing GitHub's API and webhook descriptions with npm ci: about 30 seconds"
  rm -rf "$npmdir" "$npmdir.tmp"
  mkdir -p "$npmdir.tmp"
  cp "$scripts/npm/package.json" "$scripts/npm/package-lock.json" "$npmdir.tmp/"
  # npm ci installs exactly the lock file's versions and checks each
  # tarball against the integrity hash recorded there.
  (cd "$npmdir.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  mv "$npmdir.tmp" "$npmdir"
}

# haveBrowserDriver: playwright-core is installed from the lock file in
# testdrive/browser (again when it changes). Chromium itself is Debian's
# (.ci/run installs it).
browser="$scripts/../testdrive/browser"
haveBrowserDriver() {
  [ -d "$dir/browser/node_modules/playwright-core" ] && cmp -s "$browser/package-lock.json" "$dir/browser/package-lock.json"
}

installBrowserDriver() {
  local npmdir="$dir/browser"
  log "installing playwright-core with npm ci"
  rm -rf "$npmdir" "$npmdir.tmp"
  mkdir -p "$npmdir.tmp"
  cp "$browser/package.json" "$browser/package-lock.json" "$npmdir.tmp/"
  (cd "$npmdir.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  mv "$npmdir.tmp" "$npmdir"
}

# PostgreSQL: the store's tests run a real server from Debian's postgresql
# package (testdrive/pgtest); ATOLL_PG_BIN points elsewhere if wanted.
pgbin="${ATOLL_PG_BIN:-/usr/lib/postgresql/15/bin}"
installPostgres() {
  if [ -x "$pgbin/initdb" ] && [ -x "$pgbin/postgres" ]; then return; fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "PostgreSQL 15 is missing ($pgbin): install Debian's postgresql package (apt-get install postgresql) as root, or set ATOLL_PG_BIN, then run make tools again"
    exit 1
  fi
  log "installing Debian's postgresql package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

if [ "$mode" = testdrive ]; then
  if [ -x "$bin/terraform" ] || [ -x "$bin/tofu" ]; then
    : # built before, first on make testdrive's PATH
  elif found=$(usableOnPath); then
    read -r name version path <<<"$found"
    log "using $name $version on PATH ($path)"
  else
    log "no terraform or tofu 1.5 or newer on PATH"
    buildTerraform
  fi
else
  # Without npm, fail now rather than after the long builds.
  if ! haveGitHubDescriptions && ! command -v npm >/dev/null; then
    log "npm is missing: install Node.js with npm (Debian, Ubuntu: apt-get install npm), then run make tools again"
    exit 1
  fi
  installPostgres
  [ -x "$bin/terraform" ] || buildTerraform
  [ -x "$bin/tofu" ] || buildTofu
fi

have_provider || buildProvider

cat > "$dir/terraformrc.tmp" <<RC
# Written by scripts/tools.sh: providers come from the local mirror only.
provider_installation {
  filesystem_mirror {
    path    = "$dir/mirror"
    include = ["registry.terraform.io/hashicorp/local", "registry.opentofu.org/hashicorp/local"]
  }
}
RC
mv "$dir/terraformrc.tmp" "$dir/terraformrc"

[ "$mode" = testdrive ] || haveGitHubDescriptions || installGitHubDescriptions
[ "$mode" = testdrive ] || haveBrowserDriver || installBrowserDriver
log "ready in $dir ($((SECONDS - start))s)"
