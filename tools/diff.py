"""python -m tools.diff BASE_REF [STACK...]: what a change does to every stack, offline.

Renders each stack (all of stacks/Pulumi.*.yaml on either side, or the ones named) twice:
at BASE_REF, checked out in a temporary `git worktree` and rendered by that commit's own
`python -m tools.synth STACK --format json`, and at the working tree the same way. Prints a
per-resource diff keyed by URN (aliases resolved as the engine does): added, removed, changed
(updated or replaced), with dotted paths, old -> new (multi-line strings such as the JCasC
document as a unified diff of their lines), option changes
(protect, retainOnDelete, dependsOn, provider) and stack outputs. Secret values never appear:
tools.synth redacts them before they reach this module.

`BASE..HEAD` compares two commits instead, both rendered in throwaway worktrees.

Each changed resource is an update or a replacement, by the Kubernetes provider's own rules
(REPLACE_ON_CHANGE below). Hazards are listed first and on stderr: BLOCKED (a protected resource
must be replaced or deleted: `pulumi up` fails), CLASH (an object created under a new URN while
its old URN still holds the same Kubernetes object: `pulumi up` fails with AlreadyExists) and
DATA LOSS (a claim or namespace replaced or deleted).

Exit status: 0 whether or not anything differs (1 with --exit-code when something does);
3 when `pulumi up` would fail (BLOCKED or CLASH); 2 when the command cannot run (bad ref,
unknown stack, the head side fails to render).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
STACK_ORDER = {"dev": 0, "staging": 1, "prod": 2}
ABSENT = object()  # a path that exists on one side only
# Record fields compared besides `inputs`, by the name users know from `pulumi preview`.
OPTION_FIELDS = ("protect", "retainOnDelete", "dependsOn", "provider")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
RENDER_TIMEOUT = 300


# What pulumi-kubernetes replaces instead of patching: for each (apiVersion, kind), the paths
# whose change forces a replacement (a change at or below the path). From pulumi/pulumi-kubernetes
# 94977969d64112b04e19945818a7d5d5f38f631d (this project pins provider 4.34.2),
# provider/pkg/provider/diff.go:23-38 (metadata.name/namespace for every kind; the Secret and
# ConfigMap rules), :45-83 (groups), :85-162 (core/v1), :164-205 (apps, batch, rbac, policy),
# :207-251 (metadata, container and label-selector paths); provider.go:1558-1619 turns a change
# on one of them into a replacement.
PROVIDER_REVISION = ("pulumi/pulumi-kubernetes", "94977969d64112b04e19945818a7d5d5f38f631d")
_IDENTITY = ("metadata.name", "metadata.namespace")
_SELECTOR = ("spec.selector",)  # with matchLabels/matchExpressions below it (diff.go:243-251)
_CONTAINER = tuple(f"{prefix}.{field}" for prefix in ("spec.containers", "spec.initContainers") for field in (
    "args", "command", "env", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "ports", "readinessProbe",
    "resources", "securityContext", "stdin", "stdinOnce", "terminationMessagePath", "terminationMessagePolicy",
    "tty", "volumeDevices", "volumeMounts", "workingDir"))
_STATEFUL_SET = ("spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName",
                 "spec.volumeClaimTemplates")
_JOB = ("spec.completions", "spec.parallelism", "spec.selector", "spec.template")
_PERSISTENT_VOLUME_SOURCES = tuple(f"spec.{source}" for source in (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc", "flexVolume", "flocker",
    "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs", "photonPersistentDisk",
    "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume"))
REPLACE_ON_CHANGE: dict[tuple[str, str], tuple[str, ...]] = {
    ("v1", "PersistentVolumeClaim"): ("spec.accessModes", "spec.selector", "spec.storageClassName",
                                      "spec.volumeName"),
    ("v1", "PersistentVolume"): _PERSISTENT_VOLUME_SOURCES,
    ("v1", "Pod"): ("spec.affinity", "spec.automountServiceAccountToken", "spec.dnsConfig", "spec.dnsPolicy",
                    "spec.enableServiceLinks", "spec.hostAliases", "spec.hostIPC", "spec.hostNetwork", "spec.hostPID",
                    "spec.hostname", "spec.imagePullSecrets", "spec.nodeName", "spec.nodeSelector", "spec.overhead",
                    "spec.preemptionPolicy", "spec.priority", "spec.priorityClassName", "spec.readinessGates",
                    "spec.restartPolicy", "spec.runtimeClassName", "spec.schedulerName", "spec.securityContext",
                    "spec.serviceAccount", "spec.serviceAccountName", "spec.shareProcessNamespace",
                    "spec.subdomain", "spec.terminationGracePeriodSeconds", "spec.volumes", *_CONTAINER),
    ("v1", "ResourceQuota"): ("spec.scopes",),
    ("v1", "Service"): ("spec.clusterIP",),
    # Secrets and ConfigMaps are replaced on any data change unless the provider is configured with
    # enableSecretMutable / enableConfigMapMutable, which default to false (provider.go:696-726) and
    # which this program does not set.
    ("v1", "Secret"): ("type", "stringData", "data"),
    ("v1", "ConfigMap"): ("binaryData", "data"),
    **{(f"apps/{version}", "StatefulSet"): _STATEFUL_SET for version in ("v1", "v1beta1", "v1beta2")},
    **{(f"apps/{version}", kind): _SELECTOR for version in ("v1", "v1beta2") for kind in ("Deployment", "DaemonSet")},
    **{(f"batch/{version}", "Job"): _JOB for version in ("v1", "v1beta1", "v2alpha1")},
    ("policy/v1beta1", "PodDisruptionBudget"): ("spec",),
    **{(f"rbac.authorization.k8s.io/{version}", kind): ("roleRef",)
       for version in ("v1", "v1beta1", "v1alpha1") for kind in ("RoleBinding", "ClusterRoleBinding")},
    ("storage.k8s.io/v1", "StorageClass"): ("parameters", "provisioner"),
}
# Kinds whose replacement or deletion loses data: a claim's volume, and a namespace (deleting it
# deletes every object in it, JENKINS_HOME's claim among them).
# The API server refuses any change to an existing claim's spec but resources.requests (bound claims),
# volumeAttributesClassName and a first volumeName (kubernetes/kubernetes@a7264f95
# pkg/apis/core/validation/validation.go, ValidatePersistentVolumeClaimUpdate: "spec is immutable
# after creation except resources.requests and volumeAttributesClassName for bound claims"). The
# provider patches paths outside REPLACE_ON_CHANGE, so `pulumi up` fails on them; turning
# controller.storage.restoreFrom on for a stack whose claim exists (spec.dataSource) is the case
# that matters here.
CLAIM_SPEC_MUTABLE = ("spec.resources.requests", "spec.volumeAttributesClassName")
HOLDS_DATA = frozenset({"PersistentVolumeClaim", "PersistentVolume", "Namespace"})
# Engine facts (pulumi/pulumi 1b5949891b3cefcb9974752b24a5ecef0acc86c8, this project pins 3.272.0):
# - replacing a resource protected before and after is an error (step_generator.go:1952-1966);
# - deleting a protected resource is an error (step.go:644-649); a retainOnDelete one is left in
#   the cluster (step.go:661);
# - resources the program no longer registers are deleted after every create and update
#   (deployment_executor.go:486, GenerateDeletes), so an object created under a new URN with the
#   Kubernetes identity of one deleted under its old URN fails with AlreadyExists
#   (pulumi-kubernetes await/await.go:276-287);
# - a replacement of a named object keeping its name and namespace is delete-before-replace
#   (pulumi-kubernetes provider.go:1645-1658); otherwise the new object is created first.


class DiffError(Exception):
    """A problem the user must fix before a diff can be made; printed as one line."""


# ---------------------------------------------------------------- rendering

@dataclass
class Render:
    """One stack rendered on one side: the synth JSON, or why there is none."""

    stack: str
    document: Optional[dict] = None
    error: Optional[str] = None
    missing: bool = False  # no stacks/Pulumi.<stack>.yaml on this side


def stacks_in(project_dir: Path) -> list[str]:
    names = [p.name[len("Pulumi."):-len(".yaml")] for p in (project_dir / "stacks").glob("Pulumi.*.yaml")]
    return sort_stacks(names)


def sort_stacks(names) -> list[str]:
    return sorted(set(names), key=lambda n: (STACK_ORDER.get(n, 9), n))


def run_synth(project_dir: Path, stack: str) -> subprocess.CompletedProcess:
    """`python -m tools.synth STACK --format json` run by the code in project_dir itself."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the side renders with its own code only
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-m", "tools.synth", stack, "--format", "json"],
                          cwd=project_dir, env=env, capture_output=True, text=True, timeout=RENDER_TIMEOUT)


