"""`python -m tools.bench --smoke` runs every section once and prints a table with numeric ratios.

The figures themselves are not pass/fail here (they depend on the machine and its load); the test
only guards that the benchmark keeps working as the program, harness and pack change.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "psa"
RATIO = r"\d+\.\d+x"


@pytest.fixture(scope="module")
def table() -> str:
    result = subprocess.run([sys.executable, "-m", "tools.bench", "--smoke"], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def section(table: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}.*?(?=^## |\Z)", table, re.S | re.M)
    assert match, f"no section '{heading}' in:\n{table}"
    return match.group(0)


def test_header_names_cores_and_runs(table):
    assert re.match(r"# tools\.bench: \d+ cores, python [\d.]+, median of 1 run\(s\) \(smoke\)", table)


def test_floor_section_has_ratios(table):
    rows = [line for line in section(table, "Floor ratio").splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 2  # header + at least one stack
    for row in rows[1:]:
        assert len(re.findall(RATIO, row)) == 4, row  # ours/floor and ours/plain, wall and CPU


def test_phases_section_lists_timings(table):
    body = section(table, "Phases")
    for phase in ("run program under mocks", "schema validation", "policy pack start", "total in-process"):
        assert re.search(rf"\| {re.escape(phase)}[^|]* \| \d+\.\d+ \|", body), phase


def test_scale_section_compares_with_the_plain_program(table):
    body = section(table, "Scale")
    rows = [line for line in body.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [int(r.split("|")[1]) for r in rows] == [1, 10]
    for row in rows:
        assert re.search(RATIO, row), row
    assert re.search(rf"cost per resource {RATIO} the plain program's", body)
    assert "manifests identical to ours except 0" in body


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no PSA corpus beside the repo")
def test_policy_section_reports_agreement(table):
    body = section(table, "Policy")
    assert re.search(r"\| pack \(tools\.check[^|]*\| \d+\.\d+ \|", body)
    families = [line for line in body.splitlines() if re.match(r"\| [A-Za-z/ ]+ \| \d+\.\d+% ", line)]
    assert len(families) >= 10
    if "Checkov skipped" not in body:
        assert re.search(rf"\| Checkov [^|]*\| \d+\.\d+ \| {RATIO} \|", body)
