"""The docker-cloud pool (Docker plugin on the node's daemon), through the real program."""
from __future__ import annotations

import pytest

from components import labels
from components.config import ConfigError, parse_stack_config
from tests.conftest import minimal_config, synth_config
from tests.helpers import (
    K8S_POOL, SOCKET, casc, controller_pod, docker_clouds, duplicate_names, host_paths, kept_state,
    plugins, privileged_containers, schema_errors, secret_leaks, synth_pools,
)

NODE_URL = "http://jenkins.example.org:30080/"
DOCKER = {"name": "docker", "type": "docker-cloud", "containerCap": 6, "inboundUrl": NODE_URL, "templates": [
    {"name": "attach", "labels": ["docker"], "connector": "attach", "instanceCap": 3},
    {"name": "ssh", "labels": ["docker-ssh"], "connector": "ssh"},
    {"name": "inbound", "labels": ["docker-inbound"], "connector": "inbound", "idleMinutes": 5},
]}
TCP = {**DOCKER, "docker": {"access": "tcp", "tcpPort": 2375}}


@pytest.fixture(scope="module")
def alone():
    return synth_pools(DOCKER)


@pytest.fixture(scope="module")
def combined():
    return synth_pools(DOCKER, K8S_POOL)


@pytest.fixture(scope="module")
def tcp():
    return synth_pools(TCP)


def templates(synthesis) -> dict[str, dict]:
    return {t["name"]: t for t in docker_clouds(casc(synthesis))["docker"]["templates"]}


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("which", ["alone", "combined", "tcp"])
def test_manifests_are_schema_valid(request, which, version):
    assert schema_errors(request.getfixturevalue(which), version) == []


def test_cloud_points_at_the_node_socket(alone):
    cloud = docker_clouds(casc(alone))["docker"]
    assert cloud["containerCap"] == 6
    assert cloud["dockerApi"]["dockerHost"] == {"uri": f"unix://{SOCKET}"}
    # ssh agents publish port 22 on the node: the plugin must connect to the node, not 0.0.0.0.
    assert cloud["dockerApi"]["hostname"] == "${HOST_IP}"
    assert {"docker-plugin", "docker-workflow", "ssh-slaves"} <= plugins(alone)


