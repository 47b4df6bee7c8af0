"""scripts/pip-sync.sh installs a requirements file into a virtualenv only when the files changed
since the last successful install, so repeated `up.sh`/`test.sh` runs do not wait for pip."""
from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

from tests.conftest import ROOT

STAND_IN_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../calls.log"
case "$1" in
  -c) [ -z "$IMPORT_FAILS" ] ;;
  *) [ -z "$PIP_FAILS" ] || case "$*" in *requirements-pip.txt) ;; *) exit 1 ;; esac ;;
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
         import_fails: bool = False, script: Path = ROOT / "scripts" / "pip-sync.sh") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **({"PIP_FAILS": "1"} if fail else {}),
           **({"IMPORT_FAILS": "1"} if import_fails else {})}
    return subprocess.run([str(script), *(["--import", module] if module else []),
                           str(venv), *map(str, files)], capture_output=True, text=True, env=env)


PIP_PIN = ROOT / "requirements-pip.txt"


def calls(venv: Path) -> list[str]:
    log = venv / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def installs(venv: Path) -> int:
    """Runs of the venv's pip or import check, not counting the runs that install the pinned pip."""
    return len([call for call in calls(venv) if not call.endswith(f"-r {PIP_PIN}")])


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
    made = [call for call in calls(venv) if not call.endswith(f"-r {PIP_PIN}")]
    assert [c.split()[:2] for c in made] == [["-m", "pip"], ["-c", "import"], ["-m", "pip"], ["-c", "import"]]
    assert made[-1] == "-c import foo"
    assert sync(venv, requirements, module="foo").returncode == 0
    assert installs(venv) == 4  # installed and imported once: neither pip nor the import runs again


def test_every_install_first_brings_pip_to_its_pinned_version_in_a_run_of_its_own(tmp_path):
    venv = make_venv(tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("foo==1.0\n")
    assert sync(venv, requirements, module="foo").returncode == 0
    assert calls(venv) == [
        f"-m pip install --quiet --disable-pip-version-check -r {PIP_PIN}",
        f"-m pip install --quiet --disable-pip-version-check -r {requirements}",
        "-c import foo",
    ]
    assert sync(venv, requirements, module="foo").returncode == 0
    assert len(calls(venv)) == 3  # up to date: not even pip's own pin is looked at again


def test_the_pip_pin_is_one_exact_version():
    pins = [line for line in PIP_PIN.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert len(pins) == 1 and re.fullmatch(r"pip==\d+(\.\d+)+", pins[0]), pins


def test_a_new_pip_pin_reinstalls(tmp_path):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    script = repo / "scripts" / "pip-sync.sh"
    shutil.copy2(ROOT / "scripts" / "pip-sync.sh", script)
    pin = repo / "requirements-pip.txt"
    pin.write_text("pip==1.0\n")
    venv = make_venv(tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("foo==1.0\n")
    assert sync(venv, requirements, script=script).returncode == 0
    assert sync(venv, requirements, script=script).returncode == 0
    assert calls(venv)[-1].endswith(f"-r {requirements}") and len(calls(venv)) == 2
    pin.write_text("pip==1.1\n")
    assert sync(venv, requirements, script=script).returncode == 0
    assert calls(venv)[2:] == [f"-m pip install --quiet --disable-pip-version-check -r {pin}",
                               f"-m pip install --quiet --disable-pip-version-check -r {requirements}"]


def test_with_an_installer_its_pip_fills_a_venv_that_has_none_pinned_pip_included(tmp_path):
    venv = make_venv(tmp_path)
    installer = make_venv(tmp_path / "project")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("foo==1.0\n")
    done = subprocess.run([str(ROOT / "scripts" / "pip-sync.sh"), "--import", "foo", "--installer",
                           str(installer / "bin" / "python"), str(venv), str(requirements)],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert calls(installer) == [f"-m pip --python {venv}/bin/python install --quiet --disable-pip-version-check "
                                f"-r {PIP_PIN} -r {requirements}"]
    assert calls(venv) == ["-c import foo"]  # the venv's own python only proves the import
