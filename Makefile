# atoll's build. The two commands a newcomer needs are `make testdrive` and
# `make test`; both install what they need first (scripts/tools.sh), once,
# into a cache outside the checkout that every later clone reuses.

SHELL := /bin/bash
export ATOLL_TOOLS_DIR ?= $(HOME)/.cache/atoll/tools
GO ?= go

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build tools test testdrive bench fuzz soak chaos fmt vet clean

all: build

## build: the atoll binary in ./bin/atoll
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/atoll ./cmd/atoll

## tools: terraform, tofu, the local provider mirror and GitHub's API and
## webhook descriptions (npm) in $(ATOLL_TOOLS_DIR)
tools:
	@bash scripts/tools.sh

## test: every test, including end-to-end tests with real terraform and tofu,
## and the Helm chart's (deploy/helm, a module of its own: Helm stays out of
## atoll's go.mod; -mod=mod there, so a dependency that atoll's go.mod moves
## does not leave the chart's module untidy and the build red).
## -count=1: the end-to-end tests run the atoll binary they build, which Go's
## test cache does not see, so a cached pass could hide a broken binary.
test: tools
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	PATH="$(ATOLL_TOOLS_DIR)/bin:$$PATH" $(GO) test -race -count=1 -timeout 25m ./...
	cd deploy/helm && GOFLAGS=-mod=mod $(GO) vet ./... && GOFLAGS=-mod=mod $(GO) test -count=1 ./...

## testdrive: the whole product, locally: emulator, server, demo repo, PR, plan, apply, drift.
## It needs one terraform: a terraform or tofu 1.5+ on PATH, else one built into the cache.
testdrive: build
	@bash scripts/tools.sh testdrive
	PATH="$(ATOLL_TOOLS_DIR)/bin:$$PATH" ./bin/atoll testdrive $(ARGS)

## chaos: kill the server at CHAOS_POINTS random points (default 24) and check
## the invariants after each; CHAOS_SEED replays a run (its seed is printed)
CHAOS_POINTS ?= 24
CHAOS_SEED ?= 0
chaos: tools
	PATH="$(ATOLL_TOOLS_DIR)/bin:$$PATH" $(GO) test -count=1 -v -timeout 90m -run '^TestChaos$$' ./testdrive/e2e/ \
	  -args -chaos.points=$(CHAOS_POINTS) -chaos.seed=$(CHAOS_SEED)

## bench: atoll measured end to end (emulator, real server, real terraform):
## one markdown table, rows P1-P8, printed and written to bin/bench.md
bench: tools build
	PATH="$(ATOLL_TOOLS_DIR)/bin:$$PATH" $(GO) run ./scripts/benchtable -atoll bin/atoll -out bin/bench.md

## fuzz: every fuzz target for FUZZTIME each (default 1m), one after another
## (go test -fuzz takes one target per run); `make test` runs their corpora
FUZZTIME ?= 1m
fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh

## soak: 1,000 webhooks a minute for SOAK_MINUTES (default 10) against the
## real server and the emulator, with real plans; prints memory and queue depth
SOAK_MINUTES ?= 10
soak: tools
	PATH="$(ATOLL_TOOLS_DIR)/bin:$$PATH" SOAK_MINUTES=$(SOAK_MINUTES) $(GO) test -tags soak -count=1 -v \
	  -run '^TestSoak$$' -timeout $$(( $(SOAK_MINUTES) + 30 ))m ./testdrive/e2e/

fmt:
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
