"""Placement and disruption budgets, read from what the real program renders: the controller
StatefulSet, every pool workload, the Kubernetes-plugin pod YAML in JCasC, the PodDisruptionBudgets."""
from __future__ import annotations

import pytest
import yaml

from components.config import ConfigError, parse_stack_config
from tests.conftest import minimal_config, synth_config
from tests.helpers import casc, schema_errors, synth_pools

ARM = {"kubernetes.io/arch": "arm64"}
DEDICATED = [{"key": "dedicated", "operator": "Equal", "value": "jenkins", "effect": "NoSchedule"}]
ZONE_SPREAD = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}]
NOT_SPOT = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
    {"matchExpressions": [{"key": "node.kubernetes.io/lifecycle", "operator": "NotIn", "values": ["spot"]}]}]}}}
PLACED = {"nodeSelector": ARM, "tolerations": DEDICATED, "affinity": NOT_SPOT,
          "topologySpreadConstraints": ZONE_SPREAD, "priorityClassName": "jenkins-agents"}
BUILD_NODES = {"nodeSelector": {"pool": "builds"}}

POOLS = [
    {"name": "swarm", "type": "swarm", "labels": ["swarm"], "scheduling": PLACED},
    {"name": "sdind", "type": "swarm-dind", "labels": ["docker"], "scheduling": PLACED},
    {"name": "cdind", "type": "docker-cloud-dind", "scheduling": PLACED,
     "templates": [{"name": "t", "labels": ["dind"], "image": "jenkins/inbound-agent:3345.v03dee9b_f88fc-1-jdk21"}]},
    {"name": "k8s", "type": "kubernetes", "scheduling": PLACED, "templates": [
        {"name": "inherits", "labels": ["a"]},
        {"name": "own", "labels": ["b"], "scheduling": BUILD_NODES},
    ]},
]
CONTROLLER = {"scheduling": {"nodeSelector": {"jenkins": "controller"}, "priorityClassName": "jenkins-controller"}}


@pytest.fixture(scope="module")
def placed():
    synthesis = synth_config(minimal_config(controller=CONTROLLER, pools=POOLS))
    assert synthesis.ok, synthesis.error
    return synthesis


def workload(synthesis, kind: str, name: str, namespace: str) -> dict:
    found = [m for m in synthesis.manifests(redacted=False)
             if m["kind"] == kind and m["metadata"]["name"] == name and m["metadata"].get("namespace") == namespace]
    assert len(found) == 1, (kind, name, namespace)
    return found[0]


def budgets(synthesis) -> dict[str, dict]:
    return {m["metadata"]["namespace"]: m for m in synthesis.manifests(redacted=False)
            if m["kind"] == "PodDisruptionBudget"}


def agent_pods(synthesis) -> dict[str, dict]:
    return {t["name"]: yaml.safe_load(t["yaml"]) for cloud in casc(synthesis)["jenkins"]["clouds"]
            if "kubernetes" in cloud for t in cloud["kubernetes"]["templates"]}


WORKLOADS = [("StatefulSet", "swarm", "jenkins-test-swarm"), ("StatefulSet", "sdind", "jenkins-test-sdind"),
             ("StatefulSet", "dind", "jenkins-test-cdind")]


@pytest.mark.parametrize("kind,name,namespace", WORKLOADS)
def test_pool_workloads_carry_the_pools_placement(placed, kind, name, namespace):
    body = workload(placed, kind, name, namespace)
    spec = body["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    assert spec["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "jenkins",
                                    "effect": "NoSchedule"}]
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["spot"]
    assert spec["priorityClassName"] == "jenkins-agents"
    # A spread constraint without its own selector counts this workload's pods: the StatefulSet's.
    (constraint,) = spec["topologySpreadConstraints"]
    assert constraint["topologyKey"] == "topology.kubernetes.io/zone"
    assert constraint["labelSelector"]["matchLabels"] == body["spec"]["selector"]["matchLabels"]


