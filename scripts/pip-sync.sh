#!/usr/bin/env bash
# pip-sync.sh [--import MODULE] [--installer PYTHON] VENV REQUIREMENTS [MORE_FILES...]: `VENV/bin/python
# -m pip install -r REQUIREMENTS`, skipped when VENV already holds exactly these files: their sha256
# is stamped in VENV after a successful install, one stamp per REQUIREMENTS file. Each install first
# brings VENV's pip to the version requirements-pip.txt pins, then installs REQUIREMENTS with it.
# With --installer, VENV may have no pip of its own: PYTHON's pip installs into it (pip's --python
# option), requirements-pip.txt's pip included. With --import, an install is successful only once
# VENV/bin/python imports MODULE (checked once per install, not on every call: the import can take
# a second). List the files REQUIREMENTS includes with -r as MORE_FILES, so a change to any of them
# reinstalls. Delete VENV to start over.
set -euo pipefail
module=""
installer=""
while [ $# -gt 0 ]; do
  case "$1" in
    --import) module=$2; shift 2 ;;
    --installer) installer=$2; shift 2 ;;
    *) break ;;
  esac
done
venv=$1
requirements=$2
pip_pin="$(cd "$(dirname "$0")/.." && pwd)/requirements-pip.txt"
stamp="$venv/.pip-sync-$(basename "$requirements").sha256"
want=$(cat "$pip_pin" "${@:2}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  rm -f "$stamp"
  if [ -n "$installer" ]; then
    "$installer" -m pip --python "$venv/bin/python" install --quiet --disable-pip-version-check \
      -r "$pip_pin" -r "$requirements"
  else
    # A separate run: pip cannot switch to a new version of itself in the middle of an install.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$pip_pin"
    if [ ! "$requirements" -ef "$pip_pin" ]; then
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    fi
  fi
  if [ -n "$module" ] && ! "$venv/bin/python" -c "import ${module}" 2>/dev/null; then
    echo "error: $(cd "$venv" && pwd)/bin/python cannot import ${module} after installing ${requirements}" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
