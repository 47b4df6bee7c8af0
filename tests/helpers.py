"""Helpers shared by the test files: synthesize pools, read JCasC and pods, validate schemas, scan for leaks,
compare what must survive a change. One implementation of each; pool-specific ones stay in their test file."""
from __future__ import annotations

import yaml

from tests.conftest import minimal_config, synth_config
from tools.check import schema_problems
from tools.harness import is_secret

K8S_POOL = {"name": "k8s", "type": "kubernetes", "templates": [{"name": "default", "labels": ["k8s"]}]}
INTERNAL_URL = "http://jenkins.jenkins-test.svc.cluster.local:8080/"
# The controller's objects that hold data or identity: switching pool types must leave them alone.
KEPT = ((":PersistentVolumeClaim", "jenkins-home"), (":Secret", "admin"), (":Namespace", "controller-namespace"))
SOCKET = "/var/run/docker.sock"


# ------------------------------------------------------------------ synthesis, JCasC, the controller pod

def synth_pools(*pools):
    synthesis = synth_config(minimal_config(pools=list(pools)))
    assert synthesis.ok, synthesis.error
    return synthesis


def casc(synthesis) -> dict:
    return yaml.safe_load(synthesis.find(":ConfigMap", "casc").inputs["data"]["jenkins.yaml"])


def plugins(synthesis) -> set[str]:
    text = synthesis.find(":ConfigMap", "casc").inputs["data"]["plugins.txt"]
    return {line.split(":")[0] for line in text.splitlines() if line}


def controller_pod(synthesis) -> dict:
    return synthesis.find(":StatefulSet", "jenkins").inputs["spec"]["template"]


def docker_clouds(document: dict) -> dict[str, dict]:
    return {c["docker"]["name"]: c["docker"] for c in document["jenkins"].get("clouds", []) if "docker" in c}


# ------------------------------------------------------------------ pods

def pod_templates(synthesis) -> list[tuple[str, dict]]:
    """(kind/name, pod spec) of every workload."""
    out = []
    for manifest in synthesis.manifests(redacted=False):
        spec = manifest.get("spec", {})
        if "template" in spec and "spec" in spec["template"]:
            out.append((f"{manifest['kind']}/{manifest['metadata']['name']}", spec["template"]["spec"]))
    return out


def containers(spec: dict) -> list[dict]:
    """Init containers (native sidecars among them) first, then the containers."""
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def privileged_containers(synthesis) -> list[str]:
    return [f"{where}:{c['name']}" for where, spec in pod_templates(synthesis) for c in containers(spec)
            if (c.get("securityContext") or {}).get("privileged")]


def host_paths(synthesis) -> list[tuple[str, dict]]:
    return [(where, v["hostPath"]) for where, spec in pod_templates(synthesis)
            for v in spec.get("volumes", []) if "hostPath" in v]


def duplicate_names(spec: dict) -> list[str]:
    """Volume names and, per container, mount paths that occur twice: the API server rejects both."""
    seen, dupes = set(), []
    for volume_ in spec.get("volumes", []):
        if volume_["name"] in seen:
            dupes.append(f"volume {volume_['name']}")
        seen.add(volume_["name"])
    for container in containers(spec):
        paths = [m["mountPath"] for m in container.get("volumeMounts", [])]
        dupes += [f"{container['name']} mount {p}" for p in set(paths) if paths.count(p) > 1]
    return dupes