def render(project_dir: Path, stack: str) -> Render:
    """The stack rendered by project_dir's own tools.synth (run_synth), or why it is not."""
    if not (project_dir / "stacks" / f"Pulumi.{stack}.yaml").exists():
        return Render(stack, missing=True)
    if not (project_dir / "tools" / "synth.py").exists():
        return Render(stack, error="this revision has no tools/synth.py to render it with")
    try:
        done = run_synth(project_dir, stack)
    except subprocess.TimeoutExpired:
        return Render(stack, error=f"tools.synth did not finish within {RENDER_TIMEOUT}s")
    if done.returncode != 0:
        return Render(stack, error=_last_lines(done.stderr) or f"tools.synth exited {done.returncode}")
    try:
        return Render(stack, document=json.loads(done.stdout))
    except json.JSONDecodeError as exc:
        return Render(stack, error=f"tools.synth printed no JSON ({exc})")


def _last_lines(text: str, count: int = 6) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return "\n".join(errors[-count:] if errors else lines[-count:])


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout.strip()


def resolve(repo: Path, ref: str) -> str:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except DiffError:
        raise DiffError(f"'{ref}' is not a commit in {repo} (a branch, tag or SHA; fetch it first "
                        f"in a shallow clone)") from None


# `A..B` renders both commits at once. git names a worktree's admin directory after the
# worktree's last path component, and `worktree prune` deletes admin directories whose worktree it
# cannot see yet, so concurrent add/prune calls on one repository corrupt each other
# ("failed to read .git/worktrees/<name>/commondir"): each worktree gets a unique name, and the
# worktree commands on a repository run one at a time.
_WORKTREE_LOCK = threading.Lock()


