#!/usr/bin/env bash
# rhacs-sts sandbox stand-in for the aws CLI: only `aws eks get-token` for the sandbox's clusters
# (see aws-cli.ts for what it mirrors and why). Installed as <sandbox dir>/bin/aws.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
log="$here/../aws-cli-calls.jsonl"
known="$here/eks-clusters"
args=("$@")
region="" cluster="" words=()
while [ $# -gt 0 ]; do
  case "$1" in
    --region) region="${2-}"; shift 2 ;;
    --cluster-name) cluster="${2-}"; shift 2 ;;
    --output) shift 2 ;;
    --*) shift ;;
    *) words+=("$1"); shift ;;
  esac
done
region="${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}"
record() { printf '{"time":"%s","args":"%s","region":"%s","cluster":"%s","answered":%s}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${words[*]-}" "$region" "$cluster" "$1" >> "$log"; }
# The next aws on PATH after this one (another sandbox's stand-in, or the real CLI), if any: only
# directories after ours, so stand-ins that hand on never loop.
next_aws() {
  local d seen=""
  IFS=: read -r -a dirs <<< "${PATH-}"
  for d in "${dirs[@]}"; do
    [ -n "$d" ] || continue
    if [ -z "$seen" ]; then [ "$(cd "$d" 2>/dev/null && pwd)" = "$here" ] && seen=1; continue; fi
    [ -x "$d/aws" ] && { printf '%s' "$d/aws"; return; }
  done
}
if [ "${words[*]-}" != "eks get-token" ]; then
  # Anything else goes to the real aws CLI, if one is installed (by hand, against moto); else it fails.
  real="$(next_aws)"
  record false
  if [ -n "$real" ]; then exec "$real" "${args[@]}"; fi
  echo "aws (rhacs-sts sandbox stand-in): only 'aws eks get-token' is available here, not: aws ${words[*]-}" >&2
  exit 252
fi
if [ -z "$cluster" ]; then
  record false
  echo "aws: error: the following arguments are required: --cluster-name" >&2
  exit 252
fi
if [ -z "$region" ]; then
  record false
  echo "You must specify a region. You can also configure your region by running \"aws configure\"." >&2
  exit 253
fi
if ! grep -qxF "$region $cluster" "$known"; then
  # Another sandbox running in the same process tree (its stand-in further down PATH) may know it;
  # the real CLI is never asked, it would sign a token for any name.
  other="$(next_aws)"
  if [ -n "$other" ] && [ -f "$(dirname "$other")/eks-clusters" ]; then exec "$other" "${args[@]}"; fi
  record false
  echo "aws (rhacs-sts sandbox stand-in): the sandbox has no EKS cluster $cluster in $region" >&2
  exit 254
fi
record true
now="$(date -u +%Y%m%dT%H%M%SZ)"
exp="$(date -u -d '+14 minutes' +%Y-%m-%dT%H:%M:%SZ)"
sig="$(printf '%s' "$region/$cluster/$now" | sha256sum | cut -d' ' -f1)"
url="https://sts.$region.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIASANDBOXSANDBOX00%2F${now:0:8}%2F$region%2Fsts%2Faws4_request&X-Amz-Date=$now&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=$sig"
token="k8s-aws-v1.$(printf '%s' "$url" | base64 -w0 | tr '+/' '-_' | tr -d '=')"
printf '{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1", "spec": {}, "status": {"expirationTimestamp": "%s", "token": "%s"}}\n' "$exp" "$token"
