#!/usr/bin/env bash
# Makes policy/venv, the interpreter `pulumi preview|up --policy-pack policy` runs the pack with,
# and installs policy/requirements.txt into it. The CLI never does this itself for a local pack:
# the Python language host execs <pack>/<runtime.options.virtualenv>/bin/python -u -m pulumi.policy
# with the pack directory as its working directory, and only `pulumi install` run inside the pack
# directory creates that virtualenv (pulumi/pulumi v3.259.0:
# sdk/python/cmd/pulumi-language-python/main.go:1528-1641 RunPlugin,
# sdk/python/toolchain/pip.go:178-193 Command, pkg/cmd/pulumi/install/install.go:65-83).
# Run by scripts/up.sh, scripts/test.sh and .github/scripts/prepare-stack.sh (every workflow job).
set -euo pipefail
cd "$(dirname "$0")/../policy"

python=${PYTHON:-python3}
# The project's .venv installs the pack's virtualenv (pip's --python option, pip 26.3
# src/pip/_internal/cli/main_parser.py:83-115): made without pip, policy/venv skips the copy of pip
# that `python -m venv` would install and compile only for it to be replaced by the pinned one (about
# four seconds of a first run). It gets the pinned pip with the pack's requirements, so it ends up as
# the CLI's own install leaves a pack's virtualenv: `python -m venv`, then `pip install -r
# requirements.txt` (sdk/python/toolchain/pip.go:444-559 InstallDependencies).
if [ ! -x ../.venv/bin/python ]; then
  "$python" -m venv ../.venv
fi
../scripts/pip-sync.sh ../.venv ../requirements-pip.txt
if [ ! -x venv/bin/python ]; then
  "$python" -m venv --without-pip venv
fi
# An install counts only once policy/venv/bin/python imports pulumi_policy, the module the CLI runs.
../scripts/pip-sync.sh --import pulumi_policy --installer ../.venv/bin/python venv requirements.txt