def render_base(repo: Path, commit: str, stacks: Optional[list[str]]) -> dict[str, Render]:
    """Render stacks at `commit` in a throwaway worktree, removed again whatever happens."""
    parent = Path(tempfile.mkdtemp(prefix="jenkins-k8s-diff-"))
    worktree = parent / f"base-{parent.name}"
    try:
        with _WORKTREE_LOCK:
            _git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        project = worktree / _git(repo, "rev-parse", "--show-prefix")  # repo may hold the project below its root
        return render_all(project, stacks or stacks_in(project))
    finally:
        with _WORKTREE_LOCK:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(worktree)],
                           capture_output=True)
            shutil.rmtree(parent, ignore_errors=True)
            subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True)


def render_all(project_dir: Path, stacks: list[str]) -> dict[str, Render]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(len(stacks), os.cpu_count() or 2))) as pool:
        return dict(zip(stacks, pool.map(lambda s: render(project_dir, s), stacks)))


# ---------------------------------------------------------------- comparing

@dataclass
class Change:
    path: str
    old: Any = None
    new: Any = None
    text_diff: Optional[list[str]] = None  # unified diff lines for multi-line strings
    reordered: bool = False  # same named items (old/new: their names), new order
    replaces: bool = False  # the provider replaces the object for this change

    def as_json(self) -> dict:
        out = {"path": self.path}
        if self.reordered:
            out["reordered"] = True
        if self.replaces:
            out["replaces"] = True
        out["old"] = None if self.old is ABSENT else self.old
        out["new"] = None if self.new is ABSENT else self.new
        if self.old is ABSENT:
            out["added"] = True
        if self.new is ABSENT:
            out["removed"] = True
        if self.text_diff is not None:
            out["textDiff"] = self.text_diff
        return out


@dataclass
class StackDiff:
    stack: str
    status: str = "unchanged"  # unchanged | changed | added | removed | base-error | error
    error: Optional[str] = None
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    # {urn, type, name, action: update|replace, changes: [Change], ...}; see _classify
    changed: list[dict] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)
    hazards: list[dict] = field(default_factory=list)  # {kind: blocked|data-loss|clash, resource, message}
    aliased: list[dict] = field(default_factory=list)  # same object under a new URN, nothing else changed
    resources: int = 0  # on the working-tree side

    @property
    def differs(self) -> bool:
        return self.status != "unchanged"

    @property
    def replaced(self) -> list[dict]:
        return [c for c in self.changed if c["action"] == "replace"]

    def as_json(self) -> dict:
        return {
            "stack": self.stack, "status": self.status, "error": self.error,
            "added": self.added, "removed": self.removed,
            "changed": [dict(c, changes=[x.as_json() for x in c["changes"]]) for c in self.changed],
            "outputs": [c.as_json() for c in self.outputs],
            "hazards": self.hazards, "aliased": self.aliased,
        }


def key_segment(key: str) -> str:
    return key if _SIMPLE_KEY.match(key) else "[" + json.dumps(key) + "]"


