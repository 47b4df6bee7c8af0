"""The benchmark keeps measuring what it claims to measure.

Figures are not pass/fail here (they depend on the machine and its load). What can be wrong
without any timing is tested instead: the floor program registers nothing, the plain twin
registers exactly our resources with identical manifests, agreement is counted per family the
way the table says, and one smoke run of the in-process sections still produces its table.
"""
from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools.bench import common
from tools.bench.__main__ import main as bench_main
from tools.bench.floor import make_floor_project
from tools.bench.policy import agreement
from tools.harness import synthesize

REPO = Path(__file__).resolve().parent.parent
RATIO = r"\d+\.\d+x"
WORKER = [sys.executable, "-m", "tools.bench", "--worker"]


def worker_in_this_process(cmd, cwd, **_options) -> subprocess.CompletedProcess:
    """Stands in for the subprocess a bench worker runs in: the same `--worker` entry point, run
    here, its printed output handed back to run_worker as the process's stdout. That the command
    is a real one is tested by test_a_failing_worker_is_reported_with_its_error, as a process."""
    assert cmd[:len(WORKER)] == WORKER and Path(cwd) == REPO, cmd
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = bench_main(cmd[len(WORKER) - 1:])
    return subprocess.CompletedProcess(cmd, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def smoke_table() -> str:
    """`python -m tools.bench --smoke --only scale`, in this process, its workers too: the table
    is what is tested here, not the processes (the interpreter start-ups would be most of its cost)."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        patch.setattr(common, "subprocess", SimpleNamespace(run=worker_in_this_process))
        assert bench_main(["--smoke", "--only", "scale"]) == 0
    return out.getvalue()


def test_a_failing_worker_is_reported_with_its_error():
    """run_worker's real subprocess: `python -m tools.bench --worker` is the command, and a worker
    that exits non-zero is reported with its last words."""
    with pytest.raises(RuntimeError) as failed:
        common.run_worker(["no-such-worker"])
    assert str(failed.value).startswith("bench worker no-such-worker failed: ")
    assert "unknown worker no-such-worker" in str(failed.value)


def test_smoke_run_names_cores_and_runs(smoke_table):
    assert re.match(r"# tools\.bench: \d+ cores, python [\d.]+, median of 1 run\(s\) \(smoke\)", smoke_table)


def test_plain_twin_registers_our_resources_with_identical_manifests(smoke_table):
    rows = [line.split("|") for line in smoke_table.splitlines() if re.match(r"\| \d+ \|", line)]
    pools = [int(r[1]) for r in rows]
    resources = [int(r[2]) for r in rows]
    assert pools == [1, 2]
    assert resources[1] > resources[0], "a second pool must register more resources"
    assert all(re.search(RATIO, "|".join(r)) for r in rows)
    assert "manifests identical to ours except 0." in smoke_table


def test_floor_program_registers_nothing(tmp_path):
    floor = make_floor_project(tmp_path, ["prod"])
    synthesis = synthesize("prod", project_dir=floor)
    assert synthesis.error is None
    assert synthesis.records == []
    # ...while the same stack config registers resources in the real program.
    assert synthesize("prod").records


def test_agreement_counts_each_family_against_its_fixtures_and_the_all_clear_ones():
    cases = [
        {"level": "baseline", "verdict": "fail", "family": "privileged", "file": "/c/priv-fail.yaml"},
        {"level": "baseline", "verdict": "pass", "family": "privileged", "file": "/c/priv-pass.yaml"},
        {"level": "baseline", "verdict": "pass", "family": None, "file": "/c/base.yaml"},
        {"level": "baseline", "verdict": "fail", "family": "sysctls", "file": "/c/sysctl-fail.yaml"},
    ]

    def ids(family, level):
        return {"privileged": ["P"], "sysctls": ["S"]}[family]

    exact = {"/c/priv-fail.yaml": {"P"}, "/c/sysctl-fail.yaml": {"S"}}
    assert agreement(cases, exact, ids) == {"privileged": {"agree": 3, "total": 3},
                                            "sysctls": {"agree": 2, "total": 2}}
    # A tool that flags everything with every check is wrong on the passing and all-clear fixtures.
    everything = {c["file"]: {"P", "S"} for c in cases}
    assert agreement(cases, everything, ids) == {"privileged": {"agree": 1, "total": 3},
                                                 "sysctls": {"agree": 1, "total": 2}}
    # A family with no check of the tool is left out rather than counted as agreement.
    assert agreement(cases, exact, lambda family, level: ["P"] if family == "privileged" else []) == {
        "privileged": {"agree": 3, "total": 3}}
