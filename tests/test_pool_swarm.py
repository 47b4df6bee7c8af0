"""The swarm pool, through the real program: manifests, JCasC, client flags, Pod Security, secrets."""
from __future__ import annotations

import pytest
import yaml

from components.config import ConfigError, parse_stack_config
from components.pools import swarm
from tests import upstream_facts as facts
from tests.helpers import (
    INTERNAL_URL, K8S_POOL, SWARM_FLAGS, SWARM_PERMISSIONS, SWARM_POOL, casc, client_container, containers,
    flag_value, has_key, kept_state, mount_for, plugins, pod_spec, schema_errors, secret_leaks, statefulset,
    swarm_user_entries, synth_pools, volume,
)


# ------------------------------------------------------------------ syntheses

@pytest.fixture(scope="module")
def alone():
    return synth_pools(SWARM_POOL)


@pytest.fixture(scope="module")
def combined():
    return synth_pools(K8S_POOL, SWARM_POOL)


# ------------------------------------------------------------------ tests

@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("which", ["alone", "combined"])
def test_manifests_are_schema_valid(request, which, version):
    synthesis = request.getfixturevalue(which)
    assert statefulset(synthesis, "swarm")["metadata"]["namespace"] == "jenkins-test-swarm"  # the pool is really there
    assert schema_errors(synthesis, version) == []


def test_schema_check_catches_a_missing_required_field(alone):
    record = alone.find(":StatefulSet", "swarm-agents")
    service_name = record.raw_inputs["spec"].pop("serviceName")
    try:
        assert any("serviceName" in e for e in schema_errors(alone, "1.30.0"))
    finally:
        record.raw_inputs["spec"]["serviceName"] = service_name


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_jcasc_has_swarm_user_with_exactly_swarm_permissions(request, which):
    document = casc(request.getfixturevalue(which))
    users, entries = swarm_user_entries(document, "swarm-swarm")
    assert users == [{"id": "swarm-swarm", "password": "${swarm-swarm-password}"}]
    assert len(entries) == 1
    assert sorted(entries[0]["permissions"]) == sorted(SWARM_PERMISSIONS)
    # The admin keeps its entry; the swarm user is appended, not substituted.
    admin, admin_entries = swarm_user_entries(document, "admin")
    assert admin and admin_entries[0]["permissions"] == ["Overall/Administer"]


def test_swarm_password_reaches_the_controller_as_the_file_jcasc_reads(alone):
    sources = next(v for v in alone.find(":StatefulSet", "jenkins").inputs["spec"]["template"]["spec"]["volumes"]
                   if v["name"] == "secrets")["projected"]["sources"]
    items = [(s["secret"]["name"], item["key"], item["path"]) for s in sources for item in s["secret"]["items"]]
    assert ("swarm-swarm", "password", "swarm-swarm-password") in items
    secret = alone.find(":Secret", "swarm-controller-password").inputs
    assert secret["metadata"]["namespace"] == "jenkins-test"
    assert secret["stringData"]["password"] in alone.generated_secrets
    # The same generated value for the clients, in the pool's own namespace.
    client_secret = alone.find(":Secret", "swarm-client-password").inputs
    assert (client_secret["metadata"]["name"], client_secret["metadata"]["namespace"]) == (
        "swarm-password", "jenkins-test-swarm")
    assert client_secret["stringData"]["password"] == secret["stringData"]["password"]
    assert "swarm" in plugins(alone)