def test_tcp_cloud_uses_host_ip(tcp):
    cloud = docker_clouds(casc(tcp))["docker"]
    assert cloud["dockerApi"]["dockerHost"]["uri"] == "tcp://${HOST_IP}:2375"
    env = {e["name"]: e for e in controller_pod(tcp)["spec"]["containers"][0]["env"]}
    assert env["HOST_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"
    assert host_paths(tcp) == []


def test_templates_and_connectors(alone):
    by_name = templates(alone)
    attach, ssh, inbound = by_name["attach"], by_name["ssh"], by_name["inbound"]
    assert attach["labelString"] == "docker" and attach["instanceCapStr"] == "3"
    assert attach["connector"] == {"attach": {"user": "jenkins"}}
    assert attach["dockerTemplateBase"]["image"] == "jenkins/agent:3385.vf1123fb_515da_-1-jdk21"
    # No hand-made SSH credential: the plugin injects the key.
    assert ssh["connector"]["ssh"]["sshKeyStrategy"] == {"injectSSHKey": {"user": "jenkins"}}
    assert "manuallyConfiguredSSHKey" not in str(ssh)
    assert ssh["dockerTemplateBase"]["image"] == "jenkins/ssh-agent:8.9.0-jdk21"
    assert "AuthorizedKeysCommand=/root/authorized_key" in ssh["dockerTemplateBase"]["dockerCommand"]
    jnlp = inbound["connector"]["jnlp"]
    assert jnlp["jenkinsUrl"] == NODE_URL
    assert "-webSocket" in jnlp["entryPointArgumentsString"].split("\n")
    assert "^${JNLP_SECRET}" in jnlp["entryPointArgumentsString"]  # escaped from JCasC interpolation
    assert inbound["dockerTemplateBase"]["image"] == "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21"
    assert inbound["retentionStrategy"] == {"idleMinutes": 5}
    for template in by_name.values():
        assert "jdk21" in template["dockerTemplateBase"]["image"]
        assert "jenkins-k8s.io/pool=docker" in template["dockerTemplateBase"]["extraDockerLabelsString"]


def test_rendered_template_images_are_pinned_to_jdk21_tags(alone):
    images = [t["dockerTemplateBase"]["image"] for t in templates(alone).values()]
    assert len(images) == 3
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest" and tag.endswith("-jdk21"), image


def test_only_the_socket_is_a_host_path_and_nothing_privileged(alone, combined):
    for synthesis in (alone, combined):
        assert host_paths(synthesis) == [("StatefulSet/jenkins", {"path": SOCKET, "type": "Socket"})]
        assert privileged_containers(synthesis) == []
    template = controller_pod(alone)
    assert template["metadata"]["labels"][labels.DOCKER_SOCKET] == "true"
    assert template["spec"]["securityContext"]["supplementalGroups"] == [999]
    assert duplicate_names(template["spec"]) == []
    ns = alone.find(":Namespace", "controller-namespace").inputs["metadata"]["labels"]
    assert ns[labels.PSA_ENFORCE] == "privileged" and ns[labels.PSA_WARN] == "restricted"


def test_combined_with_kubernetes_keeps_both_clouds(combined):
    clouds = casc(combined)["jenkins"]["clouds"]
    assert [next(iter(c)) for c in clouds] == ["docker", "kubernetes"]


def test_with_controller_pool_socket_volume_is_not_duplicated():
    synthesis = synth_pools(DOCKER, {"name": "onmaster", "type": "controller", "labels": ["onmaster"]})
    assert duplicate_names(controller_pod(synthesis)["spec"]) == []


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_controller_state_keeps_urns_and_specs(request, which):
    assert kept_state(request.getfixturevalue(which)) == kept_state(synth_pools(K8S_POOL))


@pytest.mark.parametrize("which", ["alone", "combined", "tcp"])
def test_no_generated_secret_outside_secrets(request, which):
    assert secret_leaks(request.getfixturevalue(which)) == []


@pytest.mark.parametrize("bad, key", [
    ({"templates": []}, "templates"),
    ({"templates": [{"name": "a", "labels": ["x"], "connector": "telnet"}]}, "templates[0].connector"),
    ({"templates": [{"name": "a", "labels": ["x"], "image": "jenkins/agent:latest"}]}, "templates[0].image"),
    ({"docker": {"access": "tcp", "tcpPort": 0}}, "docker.tcpPort"),
    # DockerOnceRetentionStrategy turns idleMinutes < 1 into 10: 0 would silently mean 10.
    ({"templates": [{"name": "a", "labels": ["x"], "idleMinutes": 0}]}, "templates[0].idleMinutes"),
])
def test_bad_config_names_the_key(bad, key):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "t", "namespace": "t", "pools": [{**DOCKER, **bad}]})
    assert f"pools[0].{key}" in str(error.value)


def test_idle_minutes_defaults_to_the_plugins_own_fallback():
    # jenkinsci/docker-plugin 1324.v2fb_b_df97fe1d DockerOnceRetentionStrategy.java:52, :99-102:
    # values below 1 become 10; the program writes the 10 itself.
    synthesis = synth_pools({"name": "docker", "type": "docker-cloud",
                             "templates": [{"name": "a", "labels": ["docker"]}]})
    template = docker_clouds(casc(synthesis))["docker"]["templates"][0]
    assert template["retentionStrategy"] == {"idleMinutes": 10}


def test_inbound_template_needs_inbound_url_refused_at_preview():
    pool = {key: value for key, value in DOCKER.items() if key != "inboundUrl"}
    synthesis = synth_config(minimal_config(pools=[pool]))
    assert synthesis.error is not None and synthesis.records == []
    assert synthesis.error.startswith("jenkins:pools[0]: inboundUrl is required when a template uses "
                                      "connector inbound (inbound)"), synthesis.error
    assert "\n" not in synthesis.error


def test_attach_and_ssh_templates_need_no_inbound_url():
    pool = {"name": "docker", "type": "docker-cloud",
            "templates": [t for t in DOCKER["templates"] if t["connector"] != "inbound"]}
    synthesis = synth_pools(pool)
    assert "jnlp" not in str(docker_clouds(casc(synthesis))["docker"]["templates"])
