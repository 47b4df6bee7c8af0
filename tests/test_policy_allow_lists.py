"""An allow entry exempts exactly what it names: its namespaces, its pod labels and, where the
policy supports it, its volume types; nothing else slips through with it. Through the real pack."""
from __future__ import annotations

import json

import pytest

from tests.policy_pack import shared_pack
from tests.test_policy_engine import RESTRICTED_CONTAINER, container, namespace, policies, resource, workload

DIND = {"jenkins-k8s.io/dind": "true"}
PRIVILEGED_ALLOW = {"pss-privileged": {"enforcementLevel": "mandatory", "allow": [
    {"namespaces": ["jenkins-*-dind"], "podLabels": DIND, "reason": "test"}]}}
VOLUMES_ALLOW = {"pss-restricted-volumes": {"enforcementLevel": "mandatory", "allow": [
    {"namespaces": ["jenkins"], "podLabels": {"socket": "true"}, "volumeTypes": ["hostPath"], "reason": "test"}]}}


@pytest.fixture(scope="module")
def pack(request):
    return shared_pack(request)


def check(pack, tmp_path, config: dict, body: dict) -> set[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    ns = body["metadata"]["namespace"]
    return policies(pack.check([resource(namespace(ns, "privileged")), resource(body)], path), "mandatory")


def privileged_pod(ns: str, labels: dict | None) -> dict:
    return workload(namespace=ns, labels=labels,
                    containers=[container(securityContext={**RESTRICTED_CONTAINER, "privileged": True})])


@pytest.mark.parametrize("ns,labels,exempt", [
    ("jenkins-dev-dind", DIND, True),        # both the namespace and the labels match
    ("prod-apps", DIND, False),              # labelled, but in a namespace the entry does not name
    ("jenkins-dev-dind", None, False),       # right namespace, pod without the label
    ("jenkins-dev-dind", {"jenkins-k8s.io/dind": "yes"}, False),  # label present, other value
])
def test_privileged_exemption_needs_namespace_and_labels(pack, tmp_path, ns, labels, exempt):
    found = check(pack, tmp_path, PRIVILEGED_ALLOW, privileged_pod(ns, labels))
    assert ("pss-privileged" not in found) is exempt


def with_volumes(*volumes: dict) -> dict:
    return workload(namespace="jenkins", labels={"socket": "true"}, volumes=list(volumes))


SOCKET = {"name": "sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}}
NFS = {"name": "share", "nfs": {"server": "nfs.example", "path": "/x"}}


def test_volume_type_exemption_covers_only_the_listed_types(pack, tmp_path):
    assert "pss-restricted-volumes" not in check(pack, tmp_path, VOLUMES_ALLOW, with_volumes(SOCKET))
    assert "pss-restricted-volumes" in check(pack, tmp_path, VOLUMES_ALLOW, with_volumes(SOCKET, NFS))
    assert "pss-restricted-volumes" in check(pack, tmp_path, VOLUMES_ALLOW, with_volumes(NFS))
