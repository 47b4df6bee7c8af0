#!/usr/bin/env bash
# pip-sync.sh VENV REQUIREMENTS [MORE_FILES...]: `VENV/bin/python -m pip install -r REQUIREMENTS`,
# skipped when VENV already holds exactly these files: their sha256 is stamped in VENV after a
# successful install, one stamp per REQUIREMENTS file. List the files REQUIREMENTS includes with
# -r as MORE_FILES, so a change to any of them reinstalls. Delete VENV to start over.
set -euo pipefail
venv=$1
requirements=$2
stamp="$venv/.pip-sync-$(basename "$requirements").sha256"
want=$(cat "${@:2}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
fi
