"""The swarm-dind pool, through the real program: the DinD native sidecar, TLS, cache claims, privilege."""
from __future__ import annotations

import pytest
import yaml

from components import labels
from tests import upstream_facts as facts
from tests.helpers import (
    INTERNAL_URL, K8S_POOL, SWARM_FLAGS, SWARM_PERMISSIONS, SWARM_POOL, casc, client_container, containers,
    dockerd_data_roots, flag_value, has_key, kept_state, mount_for, plugins, pod_spec, pod_templates,
    schema_errors, secret_leaks, statefulset, swarm_user_entries, synth_pools, volume,
)

DIND_POOL = {"name": "swarm-dind", "type": "swarm-dind", "labels": ["docker"], "replicas": 2,
             "dockerStorage": "20Gi", "storageClassName": "fast-ssd"}


def sidecar(spec: dict) -> dict:
    return next(c for c in spec["initContainers"] if c["name"] == "dind")


def secret_name(spec: dict, volume_name: str):
    """The Secret behind a pod volume, or None (emptyDir, or a volumeClaimTemplate's claim)."""
    found = [v for v in spec["volumes"] if v["name"] == volume_name]
    return found[0].get("secret", {}).get("secretName") if found else None


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.fixture(scope="module")
def alone():
    return synth_pools(DIND_POOL)


@pytest.fixture(scope="module")
def combined():
    return synth_pools(K8S_POOL, DIND_POOL)


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("which", ["alone", "combined"])
def test_manifests_are_schema_valid(request, which, version):
    synthesis = request.getfixturevalue(which)
    assert statefulset(synthesis, "swarm-dind")["metadata"]["namespace"] == "jenkins-test-swarm-dind"
    assert schema_errors(synthesis, version) == []


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_jcasc_has_swarm_user_with_exactly_swarm_permissions(request, which):
    synthesis = request.getfixturevalue(which)
    users, entries = swarm_user_entries(casc(synthesis), "swarm-swarm-dind")
    assert users == [{"id": "swarm-swarm-dind", "password": "${swarm-swarm-dind-password}"}]
    assert len(entries) == 1 and sorted(entries[0]["permissions"]) == sorted(SWARM_PERMISSIONS)
    assert {"swarm", "docker-workflow"} <= plugins(synthesis)


def test_client_args_carry_every_flag(alone):
    args = client_container(pod_spec(alone, "swarm-dind"))["args"]
    assert [flag for flag in SWARM_FLAGS if flag not in args] == []
    assert flag_value(args, "-url") == INTERNAL_URL
    assert flag_value(args, "-name") == "$(POD_NAME)"
    assert flag_value(args, "-labels") == "docker"


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_privileged_only_on_the_dind_sidecar(request, which):
    synthesis = request.getfixturevalue(which)
    privileged = []
    for manifest in synthesis.manifests():
        template = (manifest.get("spec") or {}).get("template")
        for container in containers(template["spec"]) if template else []:
            if (container.get("securityContext") or {}).get("privileged"):
                privileged.append((manifest["metadata"]["name"], container["name"]))
    assert privileged == [("swarm-dind", "dind")]
    # Nor inside the Kubernetes plugin's pod templates (embedded YAML in JCasC).
    assert "privileged: true" not in synthesis.find(":ConfigMap", "casc").inputs["data"]["jenkins.yaml"]


def test_dind_is_a_native_sidecar_on_tls_localhost(alone):
    spec = pod_spec(alone, "swarm-dind")
    dind = sidecar(spec)
    assert dind["restartPolicy"] == "Always"
    assert spec["initContainers"][-1] is dind  # the client starts only once dockerd answers
    assert dind["startupProbe"]["tcpSocket"]["port"] == 2376
    assert dind["image"] == "docker:29.7.2-dind"
    assert env_of(dind)["DOCKER_TLS_CERTDIR"]
    client = client_container(spec)
    assert {k: env_of(client)[k] for k in ("DOCKER_HOST", "DOCKER_TLS_VERIFY")} == {
        "DOCKER_HOST": "tcp://localhost:2376", "DOCKER_TLS_VERIFY": "1"}
    # Client certificates in the client, server certificates in the sidecar, never the other way.
    cert_mount = mount_for(client, env_of(client)["DOCKER_CERT_PATH"])
    assert cert_mount.get("readOnly") is True
    assert volume(spec, cert_mount["name"])["secret"]["secretName"] == "dind-client-certs"
    server_mount = mount_for(dind, env_of(dind)["DOCKER_TLS_CERTDIR"])
    assert volume(spec, server_mount["name"])["secret"]["secretName"] == "dind-server-certs"
    assert "dind-server-certs" not in {secret_name(spec, m["name"]) for m in client["volumeMounts"]}
    assert "dind-client-certs" not in {secret_name(spec, m["name"]) for m in dind["volumeMounts"]}


