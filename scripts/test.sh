#!/usr/bin/env bash
# The whole test suite, from a fresh clone: type check, build, provision the local sandbox
# (moto in a project virtualenv; etcd and kube-apiserver built from their Go modules and cached),
# then every unit and integration test. Fails loudly if anything cannot be installed or started.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent typecheck
npm run --silent build
bash test/sandbox/provision.sh
npx vitest run "$@"
