"""Drive Pod manifests through the real policy pack at both Pod Security levels, bare and wrapped in
every pod-carrying kind, all in one pack session. Shared by the project's own fixtures
(tests/fixtures/pod-security) and the upstream corpus."""
from __future__ import annotations

import copy
import json
import tempfile
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


def _resources(pods: dict[str, dict], kinds: tuple[str, ...]
               ) -> tuple[list[PolicyResource], dict[str, tuple[str, str]]]:
    resources, keys = [], {}
    for name, pod in pods.items():
        for kind in kinds:
            urn = urn_of(name, kind)
            keys[urn] = (name, kind)
            resources.append(PolicyResource(urn=urn, type=urn.split("::")[2], name=name,
                                            properties=wrap(kind, pod)))
    return resources, keys


def _check(session: PolicyPackSession, pods: dict[str, dict], kinds: tuple[str, ...],
           config: Path) -> dict[tuple[str, str], list[PolicyViolation]]:
    resources, keys = _resources(pods, kinds)
    found: dict[tuple[str, str], list[PolicyViolation]] = {key: [] for key in keys.values()}
    for violation in session.check(resources, config):
        found[keys[violation.urn]].append(violation)
    return found


def run_levels(session: PolicyPackSession, pods: dict[str, dict[str, dict]], kinds: tuple[str, ...]
               ) -> dict[str, dict[tuple[str, str], list[PolicyViolation]]]:
    """{level: {name: pod}} -> {level: {(name, kind): violations}}: every pod of a level in every
    kind, checked with policy/config/<level>.json."""
    return {level: _check(session, level_pods, kinds, CONFIG / f"{level}.json")
            for level, level_pods in pods.items()}


def run_every_level(session: PolicyPackSession, pods: dict[str, dict], kinds: tuple[str, ...],
                    own_config_kinds: tuple[str, ...] = ("Pod",)
                    ) -> dict[str, dict[tuple[str, str], list[PolicyViolation]]]:
    """{name: pod} -> {level: {(name, kind): violations}}: every pod at every level in every kind.

    The `own_config_kinds` go through policy/config/<level>.json once per level. The other kinds go
    through the pack once, with one config that turns on every policy of either level exactly as
    that level's file has it, and each level keeps the violations of its own policies. That is the
    same verdict: the pack runs each enabled policy on its own, with its own level and options, and
    a violation names its policy (pulumi-policy v1.21.0 sdk/python/lib/pulumi_policy/policy.py:
    971-1029, Analyze). Both halves are held to the same expected verdicts, so a level whose file
    turned on other policies than the ones kept for it would fail in one half."""
    out: dict[str, dict[tuple[str, str], list[PolicyViolation]]] = {level: {} for level in LEVELS}
    wrapped = tuple(kind for kind in kinds if kind not in own_config_kinds)
    own = tuple(kind for kind in kinds if kind in own_config_kinds)
    with tempfile.TemporaryDirectory(prefix="pod-security-") as tmp:
        union: dict = {"all": "disabled"}
        policies: dict[str, set[str]] = {}
        for level in LEVELS:
            config = session.configure(CONFIG / f"{level}.json")
            policies[level] = {name for name, entry in config.items() if entry.level != "disabled"}
            for name in policies[level]:
                entry = {"enforcementLevel": config[name].level, **(config[name].properties or {})}
                if union.setdefault(name, entry) != entry:
                    raise AssertionError(f"{name} is configured differently at the two levels: "
                                         f"{union[name]} and {entry}; check each level on its own")
            if own:
                out[level].update(_check(session, pods, own, CONFIG / f"{level}.json"))
        if wrapped:
            union_path = Path(tmp) / "every-level.json"
            union_path.write_text(json.dumps(union))
            for key, found in _check(session, pods, wrapped, union_path).items():
                for level in LEVELS:
                    out[level][key] = [v for v in found if v.policy_name in policies[level]]
    return out
