"""Drive Pod manifests through the real policy pack at both Pod Security levels, bare and wrapped in
every pod-carrying kind, with one pack start-up for everything. Shared by the project's own
fixtures (tests/fixtures/pod-security) and the upstream corpus."""
from __future__ import annotations

import copy
from pathlib import Path

from tools.policy_engine import PolicyResource, PolicyPackSession, PolicyViolation

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "policy" / "config"
LEVELS = ("baseline", "restricted")

# kind -> apiVersion
KINDS = {
    "Pod": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "ReplicationController": "v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "PodTemplate": "v1",
}
# Server-side-apply patches carry the same pod template as their kind.
PATCH_KINDS = {f"{kind}Patch": api for kind, api in KINDS.items()}


def wrap(kind: str, pod: dict) -> dict:
    """The pod's spec (and its labels/annotations) where `kind` carries it."""
    pod = copy.deepcopy(pod)
    base = kind.removesuffix("Patch")
    api = {**KINDS, **PATCH_KINDS}[kind]
    if base == "Pod":
        return {**pod, "apiVersion": api, "kind": kind}
    meta = pod.get("metadata", {})
    template = {"metadata": {k: v for k, v in meta.items() if k in ("labels", "annotations")},
                "spec": pod["spec"]}
    body = {"apiVersion": api, "kind": kind,
            "metadata": {"name": meta["name"].replace("_", "-"), "namespace": meta.get("namespace", "fixtures")}}
    if base == "PodTemplate":
        body["template"] = template
    elif base == "CronJob":
        body["spec"] = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        body["spec"] = {"selector": {"matchLabels": {"app": "x"}}, "template": template}
    return body


def urn_of(name: str, kind: str) -> str:
    api = {**KINDS, **PATCH_KINDS}[kind]
    token = f"kubernetes:{'core/' + api if '/' not in api else api}:{kind}"
    return f"urn:pulumi:fixtures::psa::{token}::{name}"


def run_levels(pods: dict[str, dict[str, dict]], kinds: tuple[str, ...]
               ) -> dict[str, dict[tuple[str, str], list[PolicyViolation]]]:
    """{level: {name: pod}} -> {level: {(name, kind): violations}}: every pod of a level in every
    kind, checked with policy/config/<level>.json, all in one pack session."""
    out: dict[str, dict[tuple[str, str], list[PolicyViolation]]] = {}
    with PolicyPackSession() as session:
        for level, level_pods in pods.items():
            resources, keys = [], {}
            for name, pod in level_pods.items():
                for kind in kinds:
                    urn = urn_of(name, kind)
                    keys[urn] = (name, kind)
                    resources.append(PolicyResource(urn=urn, type=urn.split("::")[2], name=name,
                                                    properties=wrap(kind, pod)))
            found: dict[tuple[str, str], list[PolicyViolation]] = {key: [] for key in keys.values()}
            for violation in session.check(resources, CONFIG / f"{level}.json"):
                found[keys[violation.urn]].append(violation)
            out[level] = found
    return out
