"""`tools.check` on manifests exits 0 when nothing mandatory is found (advisories are printed, not
fatal, as `pulumi preview` treats them), 1 on a mandatory violation, 2 on a bad policy config."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests.test_policy_engine import REPO, RESTRICTED_CONTAINER, container, namespace, workload
from tools import check

PRIVILEGED = workload(namespace="apps", containers=[
    container(securityContext={**RESTRICTED_CONTAINER, "privileged": True})])


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_check(tmp_path, config: dict, *bodies: dict, capsys=None) -> Result:
    """`python -m tools.check --policy-config FILE MANIFEST...` as a process, or, given capsys, its
    main() in this process (its return value is the exit status: the process case shows that)."""
    config_path = tmp_path / "policy.json"
    config_path.write_text(json.dumps(config))
    files = []
    for i, body in enumerate(bodies):
        path = tmp_path / f"{i}.yaml"
        path.write_text(json.dumps(body))
        files.append(str(path))
    argv = ["--policy-config", str(config_path), *files]
    if capsys is not None:
        code = check.main(argv)
        printed = capsys.readouterr()
        return Result(code, printed.out, printed.err)
    done = subprocess.run([sys.executable, "-m", "tools.check", *argv],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("config,code,as_process", [
    ({"all": "advisory"}, 0, False),
    ({"all": "advisory", "pss-privileged": "mandatory"}, 1, True),
    ({"pss-privilegd": "mandatory"}, 2, False),
])
def test_exit_code_follows_the_strongest_finding(tmp_path, capsys, config, code, as_process):
    result = run_check(tmp_path, config, namespace("apps", "privileged"), PRIVILEGED,
                       capsys=None if as_process else capsys)
    assert result.returncode == code, result.stdout + result.stderr
    if code == 0:
        assert "pss-privileged" in result.stdout + result.stderr  # the advisory is still shown


def test_clean_manifests_exit_zero(tmp_path, capsys):
    result = run_check(tmp_path, {"all": "mandatory"}, namespace("apps"), workload(namespace="apps"), capsys=capsys)
    assert result.returncode == 0, result.stdout + result.stderr
