"""Image builds in Kubernetes-plugin pods (`builder: buildkit-rootless`), through the real program and
the real policy pack: the builder gets exactly what rootless BuildKit needs, in one namespace, on one
container, and the pack refuses the same relaxation anywhere else."""
from __future__ import annotations

import copy

import pytest
import yaml

from components.config import ConfigError, parse_stack_config
from tests import upstream_facts as facts
from tests.helpers import K8S_POOL, casc, schema_errors, synth_pools
from tests.policy_pack import shared_pack
from tests.stack_checks import checked
from tools.check import policy_resources
from tools.harness import synthesize
from tools.harness import ROOT

PROD_POLICY = ROOT / "policy" / "config" / "prod.json"
BUILD_POOL = {"name": "build", "type": "kubernetes", "builder": "buildkit-rootless",
              "templates": [{"name": "image-build", "labels": ["image-build"]}]}
# The relaxations prod grants to the builder container, and nothing else.
RELAXED = {"pss-seccomp-baseline", "pss-seccomp-restricted", "pss-apparmor",
           "pss-allow-privilege-escalation", "pss-capabilities-restricted"}


def templates(synthesis, cloud: str) -> dict[str, dict]:
    clouds = [c["kubernetes"] for c in casc(synthesis)["jenkins"]["clouds"] if "kubernetes" in c]
    found = next(c for c in clouds if c["name"] == cloud)
    return {t["name"]: {**t, "pod": yaml.safe_load(t["yaml"])} for t in found["templates"]}


def cloud(synthesis, name: str) -> dict:
    return next(c["kubernetes"] for c in casc(synthesis)["jenkins"]["clouds"]
                if "kubernetes" in c and c["kubernetes"]["name"] == name)


def by_name(pod: dict) -> dict[str, dict]:
    return {c["name"]: c for c in pod["spec"]["containers"]}


def namespace_enforce(synthesis, pool: str) -> str:
    return synthesis.find(":Namespace", f"{pool}-namespace").inputs["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"]


@pytest.fixture(scope="module")
def prod():
    return synthesize("prod")


@pytest.fixture(scope="module")
def prod_resources(prod):
    return policy_resources(prod)


@pytest.fixture(scope="module")
def pack(request):
    return shared_pack(request)


def with_casc(resources, edit) -> list:
    """The same resources with the JCasC ConfigMap's document changed by `edit(document)`."""
    out = []
    for resource in resources:
        if resource.type == "kubernetes:core/v1:ConfigMap" and "jenkins.yaml" in resource.properties.get("data", {}):
            properties = copy.deepcopy(resource.properties)
            document = yaml.safe_load(properties["data"]["jenkins.yaml"])
            edit(document)
            properties["data"]["jenkins.yaml"] = yaml.safe_dump(document)
            resource = type(resource)(**{**resource.__dict__, "properties": properties})
        out.append(resource)
    return out


def edit_template(document: dict, cloud_name: str, change) -> None:
    for entry in document["jenkins"]["clouds"]:
        if entry.get("kubernetes", {}).get("name") == cloud_name:
            for template in entry["kubernetes"]["templates"]:
                pod = yaml.safe_load(template["yaml"])
                change(template, pod)
                template["yaml"] = yaml.safe_dump(pod)


def violations_on_templates(violations) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for v in violations:
        if "Kubernetes-plugin pod template" in v.message:
            out.setdefault(v.message.split(" (in ConfigMap")[0].split("template ")[1], set()).add(v.policy_name)
    return out


# ------------------------------------------------------------------ the rendered pool

def test_prod_builds_images_in_its_own_privileged_namespace_only(prod):
    assert namespace_enforce(prod, "build") == "privileged"
    assert namespace_enforce(prod, "k8s") == "restricted"
    controller_ns = prod.find(":Namespace", "controller-namespace").inputs["metadata"]["labels"]
    assert controller_ns["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {t["label"] for t in templates(prod, "build").values()} == {"image-build"}
    assert all(t["namespace"] == "jenkins-build" for t in templates(prod, "build").values())
    assert "buildkit" not in by_name(templates(prod, "k8s")["default"]["pod"])


def test_builder_container_is_upstream_rootless_buildkit(prod):
    pod = templates(prod, "build")["image-build"]["pod"]
    buildkit = by_name(pod)["buildkit"]
    context = buildkit["securityContext"]
    assert buildkit["image"] == facts.BUILDKIT_ROOTLESS_IMAGE
    assert {k: context[k]["type"] for k in facts.BUILDKIT_PROFILES} == facts.BUILDKIT_PROFILES
    assert context["runAsUser"] == facts.BUILDKIT_UID and context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is True and "privileged" not in context
    assert "capabilities" not in context  # the runtime's default set, as upstream runs it
    assert {"name": "BUILDKITD_FLAGS", "value": facts.BUILDKIT_FLAGS} in buildkit["env"]
    state = next(m for m in buildkit["volumeMounts"] if m["mountPath"] == facts.BUILDKIT_STATE_DIR)
    assert {"name": state["name"], "emptyDir": {}} in pod["spec"]["volumes"]
    assert pod["metadata"]["labels"]["jenkins-k8s.io/builder"] == "buildkit-rootless"


def test_everything_but_the_builder_container_stays_restricted(prod):
    pod = templates(prod, "build")["image-build"]["pod"]
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    jnlp = by_name(pod)["jnlp"]["securityContext"]
    assert jnlp["allowPrivilegeEscalation"] is False and jnlp["capabilities"] == {"drop": ["ALL"]}
    assert jnlp["seccompProfile"] == {"type": "RuntimeDefault"} and "appArmorProfile" not in jnlp


def test_plugin_restricted_injection_is_off_only_where_it_would_undo_the_builder(prod):
    # The plugin would fill the builder's unset fields with restricted values: the build cloud turns
    # it off (its YAML sets every field), every other cloud keeps it.
    assert cloud(prod, "build")["restrictedPssSecurityContext"] is False
    assert cloud(prod, "k8s")["restrictedPssSecurityContext"] is True


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_manifests_are_schema_valid(prod, version):
    assert schema_errors(prod, version) == []


def test_bad_builder_config_names_the_key():
    clash = {**BUILD_POOL, "templates": [{"name": "t", "labels": ["x"], "containers": [
        {"name": "buildkit", "image": "alpine:3.20"}]}]}
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "t", "namespace": "t", "pools": [clash]})
    assert str(error.value).startswith("jenkins:pools[0]: builder: ")
    with pytest.raises(ConfigError) as error:
        parse_stack_config({"environment": "t", "namespace": "t", "pools": [{**BUILD_POOL, "builder": "kaniko"}]})
    assert "jenkins:pools[0].builder:" in str(error.value)


