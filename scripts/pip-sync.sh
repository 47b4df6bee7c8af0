#!/usr/bin/env bash
# pip-sync.sh [--import MODULE] VENV REQUIREMENTS [MORE_FILES...]: `VENV/bin/python -m pip install
# -r REQUIREMENTS`, skipped when VENV already holds exactly these files: their sha256 is stamped in
# VENV after a successful install, one stamp per REQUIREMENTS file. Each install first brings VENV's
# pip to the version requirements-pip.txt pins, then installs REQUIREMENTS with it. With --import, an
# install is successful only once VENV/bin/python imports MODULE (checked once per install, not on
# every call: the import can take a second). List the files REQUIREMENTS includes with -r as
# MORE_FILES, so a change to any of them reinstalls. Delete VENV to start over.
set -euo pipefail
module=""
if [ "${1:-}" = --import ]; then
  module=$2
  shift 2
fi
venv=$1
requirements=$2
pip_pin="$(cd "$(dirname "$0")/.." && pwd)/requirements-pip.txt"
stamp="$venv/.pip-sync-$(basename "$requirements").sha256"
want=$(cat "$pip_pin" "${@:2}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  rm -f "$stamp"
  # A separate run: pip cannot switch to a new version of itself in the middle of an install.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$pip_pin"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  if [ -n "$module" ] && ! "$venv/bin/python" -c "import ${module}" 2>/dev/null; then
    echo "error: $(cd "$venv" && pwd)/bin/python cannot import ${module} after installing ${requirements}" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