def join(path: str, segment: str) -> str:
    if segment.startswith("["):
        return path + segment
    return f"{path}.{segment}" if path else segment


def _named_items(items: list) -> Optional[dict]:
    """Kubernetes lists of objects keyed by `name` (containers, env, volumes, ports): by name."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    names = [i["name"] for i in items]
    return dict(zip(names, items)) if len(set(names)) == len(names) else None


def compare(old: Any, new: Any, path: str = "") -> list[Change]:
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in list(old) + [k for k in new if k not in old]:
            out += compare(old.get(key, ABSENT), new.get(key, ABSENT), join(path, key_segment(key)))
        return out
    if isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _named_items(old), _named_items(new)
        if old_named is not None and new_named is not None:
            out = []
            for name in list(old_named) + [n for n in new_named if n not in old_named]:
                out += compare(old_named.get(name, ABSENT), new_named.get(name, ABSENT),
                               f"{path}[name={name}]")
            if not out:  # same items, new order
                out.append(Change(path, list(old_named), list(new_named), reordered=True))
            return out
        return _compare_lists(old, new, path)
    if _text(old) and _text(new) and any(isinstance(v, str) and "\n" in v for v in (old, new)):
        before, after = ("" if v is ABSENT else v for v in (old, new))
        lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "base", "head", lineterm="", n=3))
        return [Change(path, old, new, text_diff=lines[2:])]  # without the ---/+++ header
    return [Change(path, old, new)]


def _compare_lists(old: list, new: list, path: str) -> list[Change]:
    """Element by element: inserted and deleted items by index, items changed in place recursed into."""
    if not any(_container(v) for v in old + new) and len(old) + len(new) <= 16:
        return [Change(path, old, new)]  # short lists of scalars (args, labels) read best whole
    keys = lambda items: [json.dumps(v, sort_keys=True) for v in items]  # noqa: E731
    out: list[Change] = []
    matcher = difflib.SequenceMatcher(a=keys(old), b=keys(new), autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2)):
                out += compare(old[i], new[j], f"{path}[{j}]")
            continue
        out += [Change(f"{path}[{i}]", old[i], ABSENT) for i in range(i1, i2)]
        out += [Change(f"{path}[{j}]", ABSENT, new[j]) for j in range(j1, j2)]
    return out


def _text(value: Any) -> bool:
    return value is ABSENT or isinstance(value, str)


def _container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _summary(resource: dict) -> dict:
    inputs = resource.get("inputs") or {}
    out = {"urn": resource["urn"], "type": resource["type"], "name": resource["name"]}
    if "kind" in inputs:
        metadata = inputs.get("metadata") or {}
        out["kubernetes"] = "/".join(str(x) for x in (inputs["kind"], metadata.get("namespace"), metadata.get("name"))
                                     if x)
    return out


def kubernetes_identity(resource: dict) -> Optional[tuple]:
    """(API group, kind, namespace, name): one object in the cluster, whatever its API version."""
    inputs = resource.get("inputs") or {}
    metadata = inputs.get("metadata") or {}
    if "kind" not in inputs or not metadata.get("name"):
        return None
    group = inputs.get("apiVersion", "").rpartition("/")[0]
    return (group, inputs["kind"], metadata.get("namespace") or "", metadata["name"])


_PATH_PART = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[("(?:[^"\\]|\\.)*")\]|\[name=[^\]]*\]|\[\d+\]')


def path_keys(path: str) -> tuple[str, ...]:
    """'spec.template.spec.containers[name=a].image' -> ('spec', 'template', 'spec', 'containers', 'image'):
    mapping keys only; list positions match any item, as the provider's [*] does."""
    keys = []
    for match in _PATH_PART.finditer(path):
        if match.group(1):
            keys.append(match.group(1))
        elif match.group(2):
            keys.append(json.loads(match.group(2)))
    return tuple(keys)


def _holds(value: Any, keys: tuple[str, ...]) -> bool:
    if not keys:
        return value is not ABSENT
    if isinstance(value, list):
        return any(_holds(item, keys) for item in value)
    return isinstance(value, dict) and keys[0] in value and _holds(value[keys[0]], keys[1:])


def replacing(resource: dict, change: Change) -> bool:
    """Whether the provider replaces `resource` for this change (REPLACE_ON_CHANGE)."""
    inputs = resource.get("inputs") or {}
    paths = _IDENTITY + REPLACE_ON_CHANGE.get((inputs.get("apiVersion"), inputs.get("kind")), ())
    keys = path_keys(change.path)
    for path in paths:
        wanted = tuple(path.split("."))
        if keys[:len(wanted)] == wanted:
            return True
        rest = wanted[len(keys):]
        if wanted[:len(keys)] == keys and (_holds(change.old, rest) or _holds(change.new, rest)):
            return True  # a whole subtree added or removed with a replacing path inside
    return False


