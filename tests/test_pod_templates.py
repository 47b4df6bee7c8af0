"""Kubernetes-plugin pod templates beyond containers: env, volumes, the workspace volume, the service
account, pull secrets and the jnlp image, read from the JCasC and pod YAML the real program renders,
and the policy pack reading the pods hidden in that JCasC."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from components.config import ConfigError, parse_stack_config
from tests.helpers import casc, containers, schema_errors, synth_pools
from tests.policy_pack import shared_pack
from tests.test_policy_engine import namespace, policies, resource
from tools.schema import first_error

PROD_POLICY = Path(__file__).resolve().parents[1] / "policy" / "config" / "prod.json"
TOOLS = {"name": "tools", "image": "maven:3.9.11-eclipse-temurin-21"}
RICH = {
    "name": "rich", "labels": ["rich"], "containers": [TOOLS],
    "jnlpImage": "registry.example.com/jenkins/inbound-agent:3345.v03dee9b_f88fc-1-jdk21",
    "env": [{"name": "MAVEN_OPTS", "value": "-Xmx1g"},
            {"name": "NEXUS_TOKEN", "secret": {"secretName": "nexus", "key": "token"}}],
    "volumes": [{"name": "m2", "mountPath": "/home/jenkins/.m2", "persistentVolumeClaim": {"claimName": "m2-cache"}},
                {"name": "settings", "mountPath": "/etc/maven", "readOnly": True, "configMap": {"name": "maven"}},
                {"name": "scratch", "mountPath": "/scratch", "emptyDir": {"sizeLimit": "5Gi"}}],
    "workspaceVolume": {"type": "ephemeral", "size": "20Gi", "storageClassName": "fast-ssd"},
    "serviceAccount": {"name": "deployer", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}},
    "imagePullSecrets": ["registry-creds"],
}
PLAIN = {"name": "plain", "labels": ["plain"], "workspaceVolume": {"type": "emptyDir", "memory": True,
                                                                   "sizeLimit": "1Gi"}}
POOL = {"name": "k8s", "type": "kubernetes", "templates": [RICH, PLAIN]}


@pytest.fixture(scope="module")
def rendered():
    return synth_pools(POOL)


def templates(synthesis) -> dict[str, dict]:
    return {t["name"]: t for cloud in casc(synthesis)["jenkins"]["clouds"] if "kubernetes" in cloud
            for t in cloud["kubernetes"]["templates"]}


def pod(synthesis, name: str) -> dict:
    return yaml.safe_load(templates(synthesis)[name]["yaml"])


def test_env_reaches_every_container_and_secrets_stay_references(rendered):
    spec = pod(rendered, "rich")["spec"]
    assert [c["name"] for c in containers(spec)] == ["jnlp", "tools"]
    for container in containers(spec):
        assert container["env"] == [
            {"name": "MAVEN_OPTS", "value": "-Xmx1g"},
            {"name": "NEXUS_TOKEN", "valueFrom": {"secretKeyRef": {"name": "nexus", "key": "token"}}},
        ]


def test_volumes_are_declared_once_and_mounted_in_every_container(rendered):
    spec = pod(rendered, "rich")["spec"]
    assert spec["volumes"] == [
        {"name": "m2", "persistentVolumeClaim": {"claimName": "m2-cache", "readOnly": False}},
        {"name": "settings", "configMap": {"name": "maven"}},
        {"name": "scratch", "emptyDir": {"sizeLimit": "5Gi"}},
    ]
    for container in containers(spec):
        assert container["volumeMounts"] == [
            {"name": "m2", "mountPath": "/home/jenkins/.m2", "readOnly": False},
            {"name": "settings", "mountPath": "/etc/maven", "readOnly": True},
            {"name": "scratch", "mountPath": "/scratch", "readOnly": False},
        ]


def test_workspace_volume_is_the_templates_jcasc_attribute_not_pod_yaml(rendered):
    # The plugin replaces a `workspace-volume` written in the YAML with the one it builds from this.
    found = templates(rendered)
    assert found["rich"]["workspaceVolume"] == {"genericEphemeralVolume": {
        "requestsSize": "20Gi", "accessModes": "ReadWriteOnce", "storageClassName": "fast-ssd"}}
    assert found["plain"]["workspaceVolume"] == {"emptyDirWorkspaceVolume": {"memory": True, "sizeLimit": "1Gi"}}
    for name in ("rich", "plain"):
        assert "workspace-volume" not in {v["name"] for v in pod(rendered, name)["spec"].get("volumes", [])}


def test_template_without_workspace_volume_leaves_the_plugins_default():
    (template,) = templates(synth_pools({"name": "k8s", "type": "kubernetes",
                                         "templates": [{"name": "t", "labels": ["t"]}]})).values()
    assert "workspaceVolume" not in template


def test_service_account_is_created_without_a_token_and_named_by_the_pod(rendered):
    spec = pod(rendered, "rich")["spec"]
    assert spec["serviceAccountName"] == "deployer"
    assert spec["automountServiceAccountToken"] is False
    (account,) = [m for m in rendered.manifests(redacted=False) if m["kind"] == "ServiceAccount"
                  and m["metadata"]["name"] == "deployer"]
    assert account["metadata"]["namespace"] == "jenkins-test-k8s"
    assert account["automountServiceAccountToken"] is False
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}
    # The other template keeps the namespace's default account, still without a token.
    plain = pod(rendered, "plain")["spec"]
    assert "serviceAccountName" not in plain and plain["automountServiceAccountToken"] is False


def test_service_account_token_and_existing_accounts_are_opt_in():
    synthesis = synth_pools({"name": "k8s", "type": "kubernetes", "templates": [
        {"name": "t", "labels": ["t"], "serviceAccount": {"name": "ci", "create": False, "automountToken": True}}]})
    assert pod(synthesis, "t")["spec"]["automountServiceAccountToken"] is True
    assert not [m for m in synthesis.manifests(redacted=False)
                if m["kind"] == "ServiceAccount" and m["metadata"]["name"] == "ci"]


def test_pull_secrets_and_jnlp_image(rendered):
    spec = pod(rendered, "rich")["spec"]
    assert spec["imagePullSecrets"] == [{"name": "registry-creds"}]
    assert spec["containers"][0]["image"] == "registry.example.com/jenkins/inbound-agent:3345.v03dee9b_f88fc-1-jdk21"
    assert pod(rendered, "plain")["spec"]["containers"][0]["image"].startswith("jenkins/inbound-agent:")


@pytest.mark.parametrize("version", ["1.30", "1.37"])
def test_rendered_objects_are_valid_kubernetes(rendered, version):
    assert schema_errors(rendered, version) == []


@pytest.mark.parametrize("version", ["1.30", "1.37"])
def test_template_pods_are_valid_pods(rendered, version):
    for name in ("rich", "plain"):
        assert first_error(pod(rendered, name), version) is None, name


@pytest.mark.parametrize("template,message", [
    ({"env": [{"name": "A", "value": "x", "secret": {"secretName": "s", "key": "k"}}]},
     "jenkins:pools[0].templates[0].env[0]: set exactly one of: value, secret"),
    ({"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
     "jenkins:pools[0].templates[0]: env: names must be unique"),
    ({"volumes": [{"name": "workspace-volume", "mountPath": "/x", "emptyDir": {}}]},
     "jenkins:pools[0].templates[0].volumes[0]: volume name 'workspace-volume' is taken by the Kubernetes plugin or the builder"),
    ({"volumes": [{"name": "w", "mountPath": "/home/jenkins/agent", "emptyDir": {}}]},
     "jenkins:pools[0].templates[0].volumes[0]: /home/jenkins/agent is the workspace: use workspaceVolume"),
    ({"volumes": [{"name": "h", "mountPath": "/x", "hostPath": {"path": "/"}}]},
     "jenkins:pools[0].templates[0].volumes[0].hostPath: unknown key"),
    ({"workspaceVolume": {"type": "ephemeral"}},
     "jenkins:pools[0].templates[0].workspaceVolume: type ephemeral needs size"),
    ({"workspaceVolume": {"type": "emptyDir", "size": "10Gi"}},
     "jenkins:pools[0].templates[0].workspaceVolume: size, storageClassName and accessModes apply to type ephemeral only"),
    ({"jnlpImage": "jenkins/inbound-agent:latest"},
     "jenkins:pools[0].templates[0].jnlpImage: image must be pinned"),
    ({"serviceAccount": {"name": "x", "create": False, "annotations": {"a": "b"}}},
     "jenkins:pools[0].templates[0].serviceAccount: annotations apply only to an account this pool creates"),
])
def test_wrong_template_options_are_refused_with_their_key_path(template, message):
    pool = {"name": "k8s", "type": "kubernetes", "templates": [{"name": "t", "labels": ["t"], **template}]}
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "test", "namespace": "jenkins-test", "pools": [pool]})
    assert str(error.value).startswith(message), str(error.value)


# ------------------------------------------------------------------ the pack reads the pods in JCasC

@pytest.fixture(scope="module")
def pack(request):
    return shared_pack(request)


def casc_config_map(synthesis) -> dict:
    (found,) = [m for m in synthesis.manifests(redacted=False)
                if m["kind"] == "ConfigMap" and m["metadata"]["name"] == "jenkins-casc"]
    return found


def with_hidden_privileged_container(config_map: dict) -> dict:
    """The rendered ConfigMap, with one template's pod YAML given an extra privileged container."""
    tampered = copy.deepcopy(config_map)
    document = yaml.safe_load(tampered["data"]["jenkins.yaml"])
    template = document["jenkins"]["clouds"][0]["kubernetes"]["templates"][0]
    body = yaml.safe_load(template["yaml"])
    extra = copy.deepcopy(body["spec"]["containers"][0])
    extra["name"] = "sneaky"
    extra["securityContext"] = {**extra["securityContext"], "privileged": True}
    body["spec"]["containers"].append(extra)
    template["yaml"] = yaml.safe_dump(body)
    tampered["data"]["jenkins.yaml"] = yaml.safe_dump(document)
    return tampered


