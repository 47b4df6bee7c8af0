"""The harness starts the policy pack exactly as the Pulumi CLI does: with policy/venv/bin/python,
which the CLI never creates for a local pack (pulumi/pulumi v3.259.0
sdk/python/cmd/pulumi-language-python/main.go:1528-1641, sdk/python/toolchain/pip.go:178-193).
Without it the harness fails too, in one line that says how to make it."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tools.policy_engine import PolicyPackSession

HINT = "run scripts/prepare-policy-pack.sh"


def test_the_pack_runs_under_its_own_virtualenv():
    with PolicyPackSession() as session:
        assert session.process.args[:3] == [str(ROOT / "policy" / "venv" / "bin" / "python"), "-m", "pulumi.policy"]
        assert Path(session.process.args[-1]) == ROOT / "policy"


def test_check_of_manifests_with_no_pack_virtualenv_fails_naming_it(tmp_path):
    pack = tmp_path / "policy"
    shutil.copytree(ROOT / "policy", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\n"
                        "spec: {containers: [{name: c, image: busybox:1.37}]}\n")
    done = subprocess.run([sys.executable, "-m", "tools.check", "--pack-dir", str(pack), "--policy-config",
                           str(ROOT / "policy" / "config" / "baseline.json"), str(manifest)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: the policy pack's virtualenv {pack / 'venv'} does not exist (the Pulumi CLI would not start "
        f"the pack either): {HINT}"]


def test_check_of_a_stack_in_a_fresh_clone_fails_naming_policy_venv(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "rendered", "__pycache__", ".pytest_cache", ".hypothesis"))
    done = subprocess.run([sys.executable, "-m", "tools.check", "dev"], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"error: the policy pack's virtualenv {repo / 'policy' / 'venv'} does not exist (the Pulumi CLI would "
        f"not start the pack either): {HINT}"]
    assert "ok" not in done.stdout


# A policy/venv whose pip "installs" and whose python imports nothing.
STAND_IN_VENV_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../calls.log"
[ "$1" != -c ]
"""


def test_prepare_refuses_a_pack_virtualenv_that_cannot_import_pulumi_policy_and_retries_next_time(tmp_path):
    for script in ("prepare-policy-pack.sh", "pip-sync.sh"):
        (tmp_path / "scripts").mkdir(exist_ok=True)
        shutil.copy2(ROOT / "scripts" / script, tmp_path / "scripts" / script)
    shutil.copy2(ROOT / "requirements-pip.txt", tmp_path / "requirements-pip.txt")
    (tmp_path / "policy").mkdir()
    shutil.copy2(ROOT / "policy" / "requirements.txt", tmp_path / "policy" / "requirements.txt")
    for venv in (tmp_path / ".venv", tmp_path / "policy" / "venv"):
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").write_text(STAND_IN_VENV_PYTHON)
        (venv / "bin" / "python").chmod(0o755)
    pack_python = tmp_path / "policy" / "venv" / "bin" / "python"
    pin = tmp_path / "requirements-pip.txt"
    for attempt in (1, 2):
        done = subprocess.run([str(tmp_path / "scripts" / "prepare-policy-pack.sh")], capture_output=True, text=True,
                              env={"PATH": os.environ["PATH"]})
        assert done.returncode == 1
        assert done.stderr.splitlines() == [
            f"error: {tmp_path / 'policy' / 'venv'}/bin/python cannot import pulumi_policy after installing "
            "requirements.txt"]
        # The project's .venv installs (its own pip pin once, then the pack's set with the pinned pip
        # into policy/venv, on the retry too); policy/venv's python only runs the import check.
        installer = (tmp_path / ".venv" / "calls.log").read_text().splitlines()
        assert installer[0] == f"-m pip install --quiet --disable-pip-version-check -r {pin}"
        assert installer[1:] == [f"-m pip --python venv/bin/python install --quiet --disable-pip-version-check "
                                 f"-r {pin} -r requirements.txt"] * attempt
        assert (tmp_path / "policy" / "venv" / "calls.log").read_text().splitlines() == \
            ["-c import pulumi_policy"] * attempt
    assert pack_python.exists()