def _qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def _make_urn(like: str, parent: str, type_: str, name: str) -> str:
    head = like.split("::")[:2]  # urn:pulumi:<stack>, <project>
    parent_type = _qualified_type(parent) if parent else ""
    if parent_type and parent_type != "pulumi:pulumi:Stack":
        type_ = f"{parent_type}${type_}"
    return "::".join([*head, type_, name])


def match_aliases(old: dict[str, dict], new: dict[str, dict]) -> dict[str, str]:
    """New URN -> the old URN it takes over, as the engine resolves aliases: the URN itself first,
    then the resource's own aliases, then those inherited from an aliased parent (pulumi/pulumi
    1b594989, pkg/resource/deploy/step_generator.go:545-653 and :676-712)."""
    matched: dict[str, str] = {}
    via_alias: dict[str, str] = {}  # new URN -> old URN, for resources matched through an alias
    for urn in sorted(new, key=lambda u: _qualified_type(u).count("$")):  # parents before children
        resource = new[urn]
        parent, type_, name = resource.get("parent") or "", resource["type"], resource["name"]
        candidates = [urn]
        own = [_make_urn(urn, parent, spec.get("type") or type_, spec.get("name") or name)
               if "urn" not in spec else spec["urn"] for spec in resource.get("aliases") or []]
        candidates += own
        if parent in via_alias:
            parent_alias = via_alias[parent]
            parent_name = parent.rsplit("::", 1)[-1]
            for alias_urn in [urn, *own]:
                child_name = alias_urn.rsplit("::", 1)[-1]
                if child_name.startswith(parent_name):
                    child_name = parent_alias.rsplit("::", 1)[-1] + child_name[len(parent_name):]
                child_type = _qualified_type(alias_urn).rsplit("$", 1)[-1]
                candidates.append("::".join([*urn.split("::")[:2], f"{_qualified_type(parent_alias)}${child_type}",
                                             child_name]))
        for candidate in candidates:
            if candidate in old and candidate not in matched.values():
                matched[urn] = candidate
                if candidate != urn:
                    via_alias[urn] = candidate
                break
    return matched


def _classify(old: dict, new: dict, changes: list[Change]) -> dict:
    """What `pulumi up` does with a resource present at both sides, and what that costs."""
    for change in changes:
        change.replaces = path_keys(change.path)[:1] not in [(name,) for name in OPTION_FIELDS] \
            and replacing(new, change)
    because = [c.path for c in changes if c.replaces]
    out = dict(_summary(new), action="replace" if because else "update", changes=changes)
    if old["urn"] != new["urn"]:
        out["aliasOf"] = old["urn"]
    if because:
        same_object = kubernetes_identity(old) == kubernetes_identity(new) is not None
        out["replaceBecause"] = because
        out["deleteBeforeReplace"] = same_object
    return out


