"""The docker-cloud-dind pool (Docker plugin on a TLS-only DinD StatefulSet), through the real program."""
from __future__ import annotations

import pytest

from components import labels
from components.config import ConfigError, parse_stack_config
from components.pools import dind
from tests.helpers import (
    K8S_POOL, casc, containers, controller_pod, docker_clouds, dockerd_data_roots, host_paths, kept_state,
    mount_for, plugins, pod_templates, privileged_containers, schema_errors, secret_leaks, synth_pools,
)

DIND = {"name": "dind", "type": "docker-cloud-dind", "templates": [
    {"name": "inbound", "labels": ["dind"], "connector": "inbound"},
    {"name": "ssh", "labels": ["dind-ssh"], "connector": "ssh"},
]}
NS = "jenkins-test-dind"
THREE = {**DIND, "daemon": {"replicas": 3, "storageSize": "20Gi"}}


@pytest.fixture(scope="module")
def alone():
    return synth_pools(DIND)


@pytest.fixture(scope="module")
def combined():
    return synth_pools(DIND, K8S_POOL)


@pytest.fixture(scope="module")
def three():
    return synth_pools(THREE)


def dind_set(synthesis) -> dict:
    return synthesis.find(":StatefulSet", "dind-dind").inputs


def server_sans(synthesis) -> list[str]:
    return synthesis.find("tls:index/certRequest:CertRequest", "dind-dind-server").inputs["dnsNames"]


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("which", ["alone", "combined", "three"])
def test_manifests_are_schema_valid(request, which, version):
    assert schema_errors(request.getfixturevalue(which), version) == []


def test_namespace_is_privileged_warn_restricted(alone):
    ns = alone.find(":Namespace", "dind-namespace").inputs["metadata"]
    assert ns["name"] == NS
    assert ns["labels"][labels.PSA_ENFORCE] == "privileged"
    assert ns["labels"][labels.PSA_WARN] == ns["labels"][labels.PSA_AUDIT] == "restricted"
    controller_ns = alone.find(":Namespace", "controller-namespace").inputs["metadata"]["labels"]
    assert controller_ns[labels.PSA_ENFORCE] == "restricted"


