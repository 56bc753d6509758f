# execgate: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
BUILD := build
BIN := $(BUILD)/execgate
HELPER := $(BUILD)/execgate-sandbox
PATCHED_BASH := $(BUILD)/bash/bin/bash
NSEXEC := $(BUILD)/bash/bin/execgate-nsexec
PREFIX ?= $(HOME)/.local
# Where scripts/build-bash.sh puts the patched Bash, named on its command
# line: make exports a PREFIX given to it (`make install PREFIX=~/.local`),
# and the script would otherwise install bin/bash there, onto the PATH.
BASH_PREFIX := $(abspath $(BUILD)/bash)

.PHONY: all build bash run test vet staticcheck fmt-check test-go fuzz-smoke bench bench-workload install clean

all: build

# The version `go build` would stamp from git (scripts/version.sh), passed on
# so that it is there also where Go cannot stamp it (a git worktree,
# GOFLAGS=-buildvcs=false); serverInfo.version and `execgate version` show it.
VERSION := $(shell scripts/version.sh)
VERSION_LDFLAGS := $(if $(VERSION),-X github.com/execgate/execgate/internal/buildinfo.Version=$(VERSION))
# One value for the execgate and execgate-sandbox of one build: the server
# uses the helper only if it carries the same (internal/buildinfo.Pair).
PAIR := $(shell od -An -N8 -tx8 /dev/urandom | tr -d ' ')
PAIR_LDFLAGS := -X github.com/execgate/execgate/internal/buildinfo.Pair=$(PAIR)

# execgate is one plain Go program, the same on every architecture:
# `CGO_ENABLED=0 go build` makes the same binary (only the version stamp
# above may differ). It plays the server, the escalate reaper and, under the
# name codex-execve-wrapper (a symlink the server makes), the execve
# wrapper. Static (no cgo): a dynamically linked binary pays the ELF loader
# on every start, and the wrapper starts once per program.
#
# The project's C artifacts, the patched Bash and the namespace launcher
# execgate-nsexec (sandbox/nsexec/*.c), are built by scripts/build-bash.sh
# into build/bash/bin/, side by side: the server looks for the launcher
# next to the Bash it runs, then next to itself. It is every call's sandbox
# helper and supervisor: without it no call runs (doctor says so).
#
# execgate-sandbox (cmd/execgate-sandbox) is the escalate reaper alone: the
# same code, linked without the server's packages, so the reaper an
# escalated call starts costs about half the CPU. Built here beside
# execgate; without it (a plain `go build`) execgate plays that role too.
build:
	CGO_ENABLED=0 $(GO) build -ldflags='$(VERSION_LDFLAGS) $(PAIR_LDFLAGS)' -o $(BIN) .
	CGO_ENABLED=0 $(GO) build -ldflags='$(VERSION_LDFLAGS) $(PAIR_LDFLAGS)' -o $(HELPER) ./cmd/execgate-sandbox

# scripts/build-bash.sh is idempotent and cached by patch hash. make (and so
# CI) may install what the build needs (as root: apt-get, a deb-src entry);
# the build `go test` starts on demand never does.
bash:
	PREFIX=$(BASH_PREFIX) scripts/build-bash.sh --install-deps

$(PATCHED_BASH): scripts/build-bash.sh scripts/bash-exec-wrapper.patch $(wildcard scripts/bash/*)
	PREFIX=$(BASH_PREFIX) scripts/build-bash.sh --install-deps

# The Bash is cached, so this rebuilds only the launcher.
$(NSEXEC): $(wildcard sandbox/nsexec/*.c sandbox/nsexec/*.h) $(PATCHED_BASH)
	PREFIX=$(BASH_PREFIX) scripts/build-bash.sh --install-deps

run: $(PATCHED_BASH) $(NSEXEC) build
	EXECGATE_BASH=$(abspath $(PATCHED_BASH)) $(BIN) server

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

# staticcheck, pinned, installed from the Go module proxy into build/ on first
# use (a version directory per pin, so that a new pin installs anew).
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(BUILD)/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

$(STATICCHECK):
	GOBIN=$(abspath $(dir $(STATICCHECK))) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

test-go: $(PATCHED_BASH) $(NSEXEC)
	EXECGATE_TEST_BASH=$(abspath $(PATCHED_BASH)) $(GO) test -race -count=1 -timeout 30m ./...

# A fixed number of executions per fuzz target on top of the seed corpus the normal run already covers.
fuzz-smoke:
	scripts/fuzz-smoke.sh

test: fmt-check vet staticcheck test-go fuzz-smoke

bench: $(PATCHED_BASH) $(NSEXEC) build
	scripts/bench.sh

# ./configure of the Bash source, plain against under the server (minutes).
bench-workload: $(PATCHED_BASH) $(NSEXEC) build
	scripts/bench-workload.sh

install: $(PATCHED_BASH) $(NSEXEC) build
	scripts/install.sh "$(PREFIX)"

clean:
	rm -rf $(BUILD)