def _hazards(base: dict[str, dict], head: dict[str, dict], removed: list[str], added: list[str],
             changed: list[dict], matched: dict[str, str]) -> list[dict]:
    out = []
    for entry in changed:
        if entry["action"] == "update" and (entry.get("kind") or (head[entry["urn"]].get("inputs") or {}).get(
                "kind")) == "PersistentVolumeClaim":
            refused = [c.path for c in entry["changes"] if c.path.startswith("spec.")
                       and not c.path.startswith(CLAIM_SPEC_MUTABLE)]
            if refused:
                out.append({"kind": "blocked", "resource": _summary(head[entry["urn"]]), "message":
                            f"changes {', '.join(refused)}, which the API server refuses on an existing claim: "
                            "`pulumi up` fails; a claim restored from a snapshot needs a new stack or namespace"})
        if entry["action"] != "replace":
            continue
        old, new = base[matched[entry["urn"]]], head[entry["urn"]]
        kind = (new.get("inputs") or {}).get("kind")
        why = ", ".join(entry["replaceBecause"])
        if old.get("protect") and new.get("protect"):
            loses = " and replacing it would delete its data" if kind in HOLDS_DATA else ""
            out.append({"kind": "blocked", "resource": _summary(new), "message":
                        f"must be replaced ({why}) but is protected: `pulumi up` fails{loses}; "
                        f"keep the old value"})
        elif kind in HOLDS_DATA:
            out.append({"kind": "data-loss", "resource": _summary(new), "message":
                        f"is replaced ({why}): its data is deleted and it comes back empty"})
    for urn in removed:
        old = base[urn]
        kind = (old.get("inputs") or {}).get("kind")
        if old.get("protect"):
            out.append({"kind": "blocked", "resource": _summary(old), "message":
                        "is removed but protected: `pulumi up` fails to delete it; unprotect it first"})
        elif kind in HOLDS_DATA and not old.get("retainOnDelete"):
            out.append({"kind": "data-loss", "resource": _summary(old), "message":
                        "is removed: its data is deleted"})
    # Objects created (under a URN the base does not have, or replaced under a new name) before
    # the objects deleted at the end of the update: the same Kubernetes object on both lists clashes.
    created = {kubernetes_identity(head[urn]): head[urn] for urn in added}
    deleted = {kubernetes_identity(base[urn]): base[urn] for urn in removed}
    for entry in changed:
        if entry["action"] == "replace" and not entry["deleteBeforeReplace"]:
            created[kubernetes_identity(head[entry["urn"]])] = head[entry["urn"]]
            deleted[kubernetes_identity(base[matched[entry["urn"]]])] = base[matched[entry["urn"]]]
    for identity in sorted(set(created) & set(deleted) - {None}):
        new, old = created[identity], deleted[identity]
        out.append({"kind": "clash", "resource": _summary(new), "oldUrn": old["urn"], "message":
                    f"is created under `{new['urn']}` while `{old['urn']}` still holds the same "
                    f"Kubernetes object (deleted only at the end): `pulumi up` fails with AlreadyExists; "
                    f"keep its logical name and parent, or add an alias to the old URN"})
    return out


def diff_stack(stack: str, base: Render, head: Render) -> StackDiff:
    result = StackDiff(stack)
    if head.missing and base.missing:
        raise DiffError(f"no stack '{stack}' at either side (stacks/Pulumi.{stack}.yaml)")
    if head.error:
        result.status, result.error = "error", head.error
        return result
    if head.missing:
        result.status = "removed"
        result.removed = [_summary(r) for r in base.document["resources"]] if base.document else []
        return result
    result.resources = len(head.document["resources"])
    if base.missing:
        result.status = "added"
        result.added = [_summary(r) for r in head.document["resources"]]
        return result
    if base.error:
        result.status, result.error = "base-error", base.error
        return result

    old = {r["urn"]: r for r in base.document["resources"]}
    new = {r["urn"]: r for r in head.document["resources"]}
    matched = match_aliases(old, new)
    removed = [urn for urn in old if urn not in matched.values()]
    added = [urn for urn in new if urn not in matched]
    result.removed = [_summary(old[urn]) for urn in removed]
    result.added = [dict(_summary(new[urn]), inputs=new[urn].get("inputs")) for urn in added]
    renamed = {old_urn: urn for urn, old_urn in matched.items()}  # the engine rewrites references too
    for urn, old_urn in matched.items():
        changes = [c for name in OPTION_FIELDS
                   for c in compare(_option(old[old_urn], name, renamed), _option(new[urn], name), name)]
        changes += compare(old[old_urn].get("inputs") or {}, new[urn].get("inputs") or {}, "")
        if changes:
            result.changed.append(_classify(old[old_urn], new[urn], changes))
        elif old_urn != urn:
            result.aliased.append(dict(_summary(new[urn]), aliasOf=old_urn))
    result.changed.sort(key=lambda c: c["urn"])
    result.hazards = _hazards(old, new, removed, added, result.changed, matched)
    result.outputs = compare(base.document.get("outputs") or {}, head.document.get("outputs") or {}, "")
    if result.added or result.removed or result.changed or result.aliased or result.outputs:
        result.status = "changed"
    return result


def _option(resource: dict, name: str, renamed: Optional[dict[str, str]] = None) -> Any:
    value = resource.get(name, ABSENT)
    if name == "dependsOn" and isinstance(value, list):
        return sorted((renamed or {}).get(urn, urn) for urn in value)  # order carries no meaning
    return value


# ---------------------------------------------------------------- printing

def _value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return json.dumps(value, sort_keys=False, ensure_ascii=False)


REPLACES_MARK = "  (forces replacement)"


