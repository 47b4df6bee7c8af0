"""tools.mutants measures the suite against tools/mutants.yaml: every mutant must still apply to
today's code (exactly once), or the measurement silently shrinks after a refactor."""
from __future__ import annotations

import pytest

from tools.mutants import ROOT, Mutant, apply, load


@pytest.mark.parametrize("mutant", load(), ids=lambda m: m.id)
def test_each_mutant_still_applies_exactly_once(mutant):
    assert (ROOT / mutant.file).read_text().count(mutant.old) == 1, (
        f"{mutant.id} ({mutant.what}) no longer matches {mutant.file}: update tools/mutants.yaml")


def test_a_replacement_that_matches_twice_is_refused(tmp_path):
    (tmp_path / "f.py").write_text("x = 1\nx = 1\n")
    with pytest.raises(ValueError, match="occurs 2 times"):
        apply(Mutant(id="T", file="f.py", old="x = 1", new="x = 2", what="t"), tmp_path)


def test_only_failing_tests_count_as_a_kill():
    from subprocess import CompletedProcess

    from tools.mutants import verdict

    failed = CompletedProcess([], 1, "FAILED tests/test_x.py::test_y - assert 1 == 2\n1 failed", "")
    assert verdict(failed) == ("killed", "tests/test_x.py::test_y")
    assert verdict(CompletedProcess([], 0, "5 passed", "")) == ("survived", "")
    # An import error while collecting (exit 2) says nothing about the mutant's behaviour.
    collection = CompletedProcess([], 2, "ERROR tests/test_x.py\nInterrupted: 1 error during collection", "")
    outcome, detail = verdict(collection)
    assert outcome == "error" and "exit 2" in detail and "Interrupted" in detail
