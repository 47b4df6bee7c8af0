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
# The suite starts dozens of interpreters that import the same project modules, and each test
# process rewrites the same test modules' asserts: let Python keep the compiled files (git ignores
# __pycache__/) even where the environment says not to.
unset PYTHONDONTWRITEBYTECODE
# One worker per core; each test file stays on one worker (--dist loadfile), so module fixtures are
# built once and the order within a file is the file's own. Files go out in collection order, which
# tests/conftest.py starts with the longest ones (--no-loadscope-reorder: xdist would otherwise
# order them by number of tests). Pass -n 0 to run in one process.
exec .venv/bin/python -m pytest -n auto --dist loadfile --no-loadscope-reorder "$@"