def _change_lines(change: Change) -> list[str]:
    mark = REPLACES_MARK if change.replaces else ""
    if change.text_diff is not None:
        if change.old is ABSENT or change.new is ABSENT:
            verb = "added" if change.old is ABSENT else "removed"
            return [f"~ {change.path}: text {verb}{mark}"] + change.text_diff
        return [f"~ {change.path}: text changed{mark}"] + change.text_diff
    if change.reordered:
        return [f"~ {change.path}: reordered {_value(change.old)} → {_value(change.new)}{mark}"]
    if change.old is ABSENT:
        return [f"+ {change.path}: {_value(change.new)}{mark}"]
    if change.new is ABSENT:
        return [f"- {change.path}: {_value(change.old)}{mark}"]
    return [f"~ {change.path}: {_value(change.old)} → {_value(change.new)}{mark}"]


def _heading(resource: dict) -> str:
    if resource["action"] == "update":
        verb = "changed"
    elif resource["deleteBeforeReplace"]:
        verb = "replaced (deleted, then created again)"
    else:
        verb = "replaced (new object created, then the old one deleted)"
    return f"#### {verb} {_title(resource)}"


def _notes(resource: dict) -> list[str]:
    notes = []
    if "aliasOf" in resource:
        notes.append(f"takes over `{resource['aliasOf']}` through an alias")
    workload = resource.get("kubernetes", "").split("/")[0] in ("StatefulSet", "Deployment", "DaemonSet")
    if resource["action"] == "update" and workload and any(
            path_keys(c.path)[:2] == ("spec", "template") for c in resource["changes"]):
        notes.append("its pod template changes: the pods restart")
    return notes


HAZARD_LABELS = {"blocked": "BLOCKED", "data-loss": "DATA LOSS", "clash": "CLASH"}


def hazard_line(hazard: dict) -> str:
    return f"{HAZARD_LABELS[hazard['kind']]}: {_title(hazard['resource'])} {hazard['message']}"


def _fence(lines: list[str], info: str = "diff") -> list[str]:
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks + info, *lines, ticks]


def _title(resource: dict) -> str:
    """`kubernetes:core/v1:PersistentVolumeClaim` jenkins/jenkins-home (namespace/name), else the logical name."""
    label = resource.get("kubernetes", "").split("/", 1)[-1] or resource["name"]
    return f"`{resource['type']}` {label}"


def render_markdown(base_ref: str, commit: str, diffs: list[StackDiff],
                    head: Optional[tuple[str, str]] = None) -> str:
    target = f"`{head[0]}` ({head[1][:12]})" if head else "working tree"
    out = [f"## Offline manifest diff: `{base_ref}` ({commit[:12]}) → {target}", ""]
    if not any(d.differs for d in diffs):
        out += [f"No differences in {', '.join(d.stack for d in diffs) or 'any stack'}.", ""]
    for d in diffs:
        out.append(f"### Stack `{d.stack}`: {_headline(d)}")
        out.append("")
        if d.error:
            side = "the base revision" if d.status == "base-error" else "the working tree"
            out += [f"**Could not render {side}**:", "", *_fence(d.error.splitlines(), "text"), ""]
            continue
        listing = [line for resource in d.removed for line in (f"- **removed** {_title(resource)}",
                                                              f"  `{resource['urn']}`")]
        listing += [line for resource in d.added for line in (f"- **added** {_title(resource)}",
                                                             f"  `{resource['urn']}`")]
        if d.status in ("added", "removed"):  # a whole stack: fold the long list away
            listing = ["<details><summary>resources</summary>", "", *listing, "", "</details>"]
        if d.hazards:
            out += [f"- **{hazard_line(h).replace(': ', ':** ', 1)}" for h in d.hazards] + [""]
        listing += [f"- **moved by alias** {_title(r)}: `{r['aliasOf']}` → `{r['urn']}`" for r in d.aliased]
        if listing:
            out += listing + [""]
        for resource in d.changed:
            out += [_heading(resource), "", f"`{resource['urn']}`", ""]
            out += [f"_{note}_" for note in _notes(resource)] + ([""] if _notes(resource) else [])
            lines = [line for c in resource["changes"] for line in _change_lines(c)]
            if lines:
                out += _fence(lines) + [""]
        if d.outputs:
            out += ["#### stack outputs", ""]
            out += _fence([line for c in d.outputs for line in _change_lines(c)]) + [""]
    return "\n".join(out).rstrip() + "\n"


