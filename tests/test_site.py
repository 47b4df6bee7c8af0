"""Restricted networks through the real program: jenkins:images (registry prefix, pull secrets, plugin
mirror), caBundle and proxy, read back from the rendered manifests and JCasC of every pool type."""
from __future__ import annotations

import json
import shlex

import pytest
import yaml

from tests.conftest import minimal_config, synth_config
from tests.helpers import casc, containers, controller_pod, pod_templates, secret_leaks
from tests.policy_pack import shared_pack
from tools.check import policy_resources, schema_problems
from tools.harness import ROOT, config_as_cli_passes_it, synthesize

PREFIX = "registry.example.com/mirror"
PEM = ("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2FmZmVpbmU=\n-----END CERTIFICATE-----\n"
       "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUU2Vjb25k\n-----END CERTIFICATE-----\n")
DOCKER_CONFIG = {"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNz"}}}
ALL_POOLS = [
    {"name": "onctl", "type": "controller", "labels": ["controller"]},
    {"name": "docker", "type": "docker-cloud", "templates": [
        {"name": "attach", "labels": ["docker-attach"]},
        {"name": "ssh", "labels": ["docker-ssh"], "connector": "ssh"}]},
    {"name": "dcd", "type": "docker-cloud-dind", "templates": [{"name": "attach", "labels": ["dind-attach"]}]},
    {"name": "swarm", "type": "swarm", "labels": ["swarm"]},
    {"name": "sdind", "type": "swarm-dind", "labels": ["swarm-docker"]},
    {"name": "k8s", "type": "kubernetes", "templates": [
        {"name": "build", "labels": ["k8s"],
         "containers": [{"name": "tool", "image": "moby/buildkit:v0.32.2-rootless"}]}]},
]
# An image-build pool (BuildKit builder container); the dev policy config admits no builder, so it
# is rendered on its own.
BUILDER_POOL = {"name": "kbuild", "type": "kubernetes", "builder": "buildkit-rootless",
                "templates": [{"name": "image", "labels": ["image-build"]}]}
SITE = {
    "images": {"registry": PREFIX, "pullSecrets": ["corp-pull"],
               "pluginMirror": {"updateCenter": "https://mirror.example.com/jenkins/update-center.json",
                                "pluginInfo": "https://mirror.example.com/jenkins/plugin-versions.json",
                                "downloadUrl": "https://mirror.example.com/jenkins/plugins"}},
    "caBundle": {"pem": PEM},
    "proxy": {"httpProxy": "http://proxy.example.com:3128", "httpsProxy": "http://proxy.example.com:3129",
              "noProxy": ["10.96.0.0/12", ".corp.example.com"]},
}


def site_config(**extra) -> dict:
    # The dev environment's names: the dev policy config allows its DinD pods and the node's socket.
    config = minimal_config(pools=ALL_POOLS, **SITE, **extra)
    config.update({"jenkins:environment": "dev", "jenkins:namespace": "jenkins-dev"})
    config["jenkins:imagePullDockerConfig"] = {"secure": "ciphertext"}
    return config


@pytest.fixture(scope="module")
def synthesis():
    config = site_config()
    # As `pulumi up` hands it over: the decrypted JSON, listed among the secret keys.
    values, secret_keys = config_as_cli_passes_it(config)
    values["jenkins:imagePullDockerConfig"] = json.dumps(DOCKER_CONFIG)
    result = synthesize("test", config=values, secret_keys=secret_keys)
    assert result.ok, result.error
    return result


def test_a_stack_file_with_the_secure_pull_config_renders_offline():
    """The ciphertext cannot be read offline; the harness's placeholder has the value's shape."""
    result = synth_config(site_config())
    assert result.ok, result.error
    assert any(r.type.endswith(":Secret") and r.inputs["metadata"]["name"] == "jenkins-image-pull"
               for r in result.kubernetes_objects())


def template_pods(document: dict) -> list[tuple[str, dict]]:
    """(cloud/template, parsed pod) of every Kubernetes-plugin template in JCasC."""
    return [(f"{cloud['kubernetes']['name']}/{t['name']}", yaml.safe_load(t["yaml"]))
            for cloud in document["jenkins"].get("clouds", []) if "kubernetes" in cloud
            for t in cloud["kubernetes"]["templates"]]


