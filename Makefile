# execgate: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
BUILD := build
BIN := $(BUILD)/execgate
PATCHED_BASH := $(BUILD)/bash/bin/bash
PREFIX ?= $(HOME)/.local
# Where scripts/build-bash.sh puts the patched Bash, named on its command
# line: make exports a PREFIX given to it (`make install PREFIX=~/.local`),
# and the script would otherwise install bin/bash there, onto the PATH.
BASH_PREFIX := $(abspath $(BUILD)/bash)

.PHONY: all build bash run test vet fmt-check test-go fuzz-smoke bench bench-workload install clean

all: build

LEAN_WRAPPER := internal/leanwrapper/wrapper.bin

# On linux/amd64 both binaries start at the wrapper's pre-runtime entry
# point, which records the inherited signal state so Run can hand it on
# exactly (wrapper/entry_linux_amd64.s).
ENTRY_LDFLAGS := $(if $(filter linux/amd64,$(shell $(GO) env GOOS)/$(shell $(GO) env GOARCH)),-E=github.com/execgate/execgate/wrapper.earlyEntry)

# The version `go build` would stamp from git (scripts/version.sh), passed on
# so that it is there also where Go cannot stamp it (a git worktree,
# GOFLAGS=-buildvcs=false); serverInfo.version and `execgate version` show it.
VERSION := $(shell scripts/version.sh)
VERSION_LDFLAGS := $(if $(VERSION),-X github.com/execgate/execgate/internal/buildinfo.Version=$(VERSION))

NSEXEC := internal/nsexecbin/execgate-nsexec
CC ?= cc

# The lean wrapper and the namespace launcher are embedded into execgate
# (see internal/leanwrapper and internal/nsexecbin). Static binaries (no
# cgo): a dynamically linked one pays the ELF loader on every start, and the
# wrapper starts once per program the agent runs, the launcher once per call.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w $(ENTRY_LDFLAGS)' -o $(LEAN_WRAPPER) ./internal/lean
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -s -o $(NSEXEC) sandbox/nsexec/nsexec.c
	CGO_ENABLED=0 $(GO) build -tags leanwrapper,nsexec -ldflags='$(ENTRY_LDFLAGS) $(VERSION_LDFLAGS)' -o $(BIN) .

# scripts/build-bash.sh is idempotent and cached by patch hash.
bash:
	PREFIX=$(BASH_PREFIX) scripts/build-bash.sh

$(PATCHED_BASH): scripts/build-bash.sh scripts/bash-exec-wrapper.patch
	PREFIX=$(BASH_PREFIX) scripts/build-bash.sh

run: $(PATCHED_BASH) build
	EXECGATE_BASH=$(abspath $(PATCHED_BASH)) $(BIN) server

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

test-go: $(PATCHED_BASH)
	EXECGATE_TEST_BASH=$(abspath $(PATCHED_BASH)) $(GO) test -race -count=1 -timeout 30m ./...

# A fixed number of executions per fuzz target on top of the seed corpus the normal run already covers.
fuzz-smoke:
	scripts/fuzz-smoke.sh

test: fmt-check vet test-go fuzz-smoke

bench: $(PATCHED_BASH) build
	scripts/bench.sh

# ./configure of the Bash source, plain against under the server (minutes).
bench-workload: $(PATCHED_BASH) build
	scripts/bench-workload.sh

install: $(PATCHED_BASH) build
	scripts/install.sh "$(PREFIX)"

clean:
	rm -rf $(BUILD)