def _headline(d: StackDiff) -> str:
    if d.status == "unchanged":
        return "no differences"
    if d.status == "added":
        return f"added stack (not at base), {len(d.added)} resources"
    if d.status == "removed":
        return f"removed stack (gone from the working tree), {len(d.removed)} resources at base"
    if d.status == "base-error":
        return "base revision failed to render"
    if d.status == "error":
        return "working tree failed to render"
    parts = [f"{len(d.added)} added", f"{len(d.removed)} removed", f"{len(d.changed)} changed"]
    if d.replaced:
        parts[-1] += f" ({len(d.replaced)} replaced)"
    if d.aliased:
        parts.append(f"{len(d.aliased)} moved by alias")
    for kind, label in HAZARD_LABELS.items():
        if count := sum(h["kind"] == kind for h in d.hazards):
            parts.append(f"{count} {label}")
    if d.outputs:
        parts.append(f"{len(d.outputs)} output changes")
    return ", ".join(parts)


def render_json(base_ref: str, commit: str, diffs: list[StackDiff], head: Optional[tuple[str, str]] = None) -> str:
    return json.dumps({
        "base": {"ref": base_ref, "commit": commit},
        "head": {"ref": head[0], "commit": head[1]} if head else {"ref": None, "commit": None},
        "differences": any(d.differs for d in diffs),
        "stacks": [d.as_json() for d in diffs],
    }, indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- command

def split_range(spec: str) -> tuple[str, Optional[str]]:
    """'BASE..HEAD' -> (BASE, HEAD); 'BASE' -> (BASE, None): the working tree."""
    base, dots, head = spec.partition("..")
    if dots and (not base or not head or head.startswith(".")):
        raise DiffError(f"'{spec}': write BASE..HEAD with both refs (or BASE alone for the working tree)")
    return (base, head) if dots else (spec, None)


def run(base_ref: str, stacks: Optional[list[str]] = None, project_dir: Path = ROOT,
        head_ref: Optional[str] = None) -> tuple[str, list[StackDiff], Optional[str]]:
    """Diff `base_ref` against `head_ref` (both rendered in throwaway worktrees) or the working tree."""
    commit = resolve(project_dir, base_ref)
    head_commit = resolve(project_dir, head_ref) if head_ref else None
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        base_job = pool.submit(render_base, project_dir, commit, stacks)
        head = (render_base(project_dir, head_commit, stacks) if head_commit
                else render_all(project_dir, stacks or stacks_in(project_dir)))
        base = base_job.result()
    names = sort_stacks(list(head) + list(base)) if not stacks else list(dict.fromkeys(stacks))
    missing = Render("", missing=True)
    try:
        diffs = [diff_stack(n, base.get(n, missing), head.get(n, missing)) for n in names]
    except DiffError as exc:
        looks_like_ref = [n for n in names if base.get(n, missing).missing and head.get(n, missing).missing
                          and _is_commit(project_dir, n)]
        if looks_like_ref and not head_ref:
            raise DiffError(f"{exc}; to compare two commits write {base_ref}..{looks_like_ref[0]}") from None
        raise
    return commit, diffs, head_commit


def _is_commit(repo: Path, ref: str) -> bool:
    try:
        resolve(repo, ref)
        return True
    except DiffError:
        return False


# `pulumi up` would stop on these; data loss may be intended, so it is reported but not fatal.
FATAL_HAZARDS = ("blocked", "clash")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diff", description=__doc__.splitlines()[0])
    parser.add_argument("base_ref", metavar="BASE_REF",
                        help="git ref to compare the working tree against, or BASE..HEAD for two commits")
    parser.add_argument("stacks", metavar="STACK", nargs="*", help="stacks to compare (default: all)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when anything differs")
    args = parser.parse_args(argv)
    try:
        base_ref, head_ref = split_range(args.base_ref)
        commit, diffs, head_commit = run(base_ref, args.stacks or None, head_ref=head_ref)
    except DiffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    head = (head_ref, head_commit) if head_ref else None
    text = render_json(base_ref, commit, diffs, head) + "\n" if args.format == "json" else \
        render_markdown(base_ref, commit, diffs, head)
    sys.stdout.write(text)
    if any(d.status == "error" for d in diffs):
        for d in diffs:
            if d.status == "error":
                print(f"error: stack {d.stack} does not render: {d.error.splitlines()[-1]}", file=sys.stderr)
        return 2
    for d in diffs:
        for hazard in d.hazards:
            print(f"{'error' if hazard['kind'] in FATAL_HAZARDS else 'warning'}: stack {d.stack}: "
                  f"{hazard_line(hazard)}", file=sys.stderr)
    if any(h["kind"] in FATAL_HAZARDS for d in diffs for h in d.hazards):
        return 3
    return 1 if args.exit_code and any(d.differs for d in diffs) else 0


if __name__ == "__main__":
    sys.exit(main())
