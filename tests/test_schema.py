"""The cached schema validator gives kubernetes-validate's own verdicts."""
import copy

import kubernetes_validate
import pytest

from tests.conftest import STACKS
from tools.schema import first_error


def library_error(manifest, version):
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return exc.message
    return None


def broken_variants(manifest):
    unknown = copy.deepcopy(manifest)
    unknown["spec" if "spec" in unknown else "metadata"]["notAField"] = 1
    wrong_type = copy.deepcopy(manifest)
    wrong_type["metadata"]["labels"] = "not-a-map"
    return [manifest, unknown, wrong_type]


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("stack", STACKS)
def test_agrees_with_kubernetes_validate(stack_syntheses, stack, version):
    for record in stack_syntheses[stack].kubernetes_objects():
        for manifest in broken_variants(record.manifest()):
            ours = first_error(manifest, version)
            assert (ours.message if ours else None) == library_error(manifest, version)
