# syntax=docker/dockerfile:1
#
# atoll in a container: one binary, git, CA certificates, a non-root user.
# Terraform is not baked in by default: atoll installs the version each
# project asks for with hc-install into its data dir at run time (point
# `terraform.releases_url` at an internal mirror on air-gapped sites).
# To bake one in, build with --build-arg TERRAFORM_VERSION=1.5.7.
#
# terraform runs in atoll's Landlock sandbox (server config `sandbox`, see
# the README's security model): it needs no privilege, capability or
# device, only a host kernel with Landlock enabled and a seccomp profile
# that allows the landlock_* system calls (the default profiles of current
# Docker, containerd and Podman do). Check with `GET /healthz`, which says
# `sandbox: landlock (ABI N)`. Keep atoll's config and secret files in
# /etc/atoll (mounted read-only): the sandbox hides that directory from
# terraform, and a provider's credential files must be listed in
# `sandbox_read_paths`.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/atoll ./cmd/atoll

# Optional: bake a terraform binary in, built from source with the same Go
# toolchain (no download from outside the module proxy).
FROM build AS terraform
ARG TERRAFORM_VERSION=""
RUN mkdir -p /out/tf && if [ -n "${TERRAFORM_VERSION}" ]; then \
      GOBIN=/out/tf go install "github.com/hashicorp/terraform@v${TERRAFORM_VERSION}"; \
    fi

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/atoll --uid 10001 atoll \
 && mkdir -p /var/lib/atoll && chown atoll:atoll /var/lib/atoll
COPY --from=build /out/atoll /usr/local/bin/atoll
COPY --from=terraform /out/tf/ /usr/local/bin/
USER atoll
ENV ATOLL_DATA_DIR=/var/lib/atoll
VOLUME /var/lib/atoll
EXPOSE 4141
ENTRYPOINT ["/usr/local/bin/atoll"]
CMD ["server", "--config", "/etc/atoll/config.yaml"]
