"""The controller pool (builds on the controller), through the real program."""
from __future__ import annotations

import pytest

from components import labels
from components.config import ConfigError, parse_stack_config
from tests.helpers import (
    K8S_POOL, SOCKET, casc, containers, controller_pod, duplicate_names, host_paths, kept_state, plugins,
    privileged_containers, schema_errors, secret_leaks, synth_pools,
)

ONMASTER = {"name": "onmaster", "type": "controller", "executors": 2, "labels": ["onmaster", "linux"]}
TCP = {**ONMASTER, "docker": {"access": "tcp"}}


@pytest.fixture(scope="module")
def alone():
    return synth_pools(ONMASTER)


@pytest.fixture(scope="module")
def combined():
    return synth_pools(ONMASTER, K8S_POOL)


@pytest.fixture(scope="module")
def tcp():
    return synth_pools(TCP)


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("which", ["alone", "combined", "tcp"])
def test_manifests_are_schema_valid(request, which, version):
    assert schema_errors(request.getfixturevalue(which), version) == []


def test_jcasc_has_executors_and_labels(alone):
    jenkins = casc(alone)["jenkins"]
    assert jenkins["numExecutors"] == 2
    assert set(jenkins["labelString"].split()) == {"onmaster", "linux"}
    assert "docker-workflow" in plugins(alone)


def test_socket_is_a_socket_host_path_with_its_group(alone):
    template = controller_pod(alone)
    assert host_paths(alone) == [("StatefulSet/jenkins", {"path": SOCKET, "type": "Socket"})]
    jenkins = next(c for c in template["spec"]["containers"] if c["name"] == "jenkins")
    assert {"name": "docker-sock", "mountPath": SOCKET} in jenkins["volumeMounts"]
    assert template["spec"]["securityContext"]["supplementalGroups"] == [999]
    assert template["metadata"]["labels"][labels.DOCKER_SOCKET] == "true"
    env = {e["name"]: e.get("value") for e in jenkins["env"]}
    assert env["DOCKER_HOST"] == f"unix://{SOCKET}"


def test_socket_flips_namespace_to_privileged_and_warns(alone, tcp):
    ns = alone.find(":Namespace", "controller-namespace").inputs["metadata"]["labels"]
    assert ns[labels.PSA_ENFORCE] == "privileged"
    assert ns[labels.PSA_WARN] == ns[labels.PSA_AUDIT] == "restricted"
    assert any("onmaster" in w and "docker.sock" in w for w in alone.warnings)
    ns_tcp = tcp.find(":Namespace", "controller-namespace").inputs["metadata"]["labels"]
    assert ns_tcp[labels.PSA_ENFORCE] == "restricted"
    assert not any("docker.sock" in w for w in tcp.warnings)


def test_tcp_warns_that_current_docker_engine_refuses_plain_tcp(alone, tcp):
    # docker/cli @90559a6 docs/deprecated.md, "Unauthenticated TCP connections": Engine 27.0 and later
    # fail to start with a non-local TCP listener and TLS off.
    assert [w for w in tcp.warnings if "Docker Engine 27" in w and "onmaster" in w and "2375" in w]
    assert not [w for w in alone.warnings if "Docker Engine 27" in w]


def test_tcp_uses_host_ip_from_downward_api(tcp):
    template = controller_pod(tcp)
    jenkins = next(c for c in template["spec"]["containers"] if c["name"] == "jenkins")
    env = {e["name"]: e for e in jenkins["env"]}
    assert env["HOST_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.hostIP"}}
    names = [e["name"] for e in jenkins["env"]]
    assert names.index("HOST_IP") < names.index("DOCKER_HOST")  # $(HOST_IP) expands only if defined first
    assert env["DOCKER_HOST"]["value"] == "tcp://$(HOST_IP):2375"
    assert host_paths(tcp) == []
    assert labels.DOCKER_SOCKET not in template["metadata"]["labels"]
    assert "supplementalGroups" not in template["spec"]["securityContext"]


def test_docker_cli_comes_from_pinned_image_on_path(alone):
    spec = controller_pod(alone)["spec"]
    init = next(c for c in spec["initContainers"] if c["name"] == "copy-docker-cli")
    assert init["image"] == "docker:29.7.2-cli"
    copied_to = init["command"][-1].rsplit("/", 1)[0]
    jenkins = next(c for c in spec["containers"] if c["name"] == "jenkins")
    assert any(m["mountPath"] == copied_to for m in jenkins["volumeMounts"])
    path = next(e["value"] for e in jenkins["env"] if e["name"] == "PATH")
    assert path.split(":")[0] == copied_to and "/opt/java/openjdk/bin" in path


def test_controller_pod_stays_restricted_otherwise(alone):
    spec = controller_pod(alone)["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    for container in containers(spec):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
    assert privileged_containers(alone) == []
    assert duplicate_names(spec) == []


def test_without_docker_nothing_of_docker():
    synthesis = synth_pools({**ONMASTER, "docker": None})
    assert host_paths(synthesis) == []
    assert "docker-workflow" not in plugins(synthesis)
    assert casc(synthesis)["jenkins"]["numExecutors"] == 2


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_controller_state_keeps_urns_and_specs(request, which):
    reference = kept_state(synth_pools(K8S_POOL))
    assert kept_state(request.getfixturevalue(which)) == reference


@pytest.mark.parametrize("which", ["alone", "combined", "tcp"])
def test_no_generated_secret_outside_secrets(request, which):
    assert secret_leaks(request.getfixturevalue(which)) == []


@pytest.mark.parametrize("bad, key", [
    ({"executors": 0}, "executors"),
    ({"labels": []}, "labels"),
    ({"docker": {"access": "ssh"}}, "docker.access"),
    ({"docker": {"socketGroup": 0}}, "docker.socketGroup"),
])
def test_bad_config_names_the_key(bad, key):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "t", "namespace": "t", "pools": [{**ONMASTER, **bad}]})
    assert f"pools[0].{key}" in str(error.value)


def test_docker_cli_plugins_buildx_and_compose_are_found_by_the_cli(alone):
    from tests import upstream_facts as facts

    spec = controller_pod(alone)["spec"]
    init = next(c for c in spec["initContainers"] if c["name"] == "copy-docker-cli")
    assert init["image"] == facts.DOCKER_CLI_IMAGE
    assert init["command"][1:-1] == [facts.DOCKER_CLI_BINARY, *facts.DOCKER_CLI_PLUGINS]
    copied = next(m["name"] for m in init["volumeMounts"] if init["command"][-1].startswith(m["mountPath"]))
    jenkins = next(c for c in spec["containers"] if c["name"] == "jenkins")
    mounted_at = {m["mountPath"] for m in jenkins["volumeMounts"] if m["name"] == copied}
    assert mounted_at & set(facts.DOCKER_CLI_SYSTEM_PLUGIN_DIRS), mounted_at
    assert all(p.rsplit("/", 1)[1].startswith("docker-") for p in facts.DOCKER_CLI_PLUGINS)
