#!/usr/bin/env bash
# Provision the local sandbox of real servers used by the integration tests and `npm run sandbox`:
#   - a project-local Python virtualenv (.sandbox/venv) with moto's server, pinned in requirements.txt;
#   - etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, built from the wrapper Go
#     modules under test/sandbox/go and cached outside the work tree (RHACS_STS_SANDBOX_CACHE, default
#     ~/.cache/rhacs-sts-sandbox/<versions>; kwok's version is in its file name).
# Idempotent: each step is skipped when its result is already present. Fails loudly when a tool is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

log() { printf '[sandbox] %s\n' "$*" >&2; }
die() { printf '[sandbox] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }
took() { log "$1 took $(( $(now) - $2 ))s"; }

# --- tool checks -------------------------------------------------------------------------------------
# The newest `go` directive of the wrapper modules is the Go they need.
go_needed="$(awk '$1=="go" {print $2}' "$here"/go/*/go.mod | sort -V | tail -n1)"
command -v go >/dev/null 2>&1 \
  || die "Go is not installed (needed to build etcd, the Kubernetes control plane and kwok). Install Go ${go_needed} or later (the official Go toolchain, or your distribution's golang package if it is that new) and make sure 'go' is on PATH."
go_have="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
# Go 1.21+ fetches a newer toolchain by itself (GOTOOLCHAIN=auto) when a go.mod asks for one; older
# releases cannot.
if [[ "$(printf '%s\n%s\n' "$go_have" "1.21" | sort -V | head -n1)" != "1.21" ]]; then
  die "Go ${go_have:-?} is too old to build the sandbox binaries: install Go ${go_needed} or later."
fi
command -v python3 >/dev/null 2>&1 \
  || die "Python 3 is not installed (needed for the moto server). Install Python 3.9 or later with the venv module (e.g. apt-get install python3 python3-venv)."
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 \
  || die "Python's venv/ensurepip module is missing. Install it (e.g. apt-get install python3-venv)."
command -v openssl >/dev/null 2>&1 \
  || die "openssl is not installed (needed to generate the sandbox certificates). Install it (e.g. apt-get install openssl)."

# --- versions (single source of truth: the wrapper go.mod files) -------------------------------------
k8s_version="$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3; exit}' "$here/go/kube-apiserver/go.mod")"
etcd_version="$(awk '$1=="require" && $2=="go.etcd.io/etcd/server/v3" {print $3; exit}' "$here/go/etcd/go.mod")"
kwok_version="$(awk '$1=="require" && $2=="sigs.k8s.io/kwok" {print $3; exit}' "$here/go/kwok/go.mod")"
[[ -n "$k8s_version" && -n "$etcd_version" && -n "$kwok_version" ]] \
  || die "could not read the kubernetes/etcd/kwok versions from test/sandbox/go/*/go.mod"
cache="${RHACS_STS_SANDBOX_CACHE:-$HOME/.cache/rhacs-sts-sandbox}/k8s-${k8s_version}-etcd-${etcd_version}"
mkdir -p "$cache"

# One provisioning at a time per project (concurrent test runs would otherwise race on the venv).
mkdir -p "$root/.sandbox"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.sandbox/provision.lock"
  flock -w 3600 9 || die "timed out waiting for another provisioning run to finish"
fi

# --- moto virtualenv ---------------------------------------------------------------------------------
venv="$root/.sandbox/venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$( (cat "$req"; python3 --version) | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  log "moto virtualenv is up to date ($venv)"
else
  t=$(now)
  log "creating the moto virtualenv in .sandbox/venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  [[ -x "$venv/bin/moto_server" ]] || die "moto_server was not installed into $venv"
  printf '%s' "$want" > "$stamp"
  took "moto virtualenv" "$t"
fi

# --- Go binaries -------------------------------------------------------------------------------------
# build NAME MODULE_DIR PACKAGE: builds into a temporary name and renames it, so an interrupted build
# never looks finished.
build() {
  local name="$1" dir="$2" pkg="$3"
  if [[ -x "$cache/$name" ]]; then
    log "$name is cached ($cache/$name)"
    return
  fi
  local t tmp
  t=$(now)
  tmp="$cache/.$name.tmp.$$"
  log "building $name from $pkg (first time only; this takes a few minutes)"
  ( cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp" "$pkg" ) \
    || { rm -f "$tmp"; die "building $name failed (see the go output above)"; }
  mv -f "$tmp" "$cache/$name"
  took "building $name" "$t"
}
build etcd "$here/go/etcd" go.etcd.io/etcd/server/v3
build kube-apiserver "$here/go/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
# Same wrapper module (same Kubernetes version); the Go build cache is warm after kube-apiserver.
build kube-controller-manager "$here/go/kube-apiserver" k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler "$here/go/kube-apiserver" k8s.io/kubernetes/cmd/kube-scheduler
# kwok is versioned apart from Kubernetes: its version is in the file name, so a bump rebuilds it.
build "kwok-${kwok_version}" "$here/go/kwok" sigs.k8s.io/kwok/cmd/kwok

log "sandbox provisioned: binaries in $cache"