def test_controller_statefulset_carries_the_controllers_placement(placed):
    spec = workload(placed, "StatefulSet", "jenkins", "jenkins-test")["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"jenkins": "controller"}
    assert spec["priorityClassName"] == "jenkins-controller"
    assert "tolerations" not in spec and "affinity" not in spec


def test_pod_templates_inherit_the_pools_placement_unless_they_set_their_own(placed):
    pods = agent_pods(placed)
    inherited = pods["inherits"]["spec"]
    assert inherited["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    assert inherited["priorityClassName"] == "jenkins-agents"
    assert inherited["tolerations"][0]["key"] == "dedicated"
    assert inherited["topologySpreadConstraints"][0]["labelSelector"] == {
        "matchLabels": {"jenkins-k8s.io/pool": "k8s"}}
    assert pods["inherits"]["metadata"]["labels"]["jenkins-k8s.io/pool"] == "k8s"
    own = pods["own"]["spec"]
    assert own["nodeSelector"] == {"pool": "builds"}
    assert not {"tolerations", "affinity", "priorityClassName", "topologySpreadConstraints"} & set(own)


def test_unplaced_stack_renders_no_placement_fields():
    synthesis = synth_pools({"name": "swarm", "type": "swarm", "labels": ["s"]},
                            {"name": "k8s", "type": "kubernetes", "templates": [{"name": "t", "labels": ["k"]}]})
    specs = [workload(synthesis, "StatefulSet", "swarm", "jenkins-test-swarm")["spec"]["template"]["spec"],
             workload(synthesis, "StatefulSet", "jenkins", "jenkins-test")["spec"]["template"]["spec"],
             agent_pods(synthesis)["t"]["spec"]]
    for spec in specs:
        assert not {"nodeSelector", "tolerations", "affinity", "priorityClassName",
                    "topologySpreadConstraints"} & set(spec)


@pytest.mark.parametrize("version", ["1.30", "1.37"])
def test_placed_stack_is_valid_kubernetes(placed, version):
    assert schema_errors(placed, version) == []


@pytest.mark.parametrize("pool,message", [
    ({"name": "d", "type": "docker-cloud", "scheduling": BUILD_NODES,
      "templates": [{"name": "t", "labels": ["x"], "image": "jenkins/agent:3345.v03dee9b_f88fc-1-jdk21"}]},
     "jenkins:pools[0].scheduling: docker-cloud agents are containers the node's Docker daemon starts, not pods"),
    ({"name": "c", "type": "controller", "scheduling": BUILD_NODES},
     "jenkins:pools[0].scheduling: builds run in the controller pod: place it with controller.scheduling"),
])
def test_pools_whose_agents_are_not_pods_refuse_scheduling(pool, message):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "test", "namespace": "jenkins-test", "pools": [pool]})
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("scheduling,message", [
    ({"tolerations": [{"operator": "Exists", "value": "x"}]},
     "jenkins:controller.scheduling.tolerations[0]: operator Exists takes no value"),
    ({"tolerations": [{"value": "x"}]},
     "jenkins:controller.scheduling.tolerations[0]: a toleration without key needs operator Exists"),
    ({"tolerations": [{"key": "k", "effect": "NoExecut"}]},
     "jenkins:controller.scheduling.tolerations[0].effect: must be 'NoSchedule', 'PreferNoSchedule' or 'NoExecute'"),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "a", "operator": "In"}]}]}}}},
     "jenkins:controller.scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0]: operator In needs at least one value"),
    ({"affinity": {"nodeAfinity": {}}}, "jenkins:controller.scheduling.affinity.nodeAfinity: unknown key"),
    ({"topologySpreadConstraints": [{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]},
     "jenkins:controller.scheduling.topologySpreadConstraints[0].maxSkew: must be at least 1"),
    ({"nodeSelector": {"bad key!": "x"}}, "jenkins:controller.scheduling.nodeSelector.bad key!"),
])
def test_wrong_shapes_are_refused_with_their_key_path(scheduling, message):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "test", "namespace": "jenkins-test",
                            "controller": {"scheduling": scheduling}})
    assert str(error.value).startswith(message), str(error.value)


# ------------------------------------------------------------------ PodDisruptionBudgets

def pod_labels(synthesis, kind: str, name: str, namespace: str) -> dict:
    return workload(synthesis, kind, name, namespace)["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize("kind,name,namespace", [
    ("StatefulSet", "jenkins", "jenkins-test"),     # the controller
    ("StatefulSet", "sdind", "jenkins-test-sdind"),  # swarm clients with their daemons
    ("StatefulSet", "dind", "jenkins-test-cdind"),   # the docker-cloud daemons
])
def test_budgets_select_exactly_the_pods_that_hold_work(placed, kind, name, namespace):
    budget = budgets(placed)[namespace]
    assert budget["apiVersion"] == "policy/v1"
    assert budget["spec"]["maxUnavailable"] == 0
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    selector = budget["spec"]["selector"]["matchLabels"]
    labels = pod_labels(placed, kind, name, namespace)
    assert selector and selector.items() <= labels.items()
    # ... and no other workload's pods in that namespace.
    others = [m for m in placed.manifests(redacted=False) if m["metadata"].get("namespace") == namespace
              and "template" in m.get("spec", {}) and m["metadata"]["name"] != name]
    assert not [m for m in others if selector.items() <= m["spec"]["template"]["metadata"]["labels"].items()]


def test_pools_without_work_to_lose_get_no_budget(placed):
    # Plain swarm clients and Kubernetes-plugin pods: nothing the program runs would block a drain.
    assert set(budgets(placed)) == {"jenkins-test", "jenkins-test-sdind", "jenkins-test-cdind"}


def test_budgets_can_be_relaxed_or_turned_off():
    synthesis = synth_config(minimal_config(
        controller={"disruptionBudget": {"enabled": False}},
        pools=[{"name": "sdind", "type": "swarm-dind", "labels": ["docker"], "replicas": 3,
                "disruptionBudget": {"maxUnavailable": 1}}]))
    assert synthesis.ok, synthesis.error
    found = budgets(synthesis)
    assert "jenkins-test" not in found
    assert found["jenkins-test-sdind"]["spec"]["maxUnavailable"] == 1
