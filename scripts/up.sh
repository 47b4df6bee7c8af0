#!/usr/bin/env bash
# `pulumi up` for one stack on the current kube context (or, for the `local` stack, rendered to
# files with no cluster at all). State lives in a local file backend unless PULUMI_BACKEND_URL
# says otherwise; secrets use the passphrase provider.
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${1:-local}
shift || true

if ! command -v pulumi >/dev/null 2>&1; then
  echo "error: the Pulumi CLI is not installed; see https://www.pulumi.com/docs/install/" >&2
  exit 1
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

backend_dir="${HOME}/.pulumi-jenkins-k8s"
mkdir -p "$backend_dir"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://${backend_dir}}"
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  # The embedded default suits a laptop only: set your own for any shared backend.
  export PULUMI_CONFIG_PASSPHRASE="jenkins-k8s-local"
  echo "note: using the built-in local passphrase; export PULUMI_CONFIG_PASSPHRASE for shared state" >&2
fi

pulumi stack select --create "$stack" --non-interactive
exec pulumi up --stack "$stack" --policy-pack policy \
  --policy-pack-config "policy/config/$(.venv/bin/python -m tools.environment "$stack").json" "$@"
