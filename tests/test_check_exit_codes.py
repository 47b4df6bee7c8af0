"""`tools.check` on manifests exits 0 when nothing mandatory is found (advisories are printed, not
fatal, as `pulumi preview` treats them), 1 on a mandatory violation, 2 on a bad policy config."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.test_policy_engine import REPO, RESTRICTED_CONTAINER, container, namespace, workload

PRIVILEGED = workload(namespace="apps", containers=[
    container(securityContext={**RESTRICTED_CONTAINER, "privileged": True})])


def run_check(tmp_path, config: dict, *bodies: dict) -> subprocess.CompletedProcess:
    config_path = tmp_path / "policy.json"
    config_path.write_text(json.dumps(config))
    files = []
    for i, body in enumerate(bodies):
        path = tmp_path / f"{i}.yaml"
        path.write_text(json.dumps(body))
        files.append(str(path))
    return subprocess.run([sys.executable, "-m", "tools.check", "--policy-config", str(config_path), *files],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("config,code", [
    ({"all": "advisory"}, 0),
    ({"all": "advisory", "pss-privileged": "mandatory"}, 1),
    ({"pss-privilegd": "mandatory"}, 2),
])
def test_exit_code_follows_the_strongest_finding(tmp_path, config, code):
    result = run_check(tmp_path, config, namespace("apps", "privileged"), PRIVILEGED)
    assert result.returncode == code, result.stdout + result.stderr
    if code == 0:
        assert "pss-privileged" in result.stdout + result.stderr  # the advisory is still shown


def test_clean_manifests_exit_zero(tmp_path):
    result = run_check(tmp_path, {"all": "mandatory"}, namespace("apps"), workload(namespace="apps"))
    assert result.returncode == 0, result.stdout + result.stderr
