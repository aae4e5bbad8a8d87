#!/usr/bin/env bash
# Build (or reuse) geth v1.13.15, the last geth release that seals Clique (proof-of-authority) blocks.
#
# Order of preference:
#   1. $GETH, if set: it must be geth 1.13.15 (an error otherwise, so a wrong pin is never hidden);
#   2. the cached build at ${TONGBAN_TOOLS:-$HOME/.cache/tongban}/bin/geth, if it reports 1.13.15;
#   3. `geth` on PATH, if it reports 1.13.15;
#   4. otherwise `go install` through the Go module proxy into the cache dir (about 2-3 min on 2 cores
#      with a cold module cache; needs Go >= 1.21, and -checklinkname=0 for fjl/memsize with Go >= 1.23).
#
# Prints the path of the binary as its last line of stdout (everything else goes to stderr), so
#   GETH="$(scripts/clique/build-geth.sh)"
# works. Nothing is written inside the repository.
set -euo pipefail

GETH_VERSION="1.13.15"
TOOLS_DIR="${TONGBAN_TOOLS:-$HOME/.cache/tongban}"
CACHED="$TOOLS_DIR/bin/geth"

log() { echo "[build-geth] $*" >&2; }

is_right_geth() {
  local bin="$1"
  [ -x "$bin" ] || return 1
  # Capture first: `geth version | grep -q` under pipefail fails at random when grep exits early (SIGPIPE).
  local out
  out="$("$bin" version 2>/dev/null)" || return 1
  grep -q "^Version: ${GETH_VERSION}-stable" <<<"$out"
}

if [ -n "${GETH:-}" ]; then
  if is_right_geth "$GETH"; then
    log "using GETH=$GETH (v$GETH_VERSION)"
    echo "$GETH"
    exit 0
  fi
  log "GETH=$GETH is not an executable geth v$GETH_VERSION"
  exit 1
fi

if is_right_geth "$CACHED"; then
  log "reusing cached $CACHED (v$GETH_VERSION)"
  echo "$CACHED"
  exit 0
fi

if command -v geth >/dev/null 2>&1 && is_right_geth "$(command -v geth)"; then
  log "reusing geth on PATH: $(command -v geth) (v$GETH_VERSION)"
  command -v geth
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "no geth v$GETH_VERSION found and no Go toolchain to build it"
  exit 2
fi

log "building geth v$GETH_VERSION with $(go version) into $TOOLS_DIR/bin"
mkdir -p "$TOOLS_DIR/bin"
start=$(date +%s)
# -checklinkname=0: github.com/fjl/memsize uses go:linkname into the runtime, which Go >= 1.23 refuses
# to link by default. The flag is harmless on older Go versions that know it (>= 1.23) and needed there.
ldflags=""
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${go_minor:-0}" -ge 23 ]; then ldflags="-checklinkname=0"; fi
GOBIN="$TOOLS_DIR/bin" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
  go install -ldflags="$ldflags" "github.com/ethereum/go-ethereum/cmd/geth@v${GETH_VERSION}" >&2
end=$(date +%s)
if ! is_right_geth "$CACHED"; then
  log "build finished but $CACHED does not report v$GETH_VERSION"
  exit 1
fi
log "built $CACHED in $((end - start)) s"
echo "$CACHED"
