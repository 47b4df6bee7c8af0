"""What the stacks promise together: every pool type, privilege only where it belongs, policy per environment."""
from __future__ import annotations

import pytest

from components.pools import POOL_TYPES
from tests.conftest import ROOT, STACKS, stack_config
from tools import check
from tools.check import policy_resources
from tools.policy_engine import PolicyPackSession

HOST_SOCKET_POOLS = {"controller", "docker-cloud"}


def pod_specs(synthesis):
    for record in synthesis.kubernetes_objects():
        spec = record.inputs.get("spec", {})
        template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template") or {}
        pod = template.get("spec")
        if pod:
            yield record, template.get("metadata", {}).get("labels", {}), pod


def test_stacks_cover_every_pool_type_and_prod_runs_nothing_privileged():
    used = {pool["type"] for stack in STACKS for pool in stack_config(stack).get("jenkins:pools", [])}
    assert used == set(POOL_TYPES)
    prod = {pool["type"] for pool in stack_config("prod").get("jenkins:pools", [])}
    assert not prod & {"controller", "docker-cloud", "docker-cloud-dind", "swarm-dind"}


@pytest.mark.parametrize("stack", STACKS)
def test_privileged_only_in_dind_and_host_paths_only_for_the_node_socket(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    socket_pools = {p["type"] for p in stack_config(stack).get("jenkins:pools", [])} & HOST_SOCKET_POOLS
    for record, labels, pod in pod_specs(synthesis):
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            if container.get("securityContext", {}).get("privileged"):
                assert labels.get("jenkins-k8s.io/dind") == "true" and container["name"] == "dind", \
                    f"{record.name}/{container['name']} is privileged"
        for volume in pod.get("volumes", []):
            if "hostPath" in volume:
                assert socket_pools, f"{record.name} mounts a host path without a socket pool"
                assert record.name == "jenkins" and volume["hostPath"]["type"] == "Socket"
                assert volume["hostPath"]["path"].endswith("docker.sock")


@pytest.fixture(scope="module")
def policy_pack():
    """One running pack for the module: each check configures it afresh, as each engine run does."""
    with PolicyPackSession() as session:
        yield session


@pytest.mark.parametrize("stack", [s for s in STACKS if not (
    {p["type"] for p in stack_config(s).get("jenkins:pools", [])} & HOST_SOCKET_POOLS)])
def test_controller_pod_passes_restricted_through_the_policy_pack(stack_syntheses, policy_pack, stack):
    synthesis = stack_syntheses[stack]
    controller = [r for r in policy_resources(synthesis) if r.name == "jenkins" and r.type.endswith(":StatefulSet")]
    violations = policy_pack.check(controller, ROOT / "policy" / "config" / "restricted.json")
    assert violations == []


def test_prod_policy_refuses_the_dev_stack_naming_pool_resources_and_containers(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert check.main(["dev", "--policy-config", "policy/config/prod.json"]) == 1
    printed = capsys.readouterr().out
    assert 'StatefulSet jenkins-dev-dind/dind container "dind"' in printed
    assert "securityContext.privileged" in printed
    assert "jenkins-dev-swarm-dind" in printed
