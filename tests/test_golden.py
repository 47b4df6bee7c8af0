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


def secret_fragments(secret: str) -> list[str]:
    """The whole value and every line of key material in it (PEM armour lines are public)."""
    body = [line.strip() for line in secret.splitlines() if line.strip() and not line.startswith("-----")]
    return [secret.strip()] + [line for line in body if len(line) >= 16]


@pytest.mark.parametrize("stack", STACKS)
def test_snapshots_hold_no_secret_values(stack_syntheses, stack):
    text = (GOLDEN / f"{stack}.yaml").read_text()
    secrets = stack_syntheses[stack].generated_secrets
    assert secrets, f"{stack} generates no secret: the check below would check nothing"
    for secret in secrets:
        for fragment in secret_fragments(secret):
            assert fragment not in text, f"tests/golden/{stack}.yaml holds part of a generated secret"