def test_dind_statefulset_tls_only_with_cached_storage(alone):
    spec = dind_set(alone)["spec"]
    pod = spec["template"]
    assert pod["metadata"]["labels"][labels.DIND] == "true"
    (daemon,) = pod["spec"]["containers"]
    assert daemon["image"] == "docker:29.7.2-dind"
    assert {"name": "DOCKER_TLS_CERTDIR", "value": dind.CERTS_DIR} in daemon["env"]
    assert [p["containerPort"] for p in daemon["ports"]] == [2376]
    # dockerd-entrypoint.sh uses provided certs only when ca/cert.pem exists and ca/key.pem does not.
    tls = next(v for v in pod["spec"]["volumes"] if v["name"] == "tls")["secret"]
    paths = {i["path"] for i in tls["items"]}
    assert paths == {"ca/cert.pem", "server/ca.pem", "server/cert.pem", "server/key.pem"}
    assert {"name": "tls", "mountPath": "/certs", "readOnly": True} in daemon["volumeMounts"]
    claim = spec["volumeClaimTemplates"][0]
    assert {"name": claim["metadata"]["name"], "mountPath": "/var/lib/docker"} in daemon["volumeMounts"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    service = alone.find(":Service", "dind-dind").inputs["spec"]
    assert service["clusterIP"] == "None" and [p["port"] for p in service["ports"]] == [2376]


def test_privileged_only_in_dind_containers_and_no_host_path(alone, combined, three):
    for synthesis in (alone, combined, three):
        assert privileged_containers(synthesis) == ["StatefulSet/dind:dind"]
        assert host_paths(synthesis) == []
        for where, spec in pod_templates(synthesis):
            for container in containers(spec):
                if where == "StatefulSet/dind" and container["name"] == "dind":
                    continue
                context = container["securityContext"]
                assert context.get("privileged") is not True
                assert context["capabilities"]["drop"] == ["ALL"], (where, container["name"])


def test_server_certificate_names(alone, three):
    one = server_sans(alone)
    assert f"dind.{NS}.svc.cluster.local" in one and f"dind.{NS}.svc" in one and "dind" in one
    assert not any(name.startswith("dind-0.") for name in one)
    many = server_sans(three)
    for index in range(3):
        assert f"dind-{index}.dind.{NS}.svc.cluster.local" in many
    uses = three.find("tls:index/locallySignedCert:LocallySignedCert", "dind-dind-server").inputs["allowedUses"]
    assert "server_auth" in uses
    client = three.find("tls:index/locallySignedCert:LocallySignedCert", "dind-dind-client").inputs
    assert "client_auth" in client["allowedUses"]
    ca = three.find("tls:index/selfSignedCert:SelfSignedCert", "dind-dind-ca").inputs
    assert ca["isCaCertificate"] is True


def test_secrets_hold_keys_and_are_secret(alone):
    server = alone.find(":Secret", "dind-dind-server-tls")
    assert server.inputs["metadata"]["namespace"] == NS
    assert "stringData" in server.secret_inputs
    client = alone.find(":Secret", "dind-docker-client")
    assert client.inputs["metadata"]["namespace"] == "jenkins-test"
    assert "stringData" in client.secret_inputs
    assert client.inputs["stringData"]["key.pem"] in alone.generated_secrets


def test_jcasc_cloud_and_x509_credential(alone):
    document = casc(alone)
    cloud = docker_clouds(document)["dind"]
    assert cloud["dockerApi"]["dockerHost"] == {
        "uri": f"tcp://dind.{NS}.svc.cluster.local:2376", "credentialsId": "dind-docker-client"}
    (credential,) = [c["x509ClientCert"] for d in document["credentials"]["system"]["domainCredentials"]
                     for c in d["credentials"] if "x509ClientCert" in c]
    assert credential["id"] == "dind-docker-client"
    files = {credential[k] for k in ("clientKeySecret", "clientCertificate", "serverCaCertificate")}
    assert files == {"${dind-docker-client-key}", "${dind-docker-client-cert}", "${dind-docker-ca}"}
    # ... and those files are mounted from the client Secret into the controller.
    secrets = next(v for v in controller_pod(alone)["spec"]["volumes"] if v["name"] == "secrets")
    mounted = {i["path"] for s in secrets["projected"]["sources"] if s["secret"]["name"] == "dind-docker-client"
               for i in s["secret"]["items"]}
    assert mounted == {"dind-docker-client-key", "dind-docker-client-cert", "dind-docker-ca"}
    assert {"docker-plugin", "docker-workflow", "docker-commons"} <= plugins(alone)
    jnlp = next(t for t in cloud["templates"] if t["name"] == "inbound")["connector"]["jnlp"]
    assert jnlp["jenkinsUrl"] == "http://jenkins.jenkins-test.svc.cluster.local:8080/"


def test_one_cloud_per_replica(three):
    clouds = docker_clouds(casc(three))
    assert sorted(clouds) == ["dind-0", "dind-1", "dind-2"]
    assert clouds["dind-1"]["dockerApi"]["dockerHost"]["uri"] == f"tcp://dind-1.dind.{NS}.svc.cluster.local:2376"
    assert dind_set(three)["spec"]["replicas"] == 3


def test_network_policy_lets_only_the_controller_in(alone):
    policy = alone.find(":NetworkPolicy", "dind-dind-ingress").inputs["spec"]
    assert policy["podSelector"]["matchLabels"][labels.POOL] == "dind"
    assert policy["policyTypes"] == ["Ingress"]
    for rule in policy["ingress"]:
        (peer,) = rule["from"]
        assert peer["namespaceSelector"]["matchLabels"] == {labels.NAMESPACE_NAME: "jenkins-test"}
        assert peer["podSelector"]["matchLabels"][labels.COMPONENT] == "controller"
    assert policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 2376}]
    # Agents inside DinD reach the controller through the DinD pod: its namespace is an agent namespace.
    controller_policy = alone.find(":NetworkPolicy", "controller-ingress").inputs["spec"]
    sources = [p["namespaceSelector"]["matchLabels"][labels.NAMESPACE_NAME]
               for rule in controller_policy["ingress"] for p in rule["from"]]
    assert NS in sources


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_controller_state_keeps_urns_and_specs(request, which):
    assert kept_state(request.getfixturevalue(which)) == kept_state(synth_pools(K8S_POOL))