def mandatory_findings(pack, objects: list[dict]) -> list:
    return [v for v in pack.check([resource(o) for o in objects], PROD_POLICY) if v.enforcement_level == "mandatory"]


def test_pack_finds_a_privileged_container_hidden_in_a_pod_template(pack, rendered):
    config_map = casc_config_map(rendered)
    pool_namespace = namespace("jenkins-test-k8s", "restricted")
    # Every option above, as rendered, passes prod's policy.
    assert mandatory_findings(pack, [pool_namespace, config_map]) == []
    found = mandatory_findings(pack, [pool_namespace, with_hidden_privileged_container(config_map)])
    assert policies(found) >= {"pss-privileged"}
    (privileged,) = [v for v in found if v.policy_name == "pss-privileged"]
    # Named by the template's namespace, cloud and template, and the container.
    assert "jenkins-test-k8s/k8s/rich" in privileged.message and '"sneaky"' in privileged.message


def test_image_build_pods_keep_their_builder_and_add_the_templates_env_and_volumes():
    synthesis = synth_pools({"name": "build", "type": "kubernetes", "builder": "buildkit-rootless", "templates": [
        {"name": "t", "labels": ["t"], "env": [{"name": "REGISTRY", "value": "registry.example.com"}],
         "volumes": [{"name": "docker-config", "mountPath": "/home/user/.docker", "readOnly": True,
                      "secret": {"name": "registry-push"}}]}]})
    spec = pod(synthesis, "t")["spec"]
    (buildkit,) = [c for c in spec["containers"] if c["name"] == "buildkit"]
    assert [e["name"] for e in buildkit["env"]] == ["BUILDKITD_FLAGS", "REGISTRY"]
    assert [m["name"] for m in buildkit["volumeMounts"]] == ["buildkit-state", "docker-config"]
    assert [v["name"] for v in spec["volumes"]] == ["buildkit-state", "docker-config"]
