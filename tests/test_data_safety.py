"""Switching topology, sizes or exposure never replaces what holds data or credentials."""
from __future__ import annotations

import itertools

import pytest

from components.pools import POOL_TYPES
from tests.conftest import STACKS, minimal_config, stack_config, synth_config

# One sample pool of every type, taken from the stacks themselves.
SAMPLES = {}
for _stack in STACKS:
    for _pool in stack_config(_stack).get("jenkins:pools", []):
        SAMPLES.setdefault(_pool["type"], _pool)

KEPT = (  # (type suffix, logical name, fields the engine would replace the resource over)
    (":Namespace", "controller-namespace", (("metadata", "name"),)),
    (":PersistentVolumeClaim", "jenkins-home",
     (("metadata", "name"), ("metadata", "namespace"), ("spec", "storageClassName"), ("spec", "accessModes"))),
    (":Secret", "admin", (("metadata", "name"), ("metadata", "namespace"), ("type",))),
)


def variants() -> dict[str, dict]:
    out = {f"pool:{kind}": minimal_config(pools=[pool]) for kind, pool in SAMPLES.items()}
    out["no-pools"] = minimal_config()
    out["all-pools"] = minimal_config(pools=list(SAMPLES.values()))
    out["bigger"] = minimal_config(controller={"storage": {"size": "200Gi"}, "resources": {
        "requests": {"cpu": "4", "memory": "8Gi"}, "limits": {"cpu": "8", "memory": "16Gi"}}})
    out["exposed"] = minimal_config(exposure={"ingress": {"host": "ci.example.org", "tls": "existing-secret",
                                                           "tlsSecretName": "tls"}})
    return out


@pytest.fixture(scope="module")
def rendered():
    return {name: synth_config(config) for name, config in variants().items()}


def test_samples_cover_every_pool_type():
    assert set(SAMPLES) == set(POOL_TYPES)


def dig(document, path):
    for part in path:
        document = document.get(part) if isinstance(document, dict) else None
    return document


def test_kept_resources_keep_urn_and_immutable_fields_across_every_pair(rendered):
    for (a, first), (b, second) in itertools.combinations(rendered.items(), 2):
        assert first.ok and second.ok, (a, first.error, b, second.error)
        for suffix, name, immutable in KEPT:
            before, after = first.find(suffix, name), second.find(suffix, name)
            assert before.urn == after.urn, f"{name} changes URN between {a} and {b}"
            assert before.parent == after.parent
            for path in immutable:
                assert dig(before.inputs, path) == dig(after.inputs, path), f"{name} {path}: {a} -> {b}"


def test_secrets_of_the_controller_are_not_touched_by_pools(rendered):
    base = rendered["no-pools"].find(":Secret", "admin")
    for name, synthesis in rendered.items():
        assert synthesis.find(":Secret", "admin").raw_inputs == base.raw_inputs, name


@pytest.mark.parametrize("stack", [s for s in STACKS if stack_config(s)["jenkins:environment"] in ("staging", "prod")])
def test_protection_is_on_where_the_environment_demands(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    for suffix, name in ((":PersistentVolumeClaim", "jenkins-home"), (":Namespace", "controller-namespace")):
        record = synthesis.find(suffix, name)
        assert record.protect and record.retain_on_delete


def test_dind_caches_are_per_replica_and_never_shared(rendered):
    synthesis = rendered["all-pools"]
    claims_in_use = []
    dind_sets = 0
    for record in synthesis.kubernetes_objects():
        spec = record.inputs.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        containers = pod.get("containers", []) + pod.get("initContainers", [])
        if not any(c.get("securityContext", {}).get("privileged") for c in containers):
            continue
        dind_sets += 1
        assert record.inputs["kind"] == "StatefulSet", f"{record.name}: a DinD daemon must be a StatefulSet"
        templates = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
        mounts = {m["name"]: m["mountPath"] for c in containers if c.get("securityContext", {}).get("privileged")
                  for m in c.get("volumeMounts", [])}
        cache = [name for name, path in mounts.items() if path == "/var/lib/docker"]
        assert cache and set(cache) <= templates, f"{record.name}: /var/lib/docker is not a per-replica claim"
        claims_in_use += [v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", [])
                          if "persistentVolumeClaim" in v]
    assert dind_sets == 2
    assert "jenkins-home" not in claims_in_use and len(claims_in_use) == len(set(claims_in_use))