@pytest.mark.parametrize("which", ["alone", "combined", "three"])
def test_no_generated_secret_outside_secrets(request, which):
    synthesis = request.getfixturevalue(which)
    assert any("PRIVATE KEY" in s for s in synthesis.generated_secrets)
    assert secret_leaks(synthesis) == []


def test_dind_container_helper_for_sidecars():
    container = dind.dind_container(certs_volume="c", data_volume="d",
                                    extra_volume_mounts=[{"name": "ws", "mountPath": "/home/jenkins/agent"}])
    assert container["securityContext"]["privileged"] is True
    assert {"name": "ws", "mountPath": "/home/jenkins/agent"} in container["volumeMounts"]
    assert container["args"] == ["--data-root=/var/lib/docker/data"]
    assert dind.dind_container(certs_volume="c", data_volume="d", extra_args=["--debug"])["args"] == [
        "--data-root=/var/lib/docker/data", "--debug"]
    with pytest.raises(ValueError):
        dind.dind_container(certs_volume="c", data_volume="d", extra_args=["sh"])


@pytest.mark.parametrize("bad, key", [
    ({"daemon": {"replicas": 0}}, "daemon.replicas"),
    ({"daemon": {"image": "docker:latest"}}, "daemon.image"),
    ({"daemon": {"storageSize": "10Mi"}}, "daemon.storageSize"),
])
def test_bad_config_names_the_key(bad, key):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "t", "namespace": "t", "pools": [{**DIND, **bad}]})
    assert f"pools[0].{key}" in str(error.value)


# ------------------------------------------------------------------ the cache and the memory

def test_dockerd_data_root_is_below_the_claim_root(alone):
    spec = dind_set(alone)["spec"]["template"]["spec"]
    assert "fsGroup" not in spec["securityContext"]
    (name, data_root), = dockerd_data_roots(spec)
    mount = mount_for(next(c for c in containers(spec) if c["name"] == name), data_root)
    assert mount["name"] in {t["metadata"]["name"] for t in dind_set(alone)["spec"]["volumeClaimTemplates"]}
    assert data_root.startswith(mount["mountPath"].rstrip("/") + "/")


def daemon_limit_mib(synthesis) -> int:
    limit = dind_set(synthesis)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    return int(limit[:-2]) * {"Mi": 1, "Gi": 1024}[limit[-2:]]


def test_default_container_cap_fits_the_daemon_memory(alone):
    # Defaults: a 4Gi dind limit, 2048 MiB per agent container: 2 containers, not 10.
    cloud = docker_clouds(casc(alone))["dind"]
    assert daemon_limit_mib(alone) == 4096 and cloud["containerCap"] == 2
    assert {t["dockerTemplateBase"]["memoryLimit"] for t in cloud["templates"]} == {2048}


def test_dev_stack_dind_pool_fits_its_daemon(stack_syntheses):
    dev = stack_syntheses["dev"]
    cloud = docker_clouds(casc(dev))["dind"]
    largest = max(t["dockerTemplateBase"]["memoryLimit"] for t in cloud["templates"])
    assert cloud["containerCap"] * largest <= daemon_limit_mib(dev)
    assert cloud["containerCap"] == 2


@pytest.mark.parametrize("bad, key, words", [
    ({"containerCap": 10}, "containerCap", "10 agent containers may use 20480 MiB"),
    ({"daemon": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}},
     "templates", "memoryLimitMb 2048 does not fit in daemon.resources.limits.memory 1Gi"),
])
def test_oversubscribed_memory_is_refused_naming_the_key(bad, key, words):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "t", "namespace": "t", "pools": [{**DIND, **bad}]})
    message = str(error.value)
    assert message.startswith(f"jenkins:pools[0].{key}: ") and words in message and "\n" not in message
    assert "; " not in message  # "; " separates one error from the next
