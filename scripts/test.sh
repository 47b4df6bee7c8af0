#!/usr/bin/env bash
# The whole test suite on a fresh machine: makes .venv, installs the pinned dependencies, makes
# policy/venv (the tests start the policy pack from it, as the Pulumi CLI does), runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
./scripts/pip-sync.sh .venv requirements-dev.txt requirements.txt policy/requirements.txt
PYTHON=$python ./scripts/prepare-policy-pack.sh
exec .venv/bin/python -m pytest "$@"
