"""No generated secret value reaches anything unmarked: manifests, outputs, the harness's printouts."""
import pytest

from tests.conftest import STACKS
from tests.helpers import unmarked
from tools.synth import render_json, render_yaml


@pytest.mark.parametrize("stack", STACKS)
def test_generated_secrets_are_marked_wherever_they_go(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    secrets = [s for s in synthesis.generated_secrets if len(s) >= 16]
    assert secrets, "the stack generates at least the admin password"
    leaks = [f"{r.type} {r.name}{p}" for r in synthesis.records for p in unmarked(r.raw_inputs, secrets)]
    leaks += [f"output{p}" for p in unmarked(synthesis.outputs, secrets)]
    assert leaks == []


@pytest.mark.parametrize("stack", STACKS)
def test_secret_values_only_inside_secret_objects(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    secrets = [s for s in synthesis.generated_secrets if len(s) >= 16]
    for record in synthesis.kubernetes_objects():
        text = repr(record.inputs)
        if any(secret in text for secret in secrets):
            assert record.inputs["kind"] == "Secret", f"{record.type} {record.name} carries a secret value"


@pytest.mark.parametrize("stack", STACKS)
def test_harness_printouts_are_redacted(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    printed = render_yaml(synthesis) + render_json(synthesis)
    for secret in synthesis.generated_secrets:
        if len(secret) >= 16:
            for line in secret.splitlines():
                if len(line) >= 16:
                    assert line not in printed
    assert "[secret]" in printed


def test_the_leak_scan_finds_a_planted_leak(stack_syntheses):
    synthesis = stack_syntheses["prod"]
    secret = next(s for s in synthesis.generated_secrets if len(s) >= 16)
    record = synthesis.find(":ConfigMap", "casc")
    assert unmarked({"data": {"x": "pw=" + secret}}, [secret]) == [".data.x"]
    assert unmarked(record.raw_inputs, [secret]) == []
