"""The benchmark keeps measuring what it claims to measure.

Figures are not pass/fail here (they depend on the machine and its load). What can be wrong
without any timing is tested instead: the floor program registers nothing, the plain twin
registers exactly our resources with identical manifests, agreement is counted per family the
way the table says, and one smoke run of the in-process sections still produces its table.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.bench.floor import make_floor_project
from tools.bench.policy import agreement
from tools.harness import synthesize

REPO = Path(__file__).resolve().parent.parent
RATIO = r"\d+\.\d+x"


@pytest.fixture(scope="module")
def smoke_table() -> str:
    result = subprocess.run([sys.executable, "-m", "tools.bench", "--smoke", "--only", "scale"], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


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
