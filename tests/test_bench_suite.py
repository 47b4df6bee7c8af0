"""tools.bench's suite section runs the README's test command and reads pytest's own report."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tools.bench.suite import bench_suite, pytest_command

# The sample suites need no Hypothesis: leaving its plugin out saves a second per run.
QUICK = ("-p", "no:hypothesispytest")
SAMPLE = '''
import pytest

def test_one():
    assert 1

def test_two():
    assert 2

@pytest.mark.skip(reason="shown as skipped")
def test_three():
    pass
'''


def test_it_times_what_scripts_test_sh_runs():
    script = (ROOT / "scripts" / "test.sh").read_text()
    pytest_line = next(line for line in script.splitlines() if "-m pytest" in line)
    command = " ".join(pytest_command())
    for flag in re.findall(r"(-n \S+|--dist \S+|--no-loadscope-reorder)", pytest_line):
        assert flag in command
    assert "--durations=0" in command


def test_counts_and_files_come_from_a_real_run(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "test_other.py").write_text("def test_alone():\n    pass\n")
    result = bench_suite(QUICK, cwd=tmp_path, workers="0", timeout=120)
    assert result["counts"] == {"passed": 3, "skipped": 1}
    assert {name for name, _ in result["slowest_files"]} == {"test_sample.py", "test_other.py"}
    assert result["wall_s"] > 0 and result["cpu_s"] > 0
    assert result["durations_sum_s"] <= result["wall_s"]


def test_a_failing_suite_is_an_error_not_a_figure(tmp_path):
    (tmp_path / "test_broken.py").write_text("def test_fails():\n    assert False, 'broken on purpose'\n")
    with pytest.raises(RuntimeError, match=r"exit 1.*1 failed"):
        bench_suite(QUICK, cwd=tmp_path, workers="0", timeout=120)
