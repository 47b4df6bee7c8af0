"""Checks shared by the controller, docker-cloud and docker-cloud-dind pool tests."""
from __future__ import annotations

import json

import kubernetes_validate
import yaml

from tests.conftest import minimal_config, synth_config

K8S_POOL = {"name": "k8s", "type": "kubernetes", "templates": [{"name": "default", "labels": ["k8s"]}]}
# The controller's objects that hold data or identity: switching pool types must leave them alone.
KEPT = ((":PersistentVolumeClaim", "jenkins-home"), (":Secret", "admin"), (":Namespace", "controller-namespace"))
SOCKET = "/var/run/docker.sock"


def synth_pools(*pools):
    synthesis = synth_config(minimal_config(pools=list(pools)))
    assert synthesis.ok, synthesis.error
    return synthesis


def casc(synthesis) -> dict:
    return yaml.safe_load(synthesis.find(":ConfigMap", "casc").inputs["data"]["jenkins.yaml"])


def plugins(synthesis) -> set[str]:
    text = synthesis.find(":ConfigMap", "casc").inputs["data"]["plugins.txt"]
    return {line.split(":")[0] for line in text.splitlines() if line}


def docker_clouds(document: dict) -> dict[str, dict]:
    return {c["docker"]["name"]: c["docker"] for c in document["jenkins"].get("clouds", []) if "docker" in c}


def controller_pod(synthesis) -> dict:
    return synthesis.find(":StatefulSet", "jenkins").inputs["spec"]["template"]


def pod_templates(synthesis) -> list[tuple[str, dict]]:
    """(kind/name, pod spec) of every workload."""
    out = []
    for manifest in synthesis.manifests(redacted=False):
        spec = manifest.get("spec", {})
        if "template" in spec and "spec" in spec["template"]:
            out.append((f"{manifest['kind']}/{manifest['metadata']['name']}", spec["template"]["spec"]))
    return out


def containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def schema_errors(synthesis, version: str) -> list[str]:
    errors = []
    for manifest in synthesis.manifests(redacted=False):
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{manifest['kind']}/{manifest['metadata']['name']}: {exc.message}")
    return errors


def privileged_containers(synthesis) -> list[str]:
    return [f"{where}:{c['name']}" for where, spec in pod_templates(synthesis) for c in containers(spec)
            if (c.get("securityContext") or {}).get("privileged")]


def host_paths(synthesis) -> list[tuple[str, dict]]:
    return [(where, v["hostPath"]) for where, spec in pod_templates(synthesis)
            for v in spec.get("volumes", []) if "hostPath" in v]


def duplicate_names(spec: dict) -> list[str]:
    """Volume names and, per container, mount paths that occur twice: the API server rejects both."""
    seen, dupes = set(), []
    for volume in spec.get("volumes", []):
        if volume["name"] in seen:
            dupes.append(f"volume {volume['name']}")
        seen.add(volume["name"])
    for container in containers(spec):
        paths = [m["mountPath"] for m in container.get("volumeMounts", [])]
        dupes += [f"{container['name']} mount {p}" for p in set(paths) if paths.count(p) > 1]
    return dupes


def secret_leaks(synthesis) -> list[str]:
    """Generated secret values found anywhere but a Secret's data: ConfigMaps, labels, annotations,
    env values, args/command, JCasC."""
    secrets = [s for s in synthesis.generated_secrets if len(s) >= 8]
    assert secrets, "the program generated no secret values: nothing to check"
    places: list[tuple[str, str]] = []
    for manifest in synthesis.manifests(redacted=False):
        where = f"{manifest['kind']}/{manifest['metadata']['name']}"
        metadata = manifest["metadata"]
        places.append((f"{where} labels", json.dumps(metadata.get("labels", {}))))
        places.append((f"{where} annotations", json.dumps(metadata.get("annotations", {}))))
        if manifest["kind"] == "ConfigMap":
            places.append((f"{where} data", json.dumps(manifest.get("data", {}))))
        spec = manifest.get("spec", {})
        template = spec.get("template", {})
        if template:
            places.append((f"{where} pod metadata", json.dumps(template.get("metadata", {}))))
            for container in containers(template.get("spec", {})):
                places.append((f"{where} {container['name']} env", json.dumps(container.get("env", []))))
                places.append((f"{where} {container['name']} args",
                               json.dumps([container.get("args", []), container.get("command", [])])))
    return [place for place, text in places for secret in secrets if secret in text]


def kept_state(synthesis) -> dict:
    """URN, options and the data-bearing part of each kept object."""
    out = {}
    for suffix, name in KEPT:
        record = synthesis.find(suffix, name)
        body = record.manifest()
        essence = {"urn": record.urn, "protect": record.protect, "retain": record.retain_on_delete,
                   "name": body["metadata"]["name"]}
        if "spec" in body:
            essence["spec"] = body["spec"]
        if body["kind"] == "Secret":
            essence["type"] = body.get("type")
            essence["keys"] = sorted(body.get("stringData", {}))
        out[name] = essence
    return out
