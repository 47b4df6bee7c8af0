"""scripts/up.sh, the README's run command, drives the Pulumi CLI as documented (a stand-in CLI records it)."""
import os
import stat
import subprocess

from tests.conftest import ROOT


def run_up(tmp_path, stack, extra_env=None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "pulumi.log"
    fake = bin_dir / "pulumi"
    fake.write_text('#!/bin/sh\necho "$PULUMI_BACKEND_URL|${PULUMI_CONFIG_PASSPHRASE:-}|$*" >> "$PULUMI_LOG"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k not in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")}
    env.update({"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "PULUMI_LOG": str(log),
                **(extra_env or {})})
    result = subprocess.run([str(ROOT / "scripts" / "up.sh"), stack], env=env, capture_output=True, text=True)
    return result, log.read_text().splitlines() if log.exists() else []


def test_up_uses_a_local_backend_the_passphrase_and_the_environments_policy(tmp_path):
    result, calls = run_up(tmp_path, "local")
    assert result.returncode == 0, result.stderr
    backend = f"file://{tmp_path}/.pulumi-jenkins-k8s"
    assert calls[0] == f"{backend}|jenkins-k8s-local|stack select --create local --non-interactive"
    assert calls[1] == (f"{backend}|jenkins-k8s-local|up --stack local --policy-pack policy "
                        "--policy-pack-config policy/config/dev.json")
    assert "built-in local passphrase" in result.stderr


def test_up_keeps_a_backend_and_passphrase_the_user_set(tmp_path):
    result, calls = run_up(tmp_path, "prod", {"PULUMI_BACKEND_URL": "s3://state", "PULUMI_CONFIG_PASSPHRASE": "p"})
    assert result.returncode == 0, result.stderr
    assert calls[-1] == "s3://state|p|up --stack prod --policy-pack policy --policy-pack-config policy/config/prod.json"


def test_up_without_the_cli_says_how_to_get_it(tmp_path):
    env = {**os.environ, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([str(ROOT / "scripts" / "up.sh"), "dev"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "the Pulumi CLI is not installed" in result.stderr
