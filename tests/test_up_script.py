"""scripts/up.sh, the README's run command, drives the Pulumi CLI as documented.

A stand-in `pulumi` records every call and, like the real CLI, cannot start the policy pack unless
policy/venv/bin/python exists and imports pulumi_policy: the Python language host execs
<pack>/venv/bin/python -u -m pulumi.policy and never creates that virtualenv for a local pack
(pulumi/pulumi v3.259.0 sdk/python/cmd/pulumi-language-python/main.go:1528-1641,
sdk/python/toolchain/pip.go:178-193).
"""
import os
import shutil
import stat
import subprocess
from pathlib import Path

from tests.conftest import ROOT

STAND_IN_PULUMI = r"""#!/bin/sh
echo "$PULUMI_BACKEND_URL|${PULUMI_CONFIG_PASSPHRASE:-}|$*" >> "$PULUMI_LOG"
pack=""
prev=""
for arg in "$@"; do
  [ "$prev" = "--policy-pack" ] && pack=$arg
  prev=$arg
done
# Finding the module is enough here (and costs no import of the Pulumi SDK): prepare-policy-pack.sh
# itself imports it before up.sh goes on.
if [ -n "$pack" ] && ! "$pack/venv/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pulumi_policy") is None)' 2>/dev/null; then
  echo "error: could not start policy pack \"$pack\": fork/exec $pack/venv/bin/python: no such file or directory" >&2
  exit 255
fi
"""


def stand_in_cli(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "pulumi"
    fake.write_text(STAND_IN_PULUMI)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def run_up(tmp_path: Path, stack: str, extra_env=None, repo: Path = ROOT):
    bin_dir = stand_in_cli(tmp_path)
    log = tmp_path / "pulumi.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")}
    env.update({"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "PULUMI_LOG": str(log),
                **(extra_env or {})})
    result = subprocess.run([str(repo / "scripts" / "up.sh"), stack], env=env, capture_output=True, text=True)
    return result, log.read_text().splitlines() if log.exists() else []


def repo_copy(tmp_path: Path) -> Path:
    """The repository without policy/venv (a fresh clone); .venv is shared to save the install."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "rendered", "__pycache__", ".pytest_cache", ".hypothesis"))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def test_a_fresh_clone_gets_the_policy_pack_virtualenv_before_pulumi_runs(tmp_path):
    repo = repo_copy(tmp_path)
    assert not (repo / "policy" / "venv").exists()
    # the stand-in fails as the real CLI does when the pack has no virtualenv
    refused = subprocess.run([str(stand_in_cli(tmp_path) / "pulumi"), "up", "--policy-pack", "policy"], cwd=repo,
                             env={**os.environ, "PULUMI_LOG": str(tmp_path / "probe.log")},
                             capture_output=True, text=True)
    assert refused.returncode == 255 and "policy/venv/bin/python" in refused.stderr

    result, calls = run_up(tmp_path, "local", repo=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "policy" / "venv" / "bin" / "python").exists()
    # made without a pip of its own, the pack's virtualenv still gets the pinned one (requirements-pip.txt)
    site = next((repo / "policy" / "venv" / "lib").glob("python3.*/site-packages"))
    assert sorted(p.name for p in site.glob("pip-*.dist-info")) == ["pip-26.3.dist-info"]
    backend = f"file://{tmp_path}/.pulumi-jenkins-k8s"
    assert calls == [
        f"{backend}|jenkins-k8s-local|stack select --create local --non-interactive",
        f"{backend}|jenkins-k8s-local|up --stack local --policy-pack policy --policy-pack-config policy/config/dev.json",
    ]


def test_up_uses_a_local_backend_the_built_in_passphrase_for_local_and_the_environments_policy(tmp_path):
    result, calls = run_up(tmp_path, "local")
    assert result.returncode == 0, result.stderr
    backend = f"file://{tmp_path}/.pulumi-jenkins-k8s"
    assert calls == [
        f"{backend}|jenkins-k8s-local|stack select --create local --non-interactive",
        f"{backend}|jenkins-k8s-local|up --stack local --policy-pack policy --policy-pack-config policy/config/dev.json",
    ]
    assert "built-in passphrase of the local stack" in result.stderr


def test_up_keeps_a_backend_and_passphrase_the_user_set(tmp_path):
    result, calls = run_up(tmp_path, "prod", {"PULUMI_BACKEND_URL": "s3://state", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert result.returncode == 0, result.stderr
    assert calls == ["s3://state|p|stack select --create prod --non-interactive",
                     "s3://state|p|up --stack prod --policy-pack policy --policy-pack-config policy/config/prod.json"]


def test_a_passphrase_file_is_left_to_the_cli(tmp_path):
    phrase = tmp_path / "phrase"
    phrase.write_text("team secret\n")
    result, calls = run_up(tmp_path, "staging", {"PULUMI_CONFIG_PASSPHRASE_FILE": str(phrase)})
    assert result.returncode == 0, result.stderr
    assert calls[-1].split("|")[1] == ""  # no built-in passphrase exported beside the file
    assert calls[-1].endswith("up --stack staging --policy-pack policy --policy-pack-config policy/config/staging.json")


def test_a_mistyped_stack_is_refused_in_one_line_before_pulumi_runs(tmp_path):
    result, calls = run_up(tmp_path, "stagin")
    assert result.returncode == 1
    assert calls == []
    assert result.stderr.splitlines() == [
        "error: no stack 'stagin': stacks/Pulumi.stagin.yaml does not exist (stacks: dev, e2e, e2e-next, local, prod, staging)"]


def test_a_shared_stack_without_a_passphrase_is_refused_before_pulumi_runs(tmp_path):
    result, calls = run_up(tmp_path, "dev")
    assert result.returncode == 1 and calls == []
    assert len(result.stderr.splitlines()) == 1
    assert "stack 'dev' needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE" in result.stderr


def test_a_committed_encryption_salt_needs_the_teams_passphrase(tmp_path):
    repo = repo_copy(tmp_path)
    stack_file = repo / "stacks" / "Pulumi.staging.yaml"
    stack_file.write_text("encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy\n" + stack_file.read_text())
    result, calls = run_up(tmp_path, "staging", repo=repo)
    assert result.returncode == 1 and calls == []
    assert result.stderr.splitlines() == [
        "error: stack 'staging' needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE: "
        "its encryptionsalt was made with your team's passphrase (docs/ci.md)"]


def test_up_without_the_cli_says_how_to_get_it(tmp_path):
    env = {**os.environ, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([str(ROOT / "scripts" / "up.sh"), "dev"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "the Pulumi CLI is not installed" in result.stderr


def test_environment_lookup_of_an_unknown_stack_is_one_line():
    import sys
    result = subprocess.run([sys.executable, "-m", "tools.environment", "nosuch"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: no stack 'nosuch': stacks/Pulumi.nosuch.yaml does not exist (stacks: dev, e2e, e2e-next, local, prod, staging)"]
