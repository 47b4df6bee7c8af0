"""Reviewed snapshots of every stack's manifests: a change to what the cluster receives is on purpose.

After an intended change: `UPDATE_GOLDEN=1 ./scripts/test.sh tests/test_golden.py`, then review
`git diff tests/golden/` like any other code.
"""
import os

import pytest

from tests.conftest import ROOT, STACKS
from tools.synth import render_yaml

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("stack", STACKS)
def test_manifests_match_the_reviewed_snapshot(stack_syntheses, stack):
    rendered = render_yaml(stack_syntheses[stack])
    path = GOLDEN / f"{stack}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered)
    assert path.exists(), f"no snapshot for {stack}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == path.read_text(), (
        f"{stack} renders differently from tests/golden/{stack}.yaml; if intended, "
        "re-run with UPDATE_GOLDEN=1 and review the diff")


def test_snapshots_hold_no_secret_values(stack_syntheses):
    for stack in STACKS:
        text = (GOLDEN / f"{stack}.yaml").read_text() if (GOLDEN / f"{stack}.yaml").exists() else ""
        for secret in stack_syntheses[stack].generated_secrets:
            assert not (len(secret) >= 16 and secret.splitlines()[0] in text)