# ------------------------------------------------------------------ the real policy pack

def test_prod_passes_the_real_pack_with_its_build_pool():
    report = checked("prod")
    assert report.ok, report


def test_without_the_exemptions_the_pack_refuses_the_builder(pack, prod_resources, tmp_path):
    import json

    config = json.loads(PROD_POLICY.read_text())
    for policy in RELAXED:
        config[policy] = "mandatory"
    config["jenkins-namespace-pod-security"] = {"enforcementLevel": "mandatory", "level": "restricted"}
    path = tmp_path / "prod-without-builder.json"
    path.write_text(json.dumps(config))
    violations = pack.check(prod_resources, path)
    found = violations_on_templates(violations)
    assert found == {"jenkins-build/build/image-build": RELAXED}
    assert any(v.policy_name == "jenkins-namespace-pod-security" and "jenkins-build" in v.message
               for v in violations)


def test_the_same_pool_in_another_namespace_is_refused(pack, tmp_path):
    # Pool "builds" -> namespace jenkins-test-builds: not the one prod exempts.
    synthesis = synth_pools(K8S_POOL, {**BUILD_POOL, "name": "builds"})
    violations = pack.check(policy_resources(synthesis), PROD_POLICY)
    assert violations_on_templates(violations) == {"jenkins-test-builds/builds/image-build": RELAXED}
    assert any(v.policy_name == "jenkins-namespace-pod-security" and "jenkins-test-builds" in v.message
               for v in violations)


def test_the_same_relaxation_on_another_container_is_refused(pack, prod_resources):
    def jnlp_unconfined(template, pod):
        for container in pod["spec"]["containers"]:
            if container["name"] == "jnlp":
                container["securityContext"]["seccompProfile"] = {"type": "Unconfined"}
                container["securityContext"]["allowPrivilegeEscalation"] = True

    resources = with_casc(prod_resources, lambda doc: edit_template(doc, "build", jnlp_unconfined))
    violations = pack.check(resources, PROD_POLICY)
    messages = [v.message for v in violations]
    assert {v.policy_name for v in violations} == {
        "pss-seccomp-baseline", "pss-seccomp-restricted", "pss-allow-privilege-escalation"}
    assert all('container "jnlp"' in m for m in messages), messages


def test_the_relaxation_at_pod_level_or_without_the_builder_label_is_refused(pack, prod_resources):
    def pod_unconfined(template, pod):
        pod["spec"]["securityContext"]["seccompProfile"] = {"type": "Unconfined"}

    violations = pack.check(with_casc(prod_resources, lambda d: edit_template(d, "build", pod_unconfined)),
                                 PROD_POLICY)
    assert {v.policy_name for v in violations} == {"pss-seccomp-baseline", "pss-seccomp-restricted"}

    def unlabelled(template, pod):
        del pod["metadata"]["labels"]["jenkins-k8s.io/builder"]

    violations = pack.check(with_casc(prod_resources, lambda d: edit_template(d, "build", unlabelled)),
                                 PROD_POLICY)
    assert violations_on_templates(violations) == {"jenkins-build/build/image-build": RELAXED}


def test_the_builder_in_the_default_pool_namespace_is_refused(pack, prod_resources):
    def move(template, pod):
        template["namespace"] = "jenkins-k8s"

    violations = pack.check(with_casc(prod_resources, lambda d: edit_template(d, "build", move)),
                                 PROD_POLICY)
    assert violations_on_templates(violations) == {"jenkins-k8s/build/image-build": RELAXED}


def test_a_malformed_containers_narrowing_is_refused_with_one_line(pack, prod_resources, tmp_path):
    import json

    from tools.policy_engine import PolicyConfigError

    config = json.loads(PROD_POLICY.read_text())
    config["pss-apparmor"]["allow"][0]["containers"] = "buildkit"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    with pytest.raises(PolicyConfigError) as error:
        pack.check(prod_resources[:1], path)
    assert 'policy "pss-apparmor", key "allow[0].containers"' in str(error.value)
    assert "\n" not in str(error.value)
