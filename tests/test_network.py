"""Who may talk to whom: the controller's listeners and Services, agent and DinD egress, pool ingress."""
from __future__ import annotations

import ipaddress

import pytest
import yaml

from tests.conftest import STACKS, minimal_config, stack_config, synth_config
from tests.helpers import K8S_POOL, SWARM_POOL, casc, controller_pod, synth_pools
from tests.test_data_safety import SAMPLES

DIND_POOL = SAMPLES["docker-cloud-dind"]


def manifests(synthesis, kind: str) -> list[dict]:
    return [m for m in synthesis.manifests(redacted=False) if m["kind"] == kind]


def policies_in(synthesis, namespace: str) -> list[dict]:
    return [p for p in manifests(synthesis, "NetworkPolicy") if p["metadata"]["namespace"] == namespace]


@pytest.fixture(scope="module")
def every_pool():
    synthesis = synth_config(minimal_config(pools=list(SAMPLES.values())))
    assert synthesis.ok, synthesis.error
    return synthesis


# ------------------------------------------------------------------ the TCP agent listener is closed

def test_tcp_agent_listener_is_disabled_in_jcasc_and_at_boot(every_pool):
    # -1 disables the listener in Jenkins core; JCasC sets it, and the system property makes it the
    # starting value instead of the image's JENKINS_SLAVE_AGENT_PORT=50000.
    assert casc(every_pool)["jenkins"]["slaveAgentPort"] == -1
    jenkins = next(c for c in controller_pod(every_pool)["spec"]["containers"] if c["name"] == "jenkins")
    java_opts = next(e["value"] for e in jenkins["env"] if e["name"] == "JAVA_OPTS").split()
    assert "-Djenkins.model.Jenkins.slaveAgentPort=-1" in java_opts


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_offers_or_admits_port_50000(stack_syntheses, stack):
    text = yaml.safe_dump_all(stack_syntheses[stack].manifests(redacted=False))
    assert "50000" not in text
    services = {s["metadata"]["name"] for s in manifests(stack_syntheses[stack], "Service")
                if s["metadata"]["namespace"] == stack_config(stack)["jenkins:namespace"]}
    assert services == {"jenkins", "jenkins-headless"}


def test_every_connector_the_pools_configure_uses_websocket(every_pool):
    document = casc(every_pool)
    for cloud in document["jenkins"]["clouds"]:
        if "kubernetes" in cloud:
            assert cloud["kubernetes"]["webSocket"] is True
        for template in cloud.get("docker", {}).get("templates", []):
            jnlp = template["connector"].get("jnlp")
            if jnlp:
                assert "-webSocket" in jnlp["entryPointArgumentsString"].split("\n")
    swarm = synth_pools(SWARM_POOL).find(":StatefulSet", "swarm-agents").inputs
    client = next(c for c in swarm["spec"]["template"]["spec"]["containers"] if c["name"] == "swarm-client")
    assert "-webSocket" in client["args"]


# ------------------------------------------------------------------ the StatefulSet's governing Service