def every_image(synthesis) -> list[tuple[str, str]]:
    images = [(f"{where}:{c['name']}", c["image"]) for where, spec in pod_templates(synthesis)
              for c in containers(spec)]
    document = casc(synthesis)
    for cloud in document["jenkins"].get("clouds", []):
        for template in cloud.get("docker", {}).get("templates", []):
            images.append((f"docker {cloud['docker']['name']}/{template['name']}",
                           template["dockerTemplateBase"]["image"]))
    for where, pod in template_pods(document):
        images += [(f"pod template {where}:{c['name']}", c["image"]) for c in containers(pod["spec"])]
    return images


# ------------------------------------------------------------------ images

def test_every_rendered_image_of_every_pool_type_is_under_the_prefix(synthesis):
    images = every_image(synthesis)
    where = {w.split(":")[0].split("/")[0] for w, _ in images}
    # Each pool type contributed images: controller pod, DinD StatefulSet, both swarm kinds,
    # docker templates, Kubernetes pod templates.
    assert {"StatefulSet", "docker dcd", "docker docker", "pod template k8s"} <= where
    assert {w for w, _ in images if w.startswith("StatefulSet/")} >= {
        "StatefulSet/jenkins:jenkins", "StatefulSet/dind:dind", "StatefulSet/swarm:swarm-client",
        "StatefulSet/sdind:dind", "StatefulSet/sdind:install-docker-cli", "StatefulSet/jenkins:copy-docker-cli"}
    outside = [(w, i) for w, i in images if not i.startswith("registry.example.com/mirror/")]
    assert outside == []


@pytest.mark.parametrize("pool", [*ALL_POOLS, BUILDER_POOL],
                         ids=[*(p["type"] for p in ALL_POOLS), "kubernetes-builder"])
def test_each_pool_type_alone_renders_only_prefixed_images(pool):
    config = minimal_config(pools=[pool], images={"registry": PREFIX})
    config.update({"jenkins:environment": "dev", "jenkins:namespace": "jenkins-dev"})
    result = synth_config(config)
    assert result.ok, result.error
    images = every_image(result)
    # The pool contributed images of its own: a workload of its own, its templates, or (controller
    # executors) an init container in the controller pod.
    own = [w for w, _ in images if pool["name"] in w or (pool["type"] == "controller" and "copy-docker-cli" in w)]
    assert own
    assert [(w, i) for w, i in images if not i.startswith("registry.example.com/mirror/")] == []
    if pool is BUILDER_POOL:
        assert dict(images)["pod template kbuild/image:buildkit"] == \
            "registry.example.com/mirror/moby/buildkit:v0.32.2-rootless"


def test_docker_hub_names_map_under_the_prefix_keeping_library_for_official_images(synthesis):
    images = dict(every_image(synthesis))
    assert images["StatefulSet/jenkins:jenkins"] == "registry.example.com/mirror/jenkins/jenkins:2.568.2-jdk21"
    assert images["StatefulSet/dind:dind"] == "registry.example.com/mirror/library/docker:29.7.2-dind"
    assert images["pod template k8s/build:tool"] == "registry.example.com/mirror/moby/buildkit:v0.32.2-rootless"
    assert images["StatefulSet/swarm:swarm-client"] == "registry.example.com/mirror/jenkins/agent:3385.vf1123fb_515da_-1-jdk21"


@pytest.mark.parametrize("configured, rendered", [
    ("docker.io/library/alpine:3.20", "registry.example.com/mirror/library/alpine:3.20"),
    ("alpine:3.20", "registry.example.com/mirror/library/alpine:3.20"),
    ("docker.io/acme/tool:1.0", "registry.example.com/mirror/acme/tool:1.0"),
    ("index.docker.io/acme/tool:1.0", "registry.example.com/mirror/acme/tool:1.0"),
    ("acme/tool@sha256:" + "a" * 64, "registry.example.com/mirror/acme/tool@sha256:" + "a" * 64),
])
def test_docker_hub_spellings_map_to_one_name_under_the_prefix(configured, rendered):
    result = synth_config(minimal_config(images={"registry": PREFIX}, pools=[
        {"name": "k8s", "type": "kubernetes", "templates": [{"name": "b", "labels": ["k"], "containers": [
            {"name": "tool", "image": configured}]}]}]))
    assert result.ok, result.error
    images = dict(every_image(result))
    assert images["pod template k8s/b:tool"] == rendered