def test_client_args_carry_every_flag_and_the_config(alone):
    spec = pod_spec(alone, "swarm")
    container = client_container(spec)
    args = container["args"]
    assert [flag for flag in SWARM_FLAGS if flag not in args] == []
    assert flag_value(args, "-url") == INTERNAL_URL
    assert flag_value(args, "-username") == "swarm-swarm"
    assert flag_value(args, "-name") == "$(POD_NAME)"
    assert {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} in container["env"]
    assert flag_value(args, "-labels") == "linux swarm"
    assert flag_value(args, "-executors") == "4"
    assert flag_value(args, "-mode") == "normal"
    assert flag_value(args, "-retry") == "30"  # the default: a broken pool restarts instead of retrying forever
    assert statefulset(alone, "swarm")["spec"]["replicas"] == 3
    # -passwordFile points into the pool's Secret, mounted read-only.
    password_mount = mount_for(container, flag_value(args, "-passwordFile"))
    assert password_mount.get("readOnly") is True
    assert volume(spec, password_mount["name"])["secret"]["secretName"] == "swarm-password"
    # -fsroot is on a writable emptyDir (the root filesystem is read-only).
    fsroot_mount = mount_for(container, flag_value(args, "-fsroot"))
    assert not fsroot_mount.get("readOnly") and "emptyDir" in volume(spec, fsroot_mount["name"])


def test_client_jar_is_downloaded_from_the_controller(alone):
    spec = pod_spec(alone, "swarm")
    download = spec["initContainers"][0]
    assert download["image"] == "jenkins/agent:3385.vf1123fb_515da_-1-jdk21"
    assert INTERNAL_URL + "swarm/swarm-client.jar" in download["command"]
    jar = download["command"][download["command"].index("--output") + 1]
    client = client_container(spec)
    assert client["command"] == ["java", "-jar", jar]
    assert mount_for(download, jar)["name"] == mount_for(client, jar)["name"]
    assert "emptyDir" in volume(spec, mount_for(client, jar)["name"])


def test_config_values_change_the_workload():
    synthesis = synth_pools({**SWARM_POOL, "labels": ["big"], "executors": 1, "mode": "exclusive",
                             "replicas": 1, "resources": {"requests": {"cpu": "1", "memory": "2Gi"},
                                                          "limits": {"cpu": "2", "memory": "4Gi"}}})
    container = client_container(pod_spec(synthesis, "swarm"))
    assert (flag_value(container["args"], "-labels"), flag_value(container["args"], "-executors"),
            flag_value(container["args"], "-mode")) == ("big", "1", "exclusive")
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert statefulset(synthesis, "swarm")["spec"]["replicas"] == 1


def test_swarm_pod_is_restricted(alone):
    spec = pod_spec(alone, "swarm")
    pod_context = spec["securityContext"]
    assert pod_context["runAsNonRoot"] is True and pod_context["runAsUser"] != 0
    assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in containers(spec):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context.get("privileged") is not True and context.get("runAsNonRoot") is not False
        assert context.get("runAsUser", 1000) != 0
    for item in spec["volumes"]:
        assert set(item) - {"name"} <= {"emptyDir", "secret"}, item
    namespace = alone.find(":Namespace", "swarm-namespace").inputs["metadata"]
    assert namespace["name"] == "jenkins-test-swarm"
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("which", ["alone", "combined"])
def test_no_host_path_anywhere(request, which):
    synthesis = request.getfixturevalue(which)
    assert not any(has_key(m, "hostPath") for m in synthesis.manifests())
    assert "hostPath" not in yaml.safe_dump(synthesis.manifests())  # also inside embedded pod YAML


def test_swarm_pods_accept_no_ingress_and_may_reach_the_controller(alone):
    pod_labels = statefulset(alone, "swarm")["spec"]["template"]["metadata"]["labels"]
    policy = alone.find(":NetworkPolicy", "swarm-deny-ingress").inputs
    assert policy["metadata"]["namespace"] == "jenkins-test-swarm"
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector and selector.items() <= pod_labels.items()
    assert "Ingress" in policy["spec"]["policyTypes"] and not policy["spec"].get("ingress")
    controller_policy = alone.find(":NetworkPolicy", "controller-ingress").inputs["spec"]
    allowed = [peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for rule in controller_policy["ingress"] for peer in rule["from"]]
    assert "jenkins-test-swarm" in allowed


def test_no_generated_secret_leaks(alone, combined):
    assert any(len(s) >= 16 for s in alone.generated_secrets)
    password = alone.find(":Secret", "swarm-client-password").inputs["stringData"]["password"]
    assert password in alone.generated_secrets  # the swarm password is among those scanned
    assert secret_leaks(alone) == []
    assert secret_leaks(combined) == []


