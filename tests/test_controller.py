"""The controller as the real program registers it, per stack and for config changes."""
import json

import yaml

import pytest

from tests.conftest import ROOT, STACKS, minimal_config, synth_config
from tests.helpers import casc, controller_pod
from tools import synth
from tools.check import schema_problems


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_synthesizes_schema_valid_manifests(stack_syntheses, stack):
    synthesis = stack_syntheses[stack]
    assert synthesis.ok, synthesis.error
    assert synthesis.kubernetes_objects()
    assert schema_problems(synthesis) == []


def test_schema_validation_catches_a_broken_manifest(stack_syntheses):
    synthesis = stack_syntheses["prod"]
    record = synthesis.find(":StatefulSet", "jenkins")
    record.raw_inputs["spec"]["replicas"] = "one"
    try:
        assert any("replicas" in p for p in schema_problems(synthesis))
    finally:
        record.raw_inputs["spec"]["replicas"] = 1


def test_prod_json_shows_protected_and_retained_home_claim(capsys):
    assert synth.main(["prod", "--format", "json"]) == 0
    resources = json.loads(capsys.readouterr().out)["resources"]
    claim = next(r for r in resources if r["type"] == "kubernetes:core/v1:PersistentVolumeClaim"
                 and r["name"] == "jenkins-home")
    assert claim["protect"] is True and claim["retainOnDelete"] is True
    assert claim["parent"].endswith("jenkins:index:JenkinsController::controller")


@pytest.mark.parametrize("protect", [True, False])
def test_protection_follows_config_on_claim_and_namespace(protect):
    synthesis = synth_config(minimal_config(controller={"storage": {"protect": protect}}))
    for type_suffix, name in ((":PersistentVolumeClaim", "jenkins-home"), (":Namespace", "controller-namespace")):
        record = synthesis.find(type_suffix, name)
        assert record.protect is protect and record.retain_on_delete is protect


def test_protection_is_on_by_default():
    synthesis = synth_config(minimal_config())
    assert synthesis.find(":PersistentVolumeClaim", "jenkins-home").protect


def test_controller_pod_is_restricted(stack_syntheses):
    spec = controller_pod(stack_syntheses["prod"])["spec"]
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] and pod["runAsUser"] == 1000 and pod["fsGroup"] == 1000
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in spec["containers"] + spec["initContainers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"] and container["resources"]["requests"]
    mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert {"/tmp", "/var/jenkins_home"} <= mounts


def test_probes_hit_login(stack_syntheses):
    container = controller_pod(stack_syntheses["prod"])["spec"]["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/login"


def test_resources_come_from_config():
    synthesis = synth_config(minimal_config(controller={"resources": {
        "requests": {"cpu": "750m", "memory": "3Gi"}, "limits": {"cpu": "3", "memory": "6Gi"}}}))
    container = controller_pod(synthesis)["spec"]["containers"][0]
    assert container["resources"] == {"requests": {"cpu": "750m", "memory": "3Gi"},
                                      "limits": {"cpu": "3", "memory": "6Gi"}}


def test_jcasc_reads_the_admin_password_from_a_mounted_file(stack_syntheses):
    synthesis = stack_syntheses["prod"]
    users = casc(synthesis)["jenkins"]["securityRealm"]["local"]["users"]
    assert {"id": "admin", "password": "${admin-password}"} in users
    env = {e["name"]: e.get("value") for e in controller_pod(synthesis)["spec"]["containers"][0]["env"]}
    assert "-Djenkins.install.runSetupWizard=false" in env["JAVA_OPTS"]
    assert env["CASC_JENKINS_CONFIG"] == "/var/jenkins_home/casc_configs"
    volumes = {v["name"]: v for v in controller_pod(synthesis)["spec"]["volumes"]}
    sources = volumes["secrets"]["projected"]["sources"]
    assert {"name": "jenkins-admin", "items": [{"key": "password", "path": "admin-password"}]} in [
        s["secret"] for s in sources]


def test_a_config_change_rolls_the_pod():
    first = controller_pod(synth_config(minimal_config()))["metadata"]["annotations"]
    second = controller_pod(synth_config(minimal_config(controller={"systemMessage": "hello"})))
    assert first == controller_pod(synth_config(minimal_config()))["metadata"]["annotations"]
    assert second["metadata"]["annotations"] != first


def test_services_and_optional_ingress():
    plain = synth_config(minimal_config())
    ports = {r.name: r.inputs["spec"]["ports"][0]["port"] for r in plain.records if r.type.endswith(":Service")}
    assert ports == {"http": 8080, "governing": 8080}
    assert not [r for r in plain.records if r.type.endswith(":Ingress")]
    exposed = synth_config(minimal_config(exposure={"ingress": {"host": "ci.example.org", "tls": "existing-secret",
                                                                "tlsSecretName": "ci-tls"}}))
    ingress = exposed.find(":Ingress", "ingress").inputs["spec"]
    assert ingress["rules"][0]["host"] == "ci.example.org"
    assert exposed.outputs["url"] == "https://ci.example.org/"


def test_stack_outputs(stack_syntheses):
    outputs = stack_syntheses["prod"].outputs
    assert outputs["url"] == "https://jenkins.example.com/"
    assert outputs["namespace"] == "jenkins"
    assert outputs["adminSecretName"] == "jenkins-admin"
    assert outputs["pools"]["k8s"]["namespace"] == "jenkins-k8s"


def test_render_mode_reaches_the_provider(stack_syntheses):
    provider = stack_syntheses["local"].find("pulumi:providers:kubernetes", "kubernetes")
    assert provider.inputs["renderYamlToDirectory"] == "rendered/local"


def test_kubernetes_cloud_uses_websocket_and_restricted_pods(stack_syntheses):
    cloud = casc(stack_syntheses["prod"])["jenkins"]["clouds"][0]["kubernetes"]
    assert cloud["webSocket"] is True and cloud["restrictedPssSecurityContext"] is True
    assert cloud["namespace"] == "jenkins-k8s"
    pod = yaml.safe_load(cloud["templates"][0]["yaml"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert all(c["securityContext"]["capabilities"] == {"drop": ["ALL"]} for c in pod["spec"]["containers"])