def test_without_images_nothing_is_rewritten():
    result = synth_config(minimal_config(pools=ALL_POOLS))
    assert result.ok, result.error
    images = dict(every_image(result))
    assert images["StatefulSet/jenkins:jenkins"] == "jenkins/jenkins:2.568.2-jdk21"
    assert all(not i.startswith("registry.example.com/") for i in images.values())
    assert all("imagePullSecrets" not in spec for _, spec in pod_templates(result))


def test_an_image_of_another_registry_is_refused_naming_its_key():
    config = minimal_config(images={"registry": PREFIX}, pools=[
        {"name": "k8s", "type": "kubernetes", "templates": [{"name": "b", "labels": ["k"], "containers": [
            {"name": "tool", "image": "ghcr.io/acme/tool:1.0"}]}]}])
    result = synth_config(config)
    assert not result.ok
    assert "jenkins:pools[0].templates[0].containers[0].image: image 'ghcr.io/acme/tool:1.0' is on ghcr.io" in result.error
    assert result.records == [] or not any(r.type.endswith(":StatefulSet") for r in result.records)


def test_an_image_already_under_the_prefix_is_kept():
    config = minimal_config(images={"registry": PREFIX},
                            controller={"image": "registry.example.com/mirror/acme/jenkins:2.568.2-1"})
    result = synth_config(config)
    assert result.ok, result.error
    assert controller_pod(result)["spec"]["containers"][0]["image"] == "registry.example.com/mirror/acme/jenkins:2.568.2-1"


# ------------------------------------------------------------------ pull secrets

def test_every_pod_and_pod_template_names_both_pull_secrets(synthesis):
    expected = [{"name": "corp-pull"}, {"name": "jenkins-image-pull"}]
    specs = [*pod_templates(synthesis), *((w, pod["spec"]) for w, pod in template_pods(casc(synthesis)))]
    assert len(specs) >= 5
    assert {where: spec.get("imagePullSecrets") for where, spec in specs} == {where: expected for where, _ in specs}


def test_pull_secret_is_a_secret_marked_dockerconfigjson_in_each_namespace_that_runs_pods(synthesis):
    secrets = [r for r in synthesis.kubernetes_objects()
               if r.type.endswith(":Secret") and r.inputs["metadata"]["name"] == "jenkins-image-pull"]
    namespaces = sorted(r.inputs["metadata"]["namespace"] for r in secrets)
    assert namespaces == ["jenkins-dev", "jenkins-dev-dcd", "jenkins-dev-k8s", "jenkins-dev-sdind",
                          "jenkins-dev-swarm"]
    for record in secrets:
        assert record.inputs["type"] == "kubernetes.io/dockerconfigjson"
        assert {"data", "stringData"} <= set(record.additional_secret_outputs)
    assert secret_leaks(synthesis) == []
    # Nowhere in plain text: not in any manifest once secrets are redacted.
    assert "dXNlcjpwYXNz" not in json.dumps(synthesis.manifests(redacted=True))


def test_pull_config_set_in_plain_text_is_refused_without_echoing_it():
    config = minimal_config(pools=[])
    config["jenkins:imagePullDockerConfig"] = json.dumps(DOCKER_CONFIG)
    result = synth_config(config)
    assert not result.ok
    assert "jenkins:imagePullDockerConfig: holds registry credentials, so it must be set with `pulumi config set " \
           "--secret" in result.error
    assert "dXNlcjpwYXNz" not in result.error


# ------------------------------------------------------------------ plugin mirror

def test_plugin_cli_gets_the_mirror_options(synthesis):
    install = next(c for c in controller_pod(synthesis)["spec"]["initContainers"] if c["name"] == "install-plugins")
    line = next(line for line in install["command"][2].splitlines() if "jenkins-plugin-cli" in line)
    words = shlex.split(line.split(" ", 1)[1])
    assert words[words.index("--jenkins-update-center") + 1] == "https://mirror.example.com/jenkins/update-center.json"
    assert words[words.index("--jenkins-plugin-info") + 1] == "https://mirror.example.com/jenkins/plugin-versions.json"
    assert words[words.index("--jenkins-update-center-download-url") + 1] == "https://mirror.example.com/jenkins/plugins"


# ------------------------------------------------------------------ CA bundle

def java_env(container: dict) -> str:
    return next(e["value"] for e in container.get("env", []) if e["name"] == "JAVA_TOOL_OPTIONS")


