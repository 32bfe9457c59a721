# Release builds. "make release" writes to dist/ a static vigil binary for
# each platform, its build information (an SBOM: "go version -m", every module
# with its version and checksum) and SHA256SUMS. The same commit gives the
# same bytes whoever builds it, wherever and whenever: "make release-check"
# builds two clean clones in different directories, at different times, with
# different caches, home directories, umasks and time zones, and compares.
#
# Needs the Go toolchain that go.mod names (go1.26.8) and git; nothing else.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export LC_ALL := C

GO        ?= go
PLATFORMS := linux/amd64 linux/arm64
GOVERSION := go$(shell sed -n 's/^go //p' go.mod)
BINARIES  := $(foreach p,$(PLATFORMS),dist/vigil-$(subst /,-,$(p)))

# Everything that goes into the build info is fixed here, not taken from the
# environment: no cgo (static), no paths (-trimpath), no build ID, the VCS
# revision and commit time of the checkout (fixed per commit), the baseline
# instruction set of each architecture, the toolchain of go.mod and never a
# downloaded one, and no GOFLAGS from outside (CI sets -buildvcs=false).
RELEASE_ENV := CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local GOAMD64=v1 GOARM64=v8.0 GOEXPERIMENT= GODEBUG=
RELEASE_FLAGS := -trimpath -buildvcs=true -ldflags=-buildid=

.PHONY: release release-check clean check-toolchain

release: check-toolchain
	rm -rf dist
	mkdir -p dist
	$(MAKE) --no-print-directory $(BINARIES)
	cd dist && for b in vigil-linux-*; do case $$b in *.txt) continue;; esac; \
		$(GO) version -m $$b > $$b.sbom.txt; done
	cd dist && sha256sum vigil-linux-* > SHA256SUMS
	cat dist/SHA256SUMS

dist/vigil-linux-%: check-toolchain
	@mkdir -p dist
	$(RELEASE_ENV) GOOS=linux GOARCH=$* $(GO) build $(RELEASE_FLAGS) -o $@ ./cmd/vigil

check-toolchain:
	@test "$$(GOTOOLCHAIN=local $(GO) env GOVERSION)" = "$(GOVERSION)" || \
		{ echo "release builds need $(GOVERSION) (go.mod), not $$(GOTOOLCHAIN=local $(GO) env GOVERSION)"; exit 1; }
	@test -z "$$(git status --porcelain 2>/dev/null)" || echo "warning: uncommitted or untracked files: the build info says vcs.modified=true and the result matches no commit"

# Two clean clones of HEAD, built one after the other: the second in another
# directory, with another GOCACHE, HOME, umask and time zone, and a second or
# more later. The module cache is shared (read only, checked against go.sum);
# -trimpath keeps its path out of the binaries.
release-check:
	a=$$(mktemp -d /tmp/vigil-release-a.XXXXXX); b=$$(mktemp -d /var/tmp/vigil-release-b-other.XXXXXX); \
	trap 'chmod -R u+w "$$a" "$$b" 2>/dev/null; rm -rf "$$a" "$$b"' EXIT; \
	modcache=$$($(GO) env GOMODCACHE); \
	git clone -q . "$$a/src"; git clone -q . "$$b/x/y/src"; \
	mkdir -p "$$a/home" "$$b/home"; \
	start=$$(date +%s); \
	(cd "$$a/src" && umask 022 && TZ=UTC HOME="$$a/home" GOCACHE="$$a/cache" GOMODCACHE="$$modcache" GOPATH="$$a/gopath" $(MAKE) --no-print-directory release >/dev/null); \
	sleep 2; \
	(cd "$$b/x/y/src" && umask 077 && TZ=Asia/Tokyo HOME="$$b/home" GOCACHE="$$b/cache" GOMODCACHE="$$modcache" GOPATH="$$b/gopath" $(MAKE) --no-print-directory release >/dev/null); \
	echo "built in $$(( $$(date +%s) - start ))s: $$a/src/dist and $$b/x/y/src/dist"; \
	(cd "$$a/src/dist" && sha256sum *) > "$$a/sums"; (cd "$$b/x/y/src/dist" && sha256sum *) > "$$b/sums"; \
	echo "== $$a/src/dist"; cat "$$a/sums"; echo "== $$b/x/y/src/dist"; cat "$$b/sums"; \
	if cmp -s "$$a/sums" "$$b/sums"; then echo "release-check: the two builds are byte-identical"; \
	else echo "release-check: the builds DIFFER:"; diff "$$a/sums" "$$b/sums"; exit 1; fi

clean:
	rm -rf dist