def test_leak_scan_finds_a_planted_leak(alone):
    password = alone.find(":Secret", "swarm-client-password").inputs["stringData"]["password"]
    container = client_container(alone.find(":StatefulSet", "swarm-agents").raw_inputs["spec"]["template"]["spec"])
    container["args"].append(password)
    try:
        assert any("args" in leak for leak in secret_leaks(alone))
    finally:
        container["args"].pop()


@pytest.mark.parametrize("pools", [[K8S_POOL, SWARM_POOL], [SWARM_POOL]], ids=["add-swarm", "swarm-only"])
def test_controller_data_and_identity_survive_switching_pool_types(kubernetes_only, pools):
    before = kept_state(kubernetes_only, whole_manifest=True)
    after = kept_state(synth_pools(*pools), whole_manifest=True)
    assert after == before


@pytest.mark.parametrize("change, message", [
    ({"mode": "sometimes"}, "jenkins:pools[0].mode"),
    ({"labels": []}, "jenkins:pools[0].labels"),
    ({"executors": 0}, "jenkins:pools[0].executors"),
    ({"replica": 2}, "jenkins:pools[0].replica: unknown key"),
    ({"image": "eclipse-temurin:latest"}, "jenkins:pools[0].image"),
])
def test_bad_pool_config_is_one_line_naming_the_key(change, message):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "test", "namespace": "jenkins-test",
                            "pools": [{**SWARM_POOL, **change}]})
    assert message in str(error.value) and "\n" not in str(error.value)


def test_builders_are_pure_data():
    args = swarm.client_args(url="http://c/", username="u", password_file="/p", labels=["a", "b"], executors=2,
                             mode="exclusive", fsroot="/ws", retry=5)
    assert args[args.index("-labels") + 1] == "a b" and args[args.index("-fsroot") + 1] == "/ws"
    fragment = swarm.jcasc_user("u", "${f}")
    assert fragment["jenkins"]["securityRealm"]["local"]["users"] == [{"id": "u", "password": "${f}"}]
    assert swarm.client_jar_url("http://c:8080/") == "http://c:8080/swarm/swarm-client.jar"


def test_staging_stack_runs_swarm_and_kubernetes_pools(stack_syntheses):
    staging = stack_syntheses["staging"]
    assert statefulset(staging, "swarm")["metadata"]["namespace"] == "jenkins-staging-swarm"
    clouds = [c["kubernetes"]["namespace"] for c in casc(staging)["jenkins"]["clouds"] if "kubernetes" in c]
    assert clouds == ["jenkins-staging-k8s"]


def test_default_image_runs_a_normal_pipeline(alone):
    """The client and the jar download default to jenkins/agent of the inbound agent's release: git for
    `checkout scm`, curl for the download, java where the command expects it, its own uid."""
    spec = pod_spec(alone, "swarm")
    client = client_container(spec)
    download = next(c for c in spec["initContainers"] if c["name"] == "download-swarm-client")
    assert client["image"] == download["image"] == "jenkins/agent:3385.vf1123fb_515da_-1-jdk21"
    assert client["image"] == facts.AGENT_IMAGE and "git" in facts.AGENT_TOOLS
    assert download["command"][0] in facts.AGENT_TOOLS and client["command"][0] in facts.AGENT_TOOLS
    assert {"name": "HOME", "value": facts.AGENT_HOME} in client["env"]
    assert spec["securityContext"]["runAsUser"] == facts.AGENT_UID
    # Read-only root: git and remoting write only to emptyDirs (HOME, the workspace, /tmp).
    assert client["securityContext"]["readOnlyRootFilesystem"] is True
    assert "emptyDir" in volume(spec, mount_for(client, facts.AGENT_HOME + "/.gitconfig")["name"])
    assert client["securityContext"]["capabilities"] == {"drop": ["ALL"]}