def test_jvms_of_controller_plugin_cli_swarm_and_jnlp_use_the_imported_truststore(synthesis):
    pods = dict(pod_templates(synthesis))
    pods.update((f"template {w}", pod["spec"]) for w, pod in template_pods(casc(synthesis)))
    jvm_containers = [("StatefulSet/jenkins", "jenkins"), ("StatefulSet/jenkins", "install-plugins"),
                      ("StatefulSet/swarm", "swarm-client"), ("StatefulSet/sdind", "swarm-client"),
                      ("template k8s/build", "jnlp")]
    for pod, name in jvm_containers:
        spec = pods[pod]
        container = next(c for c in containers(spec) if c["name"] == name)
        assert "-Djavax.net.ssl.trustStore=/var/run/jenkins-k8s/truststore/cacerts" in java_env(container), (pod, name)
        assert {"name": "truststore", "mountPath": "/var/run/jenkins-k8s/truststore", "readOnly": True} \
            in container["volumeMounts"]
        first = spec["initContainers"][0]
        assert first["name"] == "import-ca-bundle"
        assert "keytool -importcert" in first["command"][2]
        assert '"$JAVA_HOME/lib/security/cacerts"' in first["command"][2]
        assert first["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"name": "truststore", "emptyDir": {}} in spec["volumes"]
        assert {"name": "ca-bundle", "configMap": {"name": "jenkins-ca-bundle",
                                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}} in spec["volumes"]


def test_dockerd_trusts_the_bundle_for_the_registry_host(synthesis):
    for pod in ("StatefulSet/dind", "StatefulSet/sdind"):
        dind = next(c for c in containers(dict(pod_templates(synthesis))[pod]) if c["name"] == "dind")
        assert {"name": "ca-bundle", "readOnly": True, "subPath": "ca.crt",
                "mountPath": "/etc/docker/certs.d/registry.example.com/ca.crt"} in dind["volumeMounts"]
        assert all(e["name"] != "JAVA_TOOL_OPTIONS" for e in dind["env"])


def test_inline_bundle_becomes_a_config_map_in_each_namespace(synthesis):
    maps = [r.inputs for r in synthesis.kubernetes_objects()
            if r.type.endswith(":ConfigMap") and r.inputs["metadata"]["name"] == "jenkins-ca-bundle"]
    assert sorted(m["metadata"]["namespace"] for m in maps) == [
        "jenkins-dev", "jenkins-dev-dcd", "jenkins-dev-k8s", "jenkins-dev-sdind", "jenkins-dev-swarm"]
    assert all(m["data"] == {"ca.crt": PEM} for m in maps)


@pytest.mark.parametrize("bundle, volume", [
    ({"secret": {"name": "corp-ca", "key": "bundle.pem"}},
     {"secret": {"secretName": "corp-ca", "items": [{"key": "bundle.pem", "path": "ca.crt"}]}}),
    ({"configMap": {"name": "corp-ca"}},
     {"configMap": {"name": "corp-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}),
])
def test_bundle_from_a_reference_is_mounted_from_that_object(bundle, volume):
    result = synth_config(minimal_config(caBundle=bundle, pools=[ALL_POOLS[3]]))
    assert result.ok, result.error
    spec = dict(pod_templates(result))["StatefulSet/swarm"]
    assert {"name": "ca-bundle", **volume} in spec["volumes"]
    assert not any(r.type.endswith(":ConfigMap") and r.inputs["metadata"]["name"] == "jenkins-ca-bundle"
                   for r in result.kubernetes_objects())


@pytest.mark.parametrize("bundle, message", [
    ({"pem": "not a certificate"}, "jenkins:caBundle.pem: holds no PEM certificate"),
    ({"pem": PEM + "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}, "holds a private key"),
    ({"configMap": {"name": "a"}, "secret": {"name": "b"}}, "jenkins:caBundle: set exactly one of configMap, secret, pem"),
])
def test_bad_bundles_are_refused(bundle, message):
    result = synth_config(minimal_config(caBundle=bundle))
    assert not result.ok and message in result.error


# ------------------------------------------------------------------ proxy

def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def test_proxy_env_reaches_every_container_with_the_cluster_names_exempt(synthesis):
    specs = [*pod_templates(synthesis), *((w, pod["spec"]) for w, pod in template_pods(casc(synthesis)))]
    for where, spec in specs:
        for container in containers(spec):
            env = env_of(container)
            assert env["HTTPS_PROXY"] == env["https_proxy"] == "http://proxy.example.com:3129", (where, container["name"])
            assert env["HTTP_PROXY"] == "http://proxy.example.com:3128"
            no_proxy = env["NO_PROXY"].split(",")
            assert {"localhost", "127.0.0.1", ".svc", ".cluster.local", "kubernetes.default.svc",
                    "jenkins.jenkins-dev.svc.cluster.local", "10.96.0.0/12", ".corp.example.com"} <= set(no_proxy)


def test_controller_jvm_and_jcasc_proxy(synthesis):
    jenkins = controller_pod(synthesis)["spec"]["containers"][0]
    options = java_env(jenkins).split()
    assert "-Dhttps.proxyHost=proxy.example.com" in options and "-Dhttps.proxyPort=3129" in options
    assert "-Dhttp.proxyHost=proxy.example.com" in options and "-Dhttp.proxyPort=3128" in options
    non_proxy = next(o for o in options if o.startswith("-Dhttp.nonProxyHosts=")).split("=", 1)[1].split("|")
    assert {"*.svc", "*.cluster.local", "kubernetes.default.svc", "*.corp.example.com"} <= set(non_proxy)
    assert "10.96.0.0/12" not in non_proxy  # Java has no CIDR form
    proxy = casc(synthesis)["jenkins"]["proxy"]
    assert proxy["name"] == "proxy.example.com" and proxy["port"] == 3129
    assert {"*.svc", "jenkins.jenkins-dev.svc"} <= set(proxy["noProxyHost"].split("\n"))


def test_docker_templates_get_the_proxy_env(synthesis):
    clouds = [c["docker"] for c in casc(synthesis)["jenkins"]["clouds"] if "docker" in c]
    templates = [t for cloud in clouds for t in cloud["templates"]]
    assert len(templates) == 3
    for template in templates:
        lines = template["dockerTemplateBase"]["environmentsString"].split("\n")
        assert "HTTPS_PROXY=http://proxy.example.com:3129" in lines and "https_proxy=http://proxy.example.com:3129" in lines
        no_proxy = next(line for line in lines if line.startswith("NO_PROXY=")).split("=", 1)[1].split(",")
        assert ".svc" in no_proxy and "kubernetes.default.svc" in no_proxy
        java = next(line for line in lines if line.startswith("JAVA_TOOL_OPTIONS=")).split("=", 1)[1].split()
        assert "-Dhttps.proxyHost=proxy.example.com" in java


def test_proxy_without_a_cidr_warns_that_the_api_server_ip_would_be_proxied(synthesis):
    assert not any("KUBERNETES_SERVICE_HOST" in w for w in synthesis.warnings)  # 10.96.0.0/12 is listed
    result = synth_config(minimal_config(proxy={"httpsProxy": "http://proxy.example.com:3128"}))
    assert result.ok, result.error
    assert any(w.startswith("jenkins:proxy.noProxy lists no CIDR") for w in result.warnings)


def test_backup_job_pulls_through_the_prefix_with_the_pull_secrets():
    result = synth_config(minimal_config(
        images={"registry": PREFIX, "pullSecrets": ["corp-pull"]}, caBundle={"pem": PEM},
        controller={"backup": {"schedule": "0 3 * * *", "volumeSnapshotClassName": "csi-snapshots"}}))
    assert result.ok, result.error
    spec = result.find(":CronJob", "backup").inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["containers"][0]["image"].startswith("registry.example.com/mirror/")
    assert spec["imagePullSecrets"] == [{"name": "corp-pull"}]
    assert "initContainers" not in spec and all(v["name"] != "ca-bundle" for v in spec["volumes"])


def test_proxy_url_with_credentials_is_refused():
    result = synth_config(minimal_config(proxy={"httpsProxy": "http://user:secret@proxy.example.com:3128"}))
    assert not result.ok and "jenkins:proxy.httpsProxy" in result.error


# ------------------------------------------------------------------ the whole thing checks

def test_site_stack_is_schema_valid_on_both_kubernetes_versions(synthesis):
    assert schema_problems(synthesis) == []


def test_site_stack_passes_the_policy_pack(request, synthesis):
    violations = shared_pack(request).check(policy_resources(synthesis), ROOT / "policy" / "config" / "dev.json")
    assert [v for v in violations if v.enforcement_level == "mandatory"] == []