def test_server_certificate_names_localhost(alone):
    request = next(r for r in alone.records
                   if r.type == "tls:index/certRequest:CertRequest" and r.name == "swarm-dind-dind-server")
    assert "localhost" in request.inputs["dnsNames"]
    assert "127.0.0.1" in request.inputs["ipAddresses"]
    server = alone.find(":Secret", "swarm-dind-dind-server-certs").inputs
    client = alone.find(":Secret", "swarm-dind-dind-client-certs").inputs
    assert server["metadata"]["namespace"] == client["metadata"]["namespace"] == "jenkins-test-swarm-dind"
    assert set(server["stringData"]) == set(client["stringData"]) == {"ca.pem", "cert.pem", "key.pem"}


def test_workspace_is_shared_at_the_same_path(alone):
    spec = pod_spec(alone, "swarm-dind")
    client, dind = client_container(spec), sidecar(spec)
    fsroot = flag_value(client["args"], "-fsroot")
    in_client, in_dind = mount_for(client, fsroot), mount_for(dind, fsroot)
    assert in_client["name"] == in_dind["name"] and in_client["mountPath"] == in_dind["mountPath"]
    assert "emptyDir" in volume(spec, in_client["name"])


def test_docker_data_is_on_a_claim_per_replica(alone):
    sts = statefulset(alone, "swarm-dind")["spec"]
    data_mount = mount_for(sidecar(sts["template"]["spec"]), "/var/lib/docker")
    claims = {t["metadata"]["name"]: t["spec"] for t in sts["volumeClaimTemplates"]}
    assert data_mount["name"] in claims
    assert not any(v["name"] == data_mount["name"] for v in sts["template"]["spec"]["volumes"])
    assert claims[data_mount["name"]]["resources"]["requests"]["storage"] == "20Gi"
    assert claims[data_mount["name"]]["storageClassName"] == "fast-ssd"
    assert sts["persistentVolumeClaimRetentionPolicy"]["whenScaled"] == "Retain"
    assert sts["replicas"] == 2


def test_docker_cli_comes_from_the_pinned_cli_image(alone):
    spec = pod_spec(alone, "swarm-dind")
    copy = next(c for c in spec["initContainers"] if c["image"] == "docker:29.7.2-cli")
    target = copy["command"][-1].rstrip("/")
    client = client_container(spec)
    assert mount_for(copy, target)["name"] == mount_for(client, target)["name"]
    assert target in env_of(client)["PATH"].split(":")
    assert copy["command"][:2] == ["cp", "/usr/local/bin/docker"]


def test_client_container_stays_restricted(alone):
    spec = pod_spec(alone, "swarm-dind")
    for container in containers(spec):
        if container["name"] == "dind":
            continue
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]} and not context.get("privileged")
        assert context.get("runAsNonRoot") is not False and context.get("runAsUser", 1000) != 0