@pytest.mark.parametrize("stack", STACKS)
def test_controller_statefulset_is_governed_by_a_headless_service(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    statefulset = synthesis.find(":StatefulSet", "jenkins").inputs
    governing = next(s for s in manifests(synthesis, "Service")
                     if s["metadata"]["name"] == statefulset["spec"]["serviceName"]
                     and s["metadata"]["namespace"] == statefulset["metadata"]["namespace"])
    assert governing["spec"]["clusterIP"] == "None"
    assert governing["spec"]["selector"] == statefulset["spec"]["selector"]["matchLabels"]
    # Clients and the Ingress keep a load-balanced address.
    web = next(s for s in manifests(synthesis, "Service") if s["metadata"]["name"] == "jenkins")
    assert web["spec"]["type"] == "ClusterIP" and web["spec"].get("clusterIP") != "None"


# ------------------------------------------------------------------ pool namespaces: egress and ingress

CONTROLLER_PODS = {"app.kubernetes.io/name": "jenkins", "app.kubernetes.io/component": "controller"}
DNS_PEER = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
# Cloud metadata, the usual Service/pod ranges, and a node address: none may be reachable from builds.
INTERNAL_ADDRESSES = ("169.254.169.254", "10.96.0.1", "10.244.3.7", "172.20.0.10", "192.168.1.20",
                      "100.64.0.5", "fd00:ec2::254", "fe80::1")
PUBLIC_ADDRESSES = ("140.82.112.3", "104.16.0.1", "2606:50c0:8000::154")


def pool_namespaces(synthesis, controller_namespace: str) -> set[str]:
    return {p["namespace"] for p in synthesis.outputs["pools"].values() if p["namespace"] != controller_namespace}


def egress_policies(synthesis, namespace: str) -> list[dict]:
    return [p for p in policies_in(synthesis, namespace) if "Egress" in p["spec"]["policyTypes"]]


def reachable(policy: dict, address: str, port: int, protocol: str = "TCP") -> bool:
    """Whether an ipBlock rule of this egress policy admits the address (pod and namespace peers aside)."""
    ip = ipaddress.ip_address(address)
    for rule in policy["spec"]["egress"]:
        ports = rule.get("ports")
        if ports and not any(p["port"] == port and p["protocol"] == protocol for p in ports):
            continue
        for peer in rule["to"]:
            block = peer.get("ipBlock")
            if block and ip in ipaddress.ip_network(block["cidr"]) and not any(
                    ip in ipaddress.ip_network(cidr) for cidr in block.get("except", [])):
                return True
    return False


@pytest.mark.parametrize("stack", STACKS)
def test_every_pool_namespace_limits_egress_to_dns_the_controller_and_the_internet(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    controller_namespace = stack_config(stack)["jenkins:namespace"]
    namespaces = pool_namespaces(synthesis, controller_namespace)
    assert namespaces, f"{stack} has no pool namespace to check"
    for namespace in namespaces:
        [policy] = egress_policies(synthesis, namespace)
        assert policy["spec"]["podSelector"] == {}  # every pod: build pods, swarm clients, DinD daemons
        rules = policy["spec"]["egress"]
        dns = [r for r in rules if DNS_PEER in r["to"]]
        assert [r["ports"] for r in dns] == [[{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]]
        controller_peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": controller_namespace}},
                           "podSelector": {"matchLabels": CONTROLLER_PODS}}
        to_controller = [r for r in rules if controller_peer in r["to"]]
        assert [r["ports"] for r in to_controller] == [[{"protocol": "TCP", "port": 8080}]]
        for address in INTERNAL_ADDRESSES:
            assert not reachable(policy, address, 443), f"{namespace} can reach {address}"
        for address in PUBLIC_ADDRESSES:
            assert reachable(policy, address, 443) and reachable(policy, address, 22), address


def test_the_controller_keeps_open_egress():
    # It calls the API server (kubernetes pool), the update centre and SCM hosts whose addresses
    # are site-specific; its namespace gets no egress policy.
    synthesis = synth_config(minimal_config(pools=[K8S_POOL]))
    assert synthesis.ok, synthesis.error
    assert egress_policies(synthesis, "jenkins-test") == []


def test_egress_is_configurable_and_an_allowed_range_inside_a_denied_one_wins():
    synthesis = synth_config(minimal_config(pools=[K8S_POOL], agentEgress={
        "allowCidrs": ["0.0.0.0/0", "10.20.0.0/16"],
        "denyCidrs": ["10.0.0.0/8", "169.254.0.0/16", "203.0.113.0/24"],
        "dns": {"namespace": "dns", "podLabels": {"app": "coredns"}}}))
    assert synthesis.ok, synthesis.error
    [policy] = egress_policies(synthesis, "jenkins-test-k8s")
    assert reachable(policy, "10.20.5.5", 5000)        # an internal registry the stack opens
    assert not reachable(policy, "10.30.0.1", 443)
    assert not reachable(policy, "203.0.113.9", 443)
    assert not reachable(policy, "2606:50c0:8000::154", 443)  # IPv6 was not allowed this time
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns"}},
            "podSelector": {"matchLabels": {"app": "coredns"}}} in policy["spec"]["egress"][0]["to"]


def test_no_internet_leaves_dns_and_the_controller():
    synthesis = synth_config(minimal_config(pools=[K8S_POOL], agentEgress={"allowCidrs": []}))
    [policy] = egress_policies(synthesis, "jenkins-test-k8s")
    assert len(policy["spec"]["egress"]) == 2
    assert not any("ipBlock" in peer for rule in policy["spec"]["egress"] for peer in rule["to"])


def test_every_except_is_a_strict_subset_of_its_cidr(every_pool):
    # The API server rejects any other except entry.
    checked = 0
    for policy in manifests(every_pool, "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                for cidr in (block or {}).get("except", []):
                    outer, inner = ipaddress.ip_network(block["cidr"]), ipaddress.ip_network(cidr)
                    assert inner.version == outer.version and inner.subnet_of(outer) and inner != outer
                    checked += 1
    assert checked >= 7 * 3  # seven private ranges in each of the three pool namespaces


@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_pool_pods_accept_no_connections(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    namespaces = [p["namespace"] for p in synthesis.outputs["pools"].values() if p["type"] == "kubernetes"]
    assert namespaces
    for namespace in namespaces:
        ingress = [p["spec"] for p in policies_in(synthesis, namespace) if "Ingress" in p["spec"]["policyTypes"]]
        assert ingress == [{"podSelector": {}, "policyTypes": ["Ingress"], "ingress": []}]


def test_network_policies_false_turns_egress_off_too_and_agent_egress_then_is_refused():
    off = synth_config(minimal_config(pools=list(SAMPLES.values()), networkPolicies=False))
    assert off.ok, off.error
    assert manifests(off, "NetworkPolicy") == []
    refused = synth_config(minimal_config(pools=[K8S_POOL], networkPolicies=False, agentEgress={"allowCidrs": []}))
    assert refused.error.startswith("jenkins:agentEgress: ") and "\n" not in refused.error
    assert "no effect" in refused.error
    assert refused.records == []


@pytest.mark.parametrize("egress, key", [
    ({"allowCidrs": ["10.0.0.1/8"]}, "jenkins:agentEgress.allowCidrs[0]"),
    ({"denyCidrs": ["metadata"]}, "jenkins:agentEgress.denyCidrs[0]"),
    ({"dns": {"podLabels": {}}}, "jenkins:agentEgress.dns.podLabels"),
    ({"internet": True}, "jenkins:agentEgress.internet"),
])
def test_bad_egress_config_names_the_key(egress, key):
    synthesis = synth_config(minimal_config(pools=[K8S_POOL], agentEgress=egress))
    assert synthesis.error is not None and synthesis.error.startswith(key + ": "), synthesis.error
    assert synthesis.records == []


# ------------------------------------------------------------------ exposure: TLS is provided or explicitly off

def exposed(**ingress):
    return minimal_config(exposure={"ingress": {"host": "ci.example.org", **ingress}})


def ingress_of(synthesis) -> dict:
    [ingress] = manifests(synthesis, "Ingress")
    return ingress


def test_prod_asks_cert_manager_for_the_secret_its_ingress_serves(stack_syntheses):
    synthesis = stack_syntheses["prod"]
    ingress = ingress_of(synthesis)
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    assert ingress["spec"]["tls"] == [{"hosts": ["jenkins.example.com"], "secretName": "jenkins-tls"}]
    assert casc(synthesis)["unclassified"]["location"]["url"] == "https://jenkins.example.com/"


def test_staging_is_served_over_tls(stack_syntheses):
    synthesis = stack_syntheses["staging"]
    ingress = ingress_of(synthesis)
    assert ingress["spec"]["tls"] == [{"hosts": ["jenkins-staging.example.com"], "secretName": "jenkins-tls"}]
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
    assert casc(synthesis)["unclassified"]["location"]["url"].startswith("https://")
    assert not [w for w in synthesis.warnings if "clear text" in w]


def test_a_namespaced_issuer_and_extra_annotations():
    synthesis = synth_config(exposed(tls="cert-manager", issuer={"kind": "Issuer", "name": "ca"},
                                     tlsSecretName="ci-cert",
                                     annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "50m"}))
    assert synthesis.ok, synthesis.error
    ingress = ingress_of(synthesis)
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/issuer": "ca",
                                                  "nginx.ingress.kubernetes.io/proxy-body-size": "50m"}
    assert ingress["spec"]["tls"] == [{"hosts": ["ci.example.org"], "secretName": "ci-cert"}]


def test_an_existing_secret_is_served_as_named_without_cert_manager():
    synthesis = synth_config(exposed(tls="existing-secret", tlsSecretName="wildcard-tls"))
    ingress = ingress_of(synthesis)
    assert ingress["spec"]["tls"] == [{"hosts": ["ci.example.org"], "secretName": "wildcard-tls"}]
    assert not any(k.startswith("cert-manager.io/") for k in (ingress["metadata"].get("annotations") or {}))
    assert synthesis.outputs["url"] == "https://ci.example.org/"


def test_plain_http_must_be_chosen_and_is_warned_about_at_preview():
    synthesis = synth_config(exposed(tls="disabled"))
    assert synthesis.ok, synthesis.error
    assert "tls" not in ingress_of(synthesis)["spec"]
    assert synthesis.outputs["url"] == "http://ci.example.org/"
    assert [w for w in synthesis.warnings if "jenkins:exposure.ingress.tls" in w and "clear text" in w]


def test_public_url_override_reaches_jcasc_and_the_output_but_not_the_agents():
    synthesis = synth_config(minimal_config(
        pools=[K8S_POOL],
        exposure={"url": "https://ci.example.org/jenkins/",
                  "ingress": {"host": "ci-internal.example.org", "tls": "existing-secret", "tlsSecretName": "t"}}))
    assert synthesis.ok, synthesis.error
    assert casc(synthesis)["unclassified"]["location"]["url"] == "https://ci.example.org/jenkins/"
    assert synthesis.outputs["url"] == "https://ci.example.org/jenkins/"
    [cloud] = casc(synthesis)["jenkins"]["clouds"]
    assert cloud["kubernetes"]["jenkinsUrl"] == "http://jenkins.jenkins-test.svc.cluster.local:8080/"


@pytest.mark.parametrize("exposure, key, says", [
    ({"ingress": {"host": "ci.example.org"}}, "jenkins:exposure.ingress.tls", "required"),
    ({"ingress": {"host": "ci.example.org", "tls": "cert-manager"}}, "jenkins:exposure.ingress.tls", "issuer"),
    ({"ingress": {"host": "ci.example.org", "tls": "existing-secret"}}, "jenkins:exposure.ingress.tls",
     "tlsSecretName"),
    ({"ingress": {"host": "ci.example.org", "tls": "disabled", "tlsSecretName": "x"}}, "jenkins:exposure.ingress.tls",
     "tlsSecretName"),
    ({"ingress": {"host": "ci.example.org", "tls": "cert-manager", "issuer": {"kind": "Vault", "name": "v"}}},
     "jenkins:exposure.ingress.issuer.kind", "ClusterIssuer"),
    ({"ingress": {"host": "ci.example.org", "tls": "disabled"}, "url": "https://ci.example.org/"},
     "jenkins:exposure.url", "disabled"),
    ({"ingress": {"host": "ci.example.org", "tls": "existing-secret", "tlsSecretName": "x"},
      "url": "http://ci.example.org/"}, "jenkins:exposure.url", "https"),
    ({"url": "https://ci.example.org"}, "jenkins:exposure.url", "must match"),
    ({"ingress": {"host": "ci.example.org", "tls": "disabled",
                  "annotations": {"cert-manager.io/cluster-issuer": "x"}}}, "jenkins:exposure.ingress.annotations",
     "issuer"),
])
def test_incomplete_tls_is_refused_in_one_line_naming_the_key(exposure, key, says):
    synthesis = synth_config(minimal_config(exposure=exposure))
    assert synthesis.error is not None and synthesis.error.startswith(key), synthesis.error
    assert says in synthesis.error and "unknown key" not in synthesis.error
    assert "\n" not in synthesis.error
    assert synthesis.records == []
