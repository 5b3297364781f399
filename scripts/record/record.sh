#!/usr/bin/env bash
# Records what a user sees that a reshaping must not change: --help of every command, and the exit
# code, stdout and stderr of every run of the bad-input catalogue (test/integration/bad-input.test.ts)
# against the sandbox. Usage: bash scripts/record/record.sh <out-dir>; compare two recordings with
# diff -r. Builds dist/ first (bin/rhacs-sts runs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:?usage: record.sh <out-dir>}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
npm run --silent build
help() {
  local name="$1"; shift
  local code=0
  NO_COLOR=1 COLUMNS=100 node bin/rhacs-sts "$@" >"$out/help-$name.out" 2>"$out/help-$name.err" || code=$?
  echo "$code" >"$out/help-$name.code"
}
help top --help
for c in init plan verify uninstall status completion; do help "$c" "$c" --help; done
help issuer issuer --help
help issuer-publish issuer publish --help
help version --version
RECORD_OUT="$out/bad-input.jsonl" npx vitest run --config scripts/record/vitest.config.ts test/integration/bad-input.test.ts
