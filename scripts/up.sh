#!/usr/bin/env bash
# `pulumi up` for one stack on the current kube context (or, for the `local` stack, rendered to
# files with no cluster at all). State lives in a local file backend unless PULUMI_BACKEND_URL
# says otherwise; secrets use the passphrase provider.
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${1:-local}
shift || true

stack_file="stacks/Pulumi.${stack}.yaml"
if [ ! -f "$stack_file" ]; then
  known=$(find stacks -maxdepth 1 -name 'Pulumi.*.yaml' | sed 's|^stacks/Pulumi\.||; s|\.yaml$||' | sort | paste -sd, - | sed 's/,/, /g')
  echo "error: no stack '${stack}': ${stack_file} does not exist (stacks: ${known})" >&2
  exit 1
fi

if ! command -v pulumi >/dev/null 2>&1; then
  echo "error: the Pulumi CLI is not installed; see https://www.pulumi.com/docs/install/" >&2
  exit 1
fi

# The passphrase provider reuses the stack file's encryptionsalt and refuses a passphrase that
# does not match it (pulumi/pulumi v3.259.0 pkg/secrets/passphrase/manager.go:313-316, :245-252),
# so only `local` may fall back to the built-in laptop passphrase: every other stack's salt is the
# team's (docs/ci.md, step 2) or becomes it once committed.
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if [ "$stack" != "local" ]; then
    if grep -q '^encryptionsalt:' "$stack_file"; then
      why="its encryptionsalt was made with your team's passphrase"
    else
      why="the first run writes an encryptionsalt for it into ${stack_file}, which CI needs to share"
    fi
    echo "error: stack '${stack}' needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE: ${why} (docs/ci.md)" >&2
    exit 1
  fi
  export PULUMI_CONFIG_PASSPHRASE="jenkins-k8s-local"
  echo "note: using the built-in passphrase of the local stack" >&2
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
./scripts/pip-sync.sh .venv requirements.txt
./scripts/prepare-policy-pack.sh

environment=$(.venv/bin/python -m tools.environment "$stack")
policy_config="policy/config/${environment}.json"
if [ ! -f "$policy_config" ]; then
  echo "error: no policy config for stack '${stack}': ${policy_config} does not exist (jenkins:environment is ${environment})" >&2
  exit 1
fi

backend_dir="${HOME}/.pulumi-jenkins-k8s"
mkdir -p "$backend_dir"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://${backend_dir}}"

pulumi stack select --create "$stack" --non-interactive
exec pulumi up --stack "$stack" --policy-pack policy --policy-pack-config "$policy_config" "$@"
