#!/usr/bin/env bash
# The whole test suite, from a fresh clone: type check, build, provision the local sandbox
# (moto in a project virtualenv; etcd, the Kubernetes control plane and kwok built from their Go
# modules and cached), then every unit and integration test. Fails loudly if anything cannot be installed or started.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent typecheck
npm run --silent build
bash test/sandbox/provision.sh
mkdir -p .sandbox
results=.sandbox/test-results.json
rm -f "$results"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# One plain closing line with the counts, whatever the reporter printed above it.
if [[ -f "$results" ]]; then
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);' "$results"
fi
exit "$status"
