"""RBAC and NetworkPolicies grant exactly what the enabled pools need."""
from __future__ import annotations

import pytest

from tests.conftest import STACKS, minimal_config, stack_config, synth_config
from tests.test_data_safety import SAMPLES


def objects(synthesis, kind):
    return [r.inputs for r in synthesis.kubernetes_objects() if r.inputs["kind"] == kind]


def source_namespaces(rule):
    return {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}


CASES = {**{stack: None for stack in STACKS}, "all-pools": minimal_config(pools=list(SAMPLES.values())),
         "no-pools": minimal_config()}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, stack_syntheses):
    config = CASES[request.param]
    if config is None:
        return request.param, stack_config(request.param), stack_syntheses[request.param]
    return request.param, config, synth_config(config)


def test_nothing_cluster_wide(case):
    _, _, synthesis = case
    assert objects(synthesis, "ClusterRole") == [] and objects(synthesis, "ClusterRoleBinding") == []


def test_roles_exist_only_for_kubernetes_pools_and_grant_only_agent_pods(case):
    _, config, synthesis = case
    pools = config.get("jenkins:pools", [])
    namespace = config["jenkins:namespace"]
    expected = {f"{namespace}-{p['name']}" for p in pools if p["type"] == "kubernetes"}
    # The JENKINS_HOME snapshot job's Role (controller.backup) is the only other one.
    roles = [r for r in objects(synthesis, "Role") if r["metadata"]["name"] != "jenkins-home-backup"]
    assert {r["metadata"]["namespace"] for r in roles} == expected
    for role in roles:
        assert role["rules"] == PLUGIN_ROLE_RULES
        assert not any("secrets" in rule["resources"] for rule in role["rules"])
    for binding in objects(synthesis, "RoleBinding"):
        if binding["metadata"]["name"] != "jenkins-home-backup":
            assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "jenkins", "namespace": namespace}]


def test_the_backup_role_is_there_only_with_backups_and_touches_only_volume_snapshots(case):
    _, config, synthesis = case
    backup = [r for r in objects(synthesis, "Role") if r["metadata"]["name"] == "jenkins-home-backup"]
    if "backup" not in config.get("jenkins:controller", {}):
        assert backup == []
        return
    [role] = backup
    assert role["metadata"]["namespace"] == config["jenkins:namespace"]
    assert role["rules"] == [{"apiGroups": ["snapshot.storage.k8s.io"], "resources": ["volumesnapshots"],
                              "verbs": ["create", "list", "delete"]}]


# What jenkinsci/kubernetes-plugin (read at a82d78a0, after 4423.vb_59f230b_ce53; pinned
# 4547.v52f3080db_8cd) calls on agent pods; re-read on a version bump. Its sample Role
# (src/main/kubernetes/service-account.yml:15-30) adds `secrets: get`, which no code under
# src/main uses (`git grep '\.secrets()' src/main` finds nothing), and gives events only `watch`,
# while KubernetesComputer.java:126-130 lists them.
PLUGIN_ROLE_RULES = [
    {"apiGroups": [""], "resources": ["pods"],
     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]},
]


def test_kubernetes_role_grants_the_plugins_calls_and_no_secrets():
    synthesis = synth_config(minimal_config(pools=[
        {"name": "k8s", "type": "kubernetes", "templates": [{"name": "default", "labels": ["k8s"]}]}]))
    roles = objects(synthesis, "Role")
    assert [role["rules"] for role in roles] == [PLUGIN_ROLE_RULES]


def test_service_account_token_only_with_the_kubernetes_plugin(case):
    _, config, synthesis = case
    needs_api = any(p["type"] == "kubernetes" for p in config.get("jenkins:pools", []))
    account = objects(synthesis, "ServiceAccount")[0]
    assert account["automountServiceAccountToken"] is needs_api


def test_controller_ports_open_only_to_its_agents_and_clients(case):
    _, config, synthesis = case
    namespace = config["jenkins:namespace"]
    policy = next(p for p in objects(synthesis, "NetworkPolicy") if p["metadata"]["namespace"] == namespace)
    # Pools whose agents run in pods of their own namespace `<namespace>-<pool>` (the topology, not
    # the program's outputs); node-daemon and controller executors have none (their traffic comes
    # from the node or the controller itself).
    in_pods = {"swarm", "swarm-dind", "kubernetes", "docker-cloud-dind"}
    agent_namespaces = {f"{namespace}-{pool['name']}" for pool in config.get("jenkins:pools", [])
                        if pool["type"] in in_pods}
    by_port = {rule["ports"][0]["port"]: source_namespaces(rule) for rule in policy["spec"]["ingress"]}
    # Agents connect over WebSocket on 8080: no other port is let in.
    assert set(by_port) <= {8080}
    ingress = config.get("jenkins:exposure", {}).get("ingress")
    clients = agent_namespaces | ({ingress.get("controllerNamespace", "ingress-nginx")} if ingress else set())
    assert by_port.get(8080, set()) == clients


def test_every_dind_daemon_is_reachable_only_from_jenkins(case):
    name, config, synthesis = case
    namespace = config["jenkins:namespace"]
    # The one peer a daemon may accept: the controller's pods, in the controller's namespace.
    controller = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                  "podSelector": {"matchLabels": {"app.kubernetes.io/component": "controller",
                                                  "app.kubernetes.io/name": "jenkins"}}}
    policies = objects(synthesis, "NetworkPolicy")
    daemons = 0
    for record in synthesis.kubernetes_objects():
        pod = record.inputs.get("spec", {}).get("template", {})
        containers = pod.get("spec", {}).get("containers", []) + pod.get("spec", {}).get("initContainers", [])
        if not any(c.get("securityContext", {}).get("privileged") for c in containers):
            continue
        daemons += 1
        labels = pod["metadata"]["labels"]
        covering = [p for p in policies if p["metadata"]["namespace"] == record.inputs["metadata"]["namespace"]
                    and "Ingress" in p["spec"]["policyTypes"]
                    and all(labels.get(k) == v for k, v in p["spec"]["podSelector"].get("matchLabels", {}).items())]
        assert covering, f"{record.name}: no NetworkPolicy selects the DinD pod"
        for policy in covering:
            for rule in policy["spec"]["ingress"]:
                assert rule.get("from"), f"{policy['metadata']['name']}: a rule without peers admits everyone"
                assert all(peer == controller for peer in rule["from"]), rule["from"]
    # dev, all-pools and e2e run DinD daemons (docker-cloud-dind and swarm-dind); the others none.
    assert daemons == {"dev": 2, "all-pools": 2, "e2e": 2}.get(name, 0), name


def test_network_policies_can_be_turned_off_everywhere():
    synthesis = synth_config(minimal_config(pools=list(SAMPLES.values()), networkPolicies=False))
    assert synthesis.ok, synthesis.error
    assert objects(synthesis, "NetworkPolicy") == []
    assert objects(synth_config(minimal_config(pools=list(SAMPLES.values()))), "NetworkPolicy")
