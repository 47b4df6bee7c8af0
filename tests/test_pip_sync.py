"""scripts/pip-sync.sh installs a requirements file into a virtualenv only when the files changed
since the last successful install, so repeated `up.sh`/`test.sh` runs do not wait for pip."""
from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from tests.conftest import ROOT

STAND_IN_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../calls.log"
case "$1" in
  -c) [ -z "$IMPORT_FAILS" ] ;;
  *) [ -z "$PIP_FAILS" ] ;;
esac
"""


def make_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(STAND_IN_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return venv


def sync(venv: Path, *files: Path, fail: bool = False, module: str = "",
         import_fails: bool = False) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **({"PIP_FAILS": "1"} if fail else {}),
           **({"IMPORT_FAILS": "1"} if import_fails else {})}
    return subprocess.run([str(ROOT / "scripts" / "pip-sync.sh"), *(["--import", module] if module else []),
                           str(venv), *map(str, files)], capture_output=True, text=True, env=env)


def installs(venv: Path) -> int:
    log = venv / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_installs_once_then_only_when_a_listed_file_changes(tmp_path):
    venv = make_venv(tmp_path)
    requirements, included = tmp_path / "requirements.txt", tmp_path / "base.txt"
    requirements.write_text("-r base.txt\nfoo==1.0\n")
    included.write_text("bar==2.0\n")
    assert sync(venv, requirements, included).returncode == 0
    assert installs(venv) == 1
    assert (venv / "calls.log").read_text().split()[-1] == str(requirements)
    assert sync(venv, requirements, included).returncode == 0
    assert installs(venv) == 1  # nothing changed: pip is not run
    included.write_text("bar==2.1\n")
    assert sync(venv, requirements, included).returncode == 0
    assert installs(venv) == 2  # an included file changed


def test_a_failed_install_is_retried_next_time(tmp_path):
    venv = make_venv(tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("foo==1.0\n")
    assert sync(venv, requirements, fail=True).returncode != 0
    assert sync(venv, requirements).returncode == 0
    assert installs(venv) == 2


def test_with_import_an_install_counts_only_once_the_module_imports_and_is_checked_once(tmp_path):
    venv = make_venv(tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("foo==1.0\n")
    refused = sync(venv, requirements, module="foo", import_fails=True)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"error: {venv}/bin/python cannot import foo after installing {requirements}"]
    assert sync(venv, requirements, module="foo").returncode == 0
    calls = (venv / "calls.log").read_text().splitlines()
    assert [c.split()[:2] for c in calls] == [["-m", "pip"], ["-c", "import"], ["-m", "pip"], ["-c", "import"]]
    assert calls[-1] == "-c import foo"
    assert sync(venv, requirements, module="foo").returncode == 0
    assert installs(venv) == 4  # installed and imported once: neither pip nor the import runs again