def test_namespace_is_privileged_and_pods_are_marked(alone):
    namespace = alone.find(":Namespace", "swarm-dind-namespace").inputs["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    pod_labels = statefulset(alone, "swarm-dind")["spec"]["template"]["metadata"]["labels"]
    assert pod_labels[labels.DIND] == "true"
    policy = alone.find(":NetworkPolicy", "swarm-dind-deny-ingress").inputs["spec"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items() and not policy.get("ingress")


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_no_host_path_anywhere(request, which):
    synthesis = request.getfixturevalue(which)
    assert not any(has_key(m, "hostPath") for m in synthesis.manifests())
    assert "hostPath" not in yaml.safe_dump(synthesis.manifests())


def test_no_generated_secret_leaks(alone, combined):
    keys = [r for r in alone.records if r.type == "tls:index/privateKey:PrivateKey"]
    assert len(keys) == 3  # CA, server, client
    assert len([s for s in alone.generated_secrets if len(s) >= 16]) >= 5
    assert secret_leaks(alone) == []
    assert secret_leaks(combined) == []


@pytest.mark.parametrize("pools", [
    [DIND_POOL], [K8S_POOL, DIND_POOL], [SWARM_POOL, DIND_POOL],
], ids=["dind-only", "add-dind", "swarm-and-dind"])
def test_controller_data_and_identity_survive_switching_pool_types(kubernetes_only, pools):
    assert kept_state(synth_pools(*pools), whole_manifest=True) == kept_state(kubernetes_only, whole_manifest=True)


def test_switching_from_swarm_to_swarm_dind_keeps_the_controller():
    assert kept_state(synth_pools(SWARM_POOL), whole_manifest=True) == kept_state(
        synth_pools({**DIND_POOL, "name": "swarm"}), whole_manifest=True)


def test_dev_stack_runs_a_swarm_dind_pool(stack_syntheses):
    spec = pod_spec(stack_syntheses["dev"], "swarm-dind")
    sidecars = [c["name"] for c in spec["initContainers"] if c.get("restartPolicy") == "Always"]
    assert sidecars == ["dind"]


# ------------------------------------------------------------------ the cache survives restarts

def fs_group_walks(synthesis) -> list[str]:
    """Pods where the kubelet's fsGroup pass would reach a dockerd data root: the pass compares only
    the volume's root directory (OnRootMismatch) and dockerd resets its data root to root-owned 0711 at
    every start (kubernetes @7dd8853 pkg/volume/volume_linux.go requiresPermissionChange; moby @0e8eea5
    daemon/daemon_unix.go setupDaemonRoot), so a data root *at* a volume's root is walked every start."""
    walked = []
    for where, spec in pod_templates(synthesis):
        context = spec.get("securityContext") or {}
        if "fsGroup" not in context:
            continue
        by_name = {c["name"]: c for c in containers(spec)}
        for name, data_root in dockerd_data_roots(spec):
            mount = mount_for(by_name[name], data_root)
            if mount["mountPath"].rstrip("/") == data_root.rstrip("/"):
                walked.append(f"{where}:{name} {data_root}")
    return walked


def test_no_fs_group_walk_over_a_dockerd_data_root(alone):
    spec = pod_spec(alone, "swarm-dind")
    assert spec["securityContext"]["fsGroup"] == 1000  # the client still needs it for its secrets
    assert dockerd_data_roots(spec) == [("dind", "/var/lib/docker/data")]
    assert fs_group_walks(alone) == []


def test_the_data_root_is_on_the_cache_claim(alone):
    sts = statefulset(alone, "swarm-dind")["spec"]
    (_, data_root), = dockerd_data_roots(sts["template"]["spec"])
    mount = mount_for(sidecar(sts["template"]["spec"]), data_root)
    assert mount["name"] in {t["metadata"]["name"] for t in sts["volumeClaimTemplates"]}
    assert data_root != mount["mountPath"] and data_root.startswith(mount["mountPath"] + "/")


def test_the_walk_detector_finds_a_data_root_at_the_claim_root(alone):
    import copy as _copy
    spec = _copy.deepcopy(pod_spec(alone, "swarm-dind"))
    sidecar(spec)["args"] = [a for a in sidecar(spec).get("args", []) if not a.startswith("--data-root")]

    class Planted:
        @staticmethod
        def manifests(redacted=False):
            return [{"kind": "StatefulSet", "metadata": {"name": "planted"},
                     "spec": {"template": {"spec": spec}}}]

    assert fs_group_walks(Planted) == ["StatefulSet/planted:dind /var/lib/docker"]


def test_dockerd_runs_as_root_group_not_the_pods(alone):
    spec = pod_spec(alone, "swarm-dind")
    assert spec["securityContext"]["runAsGroup"] == 1000
    context = sidecar(spec)["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"]) == (0, 0)


# ------------------------------------------------------------------ the docker CLI has buildx and compose

def test_docker_cli_plugins_are_copied_where_the_cli_finds_them(alone):
    spec = pod_spec(alone, "swarm-dind")
    copy = next(c for c in spec["initContainers"] if c["name"] == "install-docker-cli")
    assert copy["image"] == facts.DOCKER_CLI_IMAGE
    assert copy["command"][0] == "cp" and copy["command"][1:-1] == [facts.DOCKER_CLI_BINARY, *facts.DOCKER_CLI_PLUGINS]
    target = copy["command"][-1].rstrip("/")
    client = client_container(spec)
    copied = mount_for(copy, target)["name"]
    plugin_dirs = [m["mountPath"] for m in client["volumeMounts"] if m["name"] == copied]
    assert set(plugin_dirs) & set(facts.DOCKER_CLI_SYSTEM_PLUGIN_DIRS)
    assert all(m["readOnly"] for m in client["volumeMounts"] if m["name"] == copied)
    assert target in env_of(client)["PATH"].split(":")


# ------------------------------------------------------------------ the default client image runs a pipeline

def test_default_client_image_has_git_java_and_runs_as_its_user(alone):
    spec = pod_spec(alone, "swarm-dind")
    client = client_container(spec)
    assert client["image"] == "jenkins/agent:3385.vf1123fb_515da_-1-jdk21" == facts.AGENT_IMAGE
    assert client["command"][0] in facts.AGENT_TOOLS
    assert facts.AGENT_JAVA_BIN in env_of(client)["PATH"].split(":")
    assert env_of(client)["HOME"] == facts.AGENT_HOME
    assert spec["securityContext"]["runAsUser"] == facts.AGENT_UID
