#!/usr/bin/env bash
# Builds collector/test/vcsim/.bin/vcsim: govmomi's vCenter simulator seeded for dvflow's inventory tests (and a
# stand-in for `govc dvs.portgroup.info -json` / `govc object.collect -json`). Offline, from Debian's packages
# golang-go and golang-github-vmware-govmomi-dev (GOPATH mode, no module downloads); scripts/install-test-deps.sh
# installs them. Rebuilds only when the binary is missing or main.go changed. Prints the binary's path.
# Exit 3: no Go toolchain or no govmomi source (the tests skip on that).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/collector/test/vcsim"
bin="$src/.bin"
out="$bin/vcsim"
gopath=/usr/share/gocode

mkdir -p "$bin"
sum="$(cat "$src/main.go" "$0" | sha256sum | cut -d' ' -f1)"
if [ -x "$out" ] && [ "$(cat "$out.sum" 2>/dev/null || true)" = "$sum" ]; then
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-vcsim: no Go toolchain (apt-get install golang-go golang-github-vmware-govmomi-dev)" >&2
  exit 3
fi
if [ ! -d "$gopath/src/github.com/vmware/govmomi/simulator" ]; then
  echo "build-vcsim: govmomi source missing under $gopath (apt-get install golang-github-vmware-govmomi-dev)" >&2
  exit 3
fi

# A private copy of the main package so GOPATH mode does not see the repo's files around it.
work="$bin/src/dvflow-vcsim"
rm -rf "$work"
mkdir -p "$work"
cp "$src/main.go" "$work/"
start=$(date +%s)
(
  cd "$work"
  GOPATH="$gopath" GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
    GOCACHE="${TMPDIR:-/tmp}/dvflow-vcsim-gocache" go build -trimpath -o "$out.tmp" .
)
mv "$out.tmp" "$out"
echo "$sum" > "$out.sum"
echo "build-vcsim: built $out in $(( $(date +%s) - start ))s" >&2
echo "$out"
