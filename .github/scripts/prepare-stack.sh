#!/usr/bin/env bash
# CI helper, run from the repository root before a pulumi/actions step (preview.yml, deploy-stack.yml).
# Makes .venv with the program's pinned dependencies (Pulumi.yaml points the CLI at it) and
# policy/venv with the pack's (scripts/prepare-policy-pack.sh: the CLI does not make it), picks
# the policy config by the stack's jenkins:environment (as scripts/up.sh does) and writes the
# KUBECONFIG secret, if any, to a private file.
#   in:  STACK; optional KUBECONFIG_DATA (kubeconfig contents), PULUMI_ORG (Pulumi Cloud org)
#   out: step outputs skip, stack-name, policy-config; KUBECONFIG in the job's environment
set -euo pipefail

: "${STACK:?STACK names the stack to prepare}"
outputs=${GITHUB_OUTPUT:-/dev/stdout}

if [ ! -f "stacks/Pulumi.${STACK}.yaml" ]; then
  echo "::notice title=stack ${STACK} skipped::stacks/Pulumi.${STACK}.yaml does not exist in this revision"
  echo "skip=true" >>"$outputs"
  exit 0
fi

export PYTHON="${PYTHON:-python}"
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
./scripts/prepare-policy-pack.sh

environment=$(.venv/bin/python -m tools.environment "$STACK")
policy_config="policy/config/${environment}.json"
if [ ! -f "$policy_config" ]; then
  echo "::error title=no policy config::${policy_config} does not exist (stack ${STACK} has jenkins:environment ${environment})"
  exit 1
fi

stack_name=$STACK
if [ -n "${PULUMI_ORG:-}" ]; then
  stack_name="${PULUMI_ORG}/${STACK}"
fi

{
  echo "skip=false"
  echo "stack-name=${stack_name}"
  echo "policy-config=${policy_config}"
} >>"$outputs"

if [ -n "${KUBECONFIG_DATA:-}" ]; then
  kubeconfig="${RUNNER_TEMP:-/tmp}/kubeconfig"
  (umask 077 && printf '%s\n' "$KUBECONFIG_DATA" >"$kubeconfig")
  echo "KUBECONFIG=${kubeconfig}" >>"${GITHUB_ENV:-/dev/null}"
else
  echo "::warning title=no KUBECONFIG secret::stack ${STACK} runs with no kubeconfig; only stacks that render to files (renderYamlToDirectory) work without one"
fi
