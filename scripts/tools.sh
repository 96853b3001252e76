#!/usr/bin/env bash
# tools.sh builds the toolchain atoll's tests need, from the Go module proxy
# alone, into a cache outside the checkout so that every clone and every CI
# run reuses it. Each tool is skipped when already present.
#
#   ATOLL_TOOLS_DIR   where to build (default ~/.cache/atoll/tools)
#
# Layout:
#   bin/terraform            Terraform 1.5.7
#   bin/tofu                 OpenTofu 1.10.6
#   mirror/<host>/hashicorp/local/<ver>/linux_amd64/terraform-provider-local_v<ver>
#                            for host registry.terraform.io and registry.opentofu.org
#   terraformrc              a CLI config whose provider_installation uses the mirror
set -euo pipefail

TERRAFORM_VERSION=1.5.7
TOFU_VERSION=1.10.6
dir="${ATOLL_TOOLS_DIR:-$HOME/.cache/atoll/tools}"
mkdir -p "$dir/bin" "$dir/mirror"
bin="$dir/bin"
goos=$(go env GOOS)
goarch=$(go env GOARCH)
export GOFLAGS=-mod=mod

log() { printf 'tools: %s\n' "$*" >&2; }

if [ ! -x "$bin/terraform" ]; then
  log "building terraform $TERRAFORM_VERSION (about 5 minutes on two cores)"
  GOBIN="$bin.tmp.tf" go install "github.com/hashicorp/terraform@v$TERRAFORM_VERSION"
  mv "$bin.tmp.tf/terraform" "$bin/terraform" && rmdir "$bin.tmp.tf"
fi

if [ ! -x "$bin/tofu" ]; then
  log "building tofu $TOFU_VERSION (about 5 minutes on two cores)"
  src=$(go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { log "could not download the opentofu module"; exit 1; }
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  (cd "$work" && go build -o "$bin/tofu.tmp" ./cmd/tofu)
  mv "$bin/tofu.tmp" "$bin/tofu"
fi

have_provider() {
  local d
  for d in "$dir"/mirror/registry.terraform.io/hashicorp/local/*/; do
    [[ "$(basename "$d")" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || continue
    ls "$d${goos}_${goarch}"/terraform-provider-local_v* >/dev/null 2>&1 && return 0
  done
  return 1
}

if ! have_provider; then
  rm -rf "$dir/mirror" && mkdir -p "$dir/mirror"
  log "building the hashicorp/local provider"
  # The module has no /v2 path, so @latest is a pseudo-version that Terraform
  # would treat as a pre-release and never select; the mirror is laid out
  # under the release the CHANGELOG names instead.
  modver=$(go list -m -json github.com/terraform-providers/terraform-provider-local@latest | sed -n 's/^[[:space:]]*"Version": "\(.*\)",$/\1/p')
  [ -n "$modver" ] || { log "could not resolve the local provider's module version"; exit 1; }
  moddir=$(go mod download -json "github.com/terraform-providers/terraform-provider-local@$modver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  ver=$(sed -n 's/^## \([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' "$moddir/CHANGELOG.md" | head -n 1)
  [ -n "$ver" ] || { log "could not read the local provider's release from its CHANGELOG"; exit 1; }
  GOBIN="$bin.tmp.local" go install "github.com/terraform-providers/terraform-provider-local@$modver"
  for host in registry.terraform.io registry.opentofu.org; do
    d="$dir/mirror/$host/hashicorp/local/$ver/${goos}_${goarch}"
    mkdir -p "$d"
    cp "$bin.tmp.local/terraform-provider-local" "$d/terraform-provider-local_v$ver"
  done
  rm -rf "$bin.tmp.local"
fi

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
log "ready in $dir"
