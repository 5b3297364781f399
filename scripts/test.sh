#!/usr/bin/env bash
# The whole test suite, from a fresh clone: type check, build, provision the local sandbox
# (moto in a project virtualenv; etcd, the Kubernetes control plane and kwok built from their Go
# modules and cached), then every unit and integration test on this machine's Node, then the unit
# tests and one end-to-end sandbox flow again on Node 24 (the newest LTS line rhacs-sts supports;
# provisioned by scripts/node-lts.sh). Fails loudly if anything cannot be installed or started.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent typecheck
npm run --silent build
bash test/sandbox/provision.sh
node_lts_dir="$(bash scripts/node-lts.sh)"
mkdir -p .sandbox
results=.sandbox/test-results.json
results_lts=.sandbox/test-results-node24.json
rm -f "$results" "$results_lts"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?

# Node 24: the unit tests and the scripted end-to-end flow (init, re-run, verify, uninstall against
# the sandbox). The CLI under test is started through PATH, so it runs on Node 24 too.
if [[ $# -eq 0 ]]; then
  echo "Running the unit tests and the scripted sandbox flow on Node $("$node_lts_dir/node" --version)" >&2
  PATH="$node_lts_dir:$PATH" "$node_lts_dir/node" node_modules/vitest/vitest.mjs run \
    --reporter=default --reporter=json --outputFile.json="$results_lts" \
    --project unit --project integration test/unit test/integration/scripted-flow.test.ts || status=$?
fi

# One plain closing line with the counts, whatever the reporter printed above it.
node -e 'const fs = require("fs"); let p = 0, f = 0, n = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests; n++;
  }
  if (n) console.log(`tests: ${p} passed, ${f} failed`);' "$results" "$results_lts"
exit "$status"