def has_key(value, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(has_key(v, key) for v in value.values())
    if isinstance(value, list):
        return any(has_key(v, key) for v in value)
    return False


# ------------------------------------------------------------------ schema, secrets, what must be kept

def schema_errors(synthesis, version: str) -> list[str]:
    """Every Kubernetes object against the schema of one Kubernetes version (tools.check's validation)."""
    return schema_problems(synthesis, (version,))


def unmarked(value, secrets, path: str = "") -> list[str]:
    """Paths where a secret value sits outside a secret marker: in a string value or in a mapping's key."""
    if is_secret(value):
        return []
    if isinstance(value, dict):
        keys = [f"{path}.{k}" for k in value if isinstance(k, str) and any(secret in k for secret in secrets)]
        return keys + [p for k, v in value.items() for p in unmarked(v, secrets, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in unmarked(v, secrets, f"{path}[{i}]")]
    if isinstance(value, str) and any(secret in value for secret in secrets):
        return [path]
    return []


def secret_leaks(synthesis) -> list[str]:
    """Generated secret values found anywhere but a Secret's data: labels, annotations, ConfigMap data,
    pod template metadata, container env, command and args."""
    secrets = [s for s in synthesis.generated_secrets if len(s) >= 8]
    assert secrets, "the program generated no secret values: nothing to check"
    leaks = []
    for manifest in synthesis.manifests(redacted=False):
        metadata = manifest["metadata"]
        where = f"{manifest['kind']} {metadata.get('namespace', '')}/{metadata['name']}"
        places = [("labels", metadata.get("labels", {})), ("annotations", metadata.get("annotations", {}))]
        if manifest["kind"] == "ConfigMap":
            places.append(("data", manifest.get("data", {})))
        template = (manifest.get("spec") or {}).get("template")
        if template:
            places.append(("template metadata", template.get("metadata", {})))
            for container in containers(template.get("spec", {})):
                places += [(f"{container['name']} {part}", container.get(part, []))
                           for part in ("env", "command", "args")]
        leaks += [f"{where} {place}{path}" for place, value in places for path in unmarked(value, secrets)]
    return leaks


def kept_state(synthesis, whole_manifest: bool = False) -> dict:
    """URN and options of each kept object, with the data-bearing part of its manifest (name, spec; a Secret's
    type and keys) or, with whole_manifest, its parent and entire (redacted) manifest."""
    out = {}
    for suffix, name in KEPT:
        record = synthesis.find(suffix, name)
        body = record.manifest()
        state = {"urn": record.urn, "protect": record.protect, "retain": record.retain_on_delete}
        if whole_manifest:
            state.update(parent=record.parent, manifest=body)
        else:
            state["name"] = body["metadata"]["name"]
            if "spec" in body:
                state["spec"] = body["spec"]
            if body["kind"] == "Secret":
                state["type"] = body.get("type")
                state["keys"] = sorted(body.get("stringData", {}))
        out[name] = state
    return out


# ------------------------------------------------------------------ swarm pools (swarm and swarm-dind)

SWARM_POOL = {"name": "swarm", "type": "swarm", "labels": ["linux", "swarm"], "replicas": 3,
              "executors": 4, "mode": "normal"}
SWARM_FLAGS = ("-webSocket", "-url", "-username", "-passwordFile", "-name", "-labels", "-executors", "-mode",
               "-disableClientsUniqueId", "-deleteExistingClients", "-retry", "-fsroot")
SWARM_PERMISSIONS = {"Overall/Read", "Agent/Create", "Agent/Connect", "Agent/Configure"}


def statefulset(synthesis, pool: str) -> dict:
    return synthesis.find(":StatefulSet", f"{pool}-agents").inputs


def pod_spec(synthesis, pool: str) -> dict:
    return statefulset(synthesis, pool)["spec"]["template"]["spec"]


def client_container(spec: dict) -> dict:
    return next(c for c in spec["containers"] if c["name"] == "swarm-client")


def flag_value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def mount_for(container: dict, path: str) -> dict:
    """The volumeMount that holds `path` (longest mountPath prefix wins, as in the kernel)."""
    mounts = [m for m in container["volumeMounts"]
              if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")]
    return max(mounts, key=lambda m: len(m["mountPath"]))


def volume(spec: dict, name: str) -> dict:
    return next(v for v in spec["volumes"] if v["name"] == name)


def swarm_user_entries(document: dict, user: str) -> tuple[list, list]:
    users = [u for u in document["jenkins"]["securityRealm"]["local"]["users"] if u["id"] == user]
    entries = [e["user"] for e in document["jenkins"]["authorizationStrategy"]["globalMatrix"]["entries"]
               if "user" in e and e["user"]["name"] == user]
    return users, entries


# ------------------------------------------------------------------ Docker daemons and the docker CLI

def dockerd_data_roots(spec: dict) -> list[tuple[str, str]]:
    """(container name, data root) of every dockerd in the pod: the docker:*-dind image's dockerd
    keeps its data in --data-root, /var/lib/docker unless set."""
    out = []
    for container in containers(spec):
        if container["image"].startswith("docker:") and "dind" in container["image"]:
            flags = [a.split("=", 1)[1] for a in container.get("args", []) if a.startswith("--data-root=")]
            out.append((container["name"], flags[-1] if flags else "/var/lib/docker"))
    return out
