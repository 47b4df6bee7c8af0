"""The cached schema validator gives kubernetes-validate's own verdicts."""
import copy
import functools

import kubernetes_validate
import pytest
from kubernetes_validate import utils

from tests.conftest import STACKS
from tools.schema import SchemaMissing, first_error, is_custom


@pytest.fixture(scope="module")
def library_reads_each_file_once():
    """`kubernetes_validate.validate` lists its schema versions and re-reads the ~1 MB definitions
    file on every call; the same directory listing and file contents, read once, leave its own
    validation code to decide."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("schema_contents", "all_versions"):
            patch.setattr(utils, name, functools.lru_cache(maxsize=None)(getattr(utils, name)))
        yield


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
def test_agrees_with_kubernetes_validate(stack_syntheses, library_reads_each_file_once, stack, version):
    for record in stack_syntheses[stack].kubernetes_objects():
        if is_custom(record.manifest()["apiVersion"], version):
            continue  # kubernetes-validate has no schema for it either; test_custom_resources covers it
        for manifest in broken_variants(record.manifest()):
            ours = first_error(manifest, version)
            assert (ours.message if ours else None) == library_error(manifest, version)


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_custom_resources_are_told_apart_from_built_in_kinds_without_a_schema(version):
    assert is_custom("monitoring.coreos.com/v1", version)
    assert is_custom("snapshot.storage.k8s.io/v1", version)
    assert not is_custom("v1", version) and not is_custom("batch/v1", version)
    assert not is_custom("networking.k8s.io/v1", version)
    # A built-in group with a kind it does not have is still a schema problem, not a custom resource.
    with pytest.raises(SchemaMissing):
        first_error({"apiVersion": "batch/v1", "kind": "NotAKind", "metadata": {"name": "x"}}, version)


def test_a_value_that_is_not_json_is_still_validated():
    """A stack file's YAML can hold a date; the verdict is the validator's, not a serialization error."""
    import datetime

    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dated"},
                "data": {"since": datetime.date(2026, 11, 27)}}
    for _ in range(2):
        error = first_error(manifest, "1.37.0")
        assert error is not None and "is not of type 'string'" in error.message


def test_an_object_seen_again_gets_the_same_verdict_and_a_changed_one_its_own():
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seen"}, "data": {"a": "b"}}
    assert first_error(manifest, "1.37.0") is None
    assert first_error(copy.deepcopy(manifest), "1.37.0") is None
    changed = copy.deepcopy(manifest)
    changed["data"]["a"] = 1
    assert "is not of type 'string'" in first_error(changed, "1.37.0").message
    assert first_error(manifest, "1.37.0") is None
