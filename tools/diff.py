"""python -m tools.diff BASE_REF [STACK...]: what a change does to every stack, offline.

Renders each stack (all of stacks/Pulumi.*.yaml on either side, or the ones named) twice:
at BASE_REF, checked out in a temporary `git worktree` and rendered by that commit's own
`python -m tools.synth STACK --format json`, and at the working tree the same way. Prints a
per-resource diff keyed by URN: added, removed, changed (dotted paths, old -> new; multi-line
strings such as the JCasC document as a unified diff of their lines), option changes
(protect, retainOnDelete, dependsOn, provider) and stack outputs. Secret values never appear:
tools.synth redacts them before they reach this module.

Exit status: 0 whether or not anything differs (1 with --exit-code when something does);
2 when the command cannot run (bad ref, unknown stack, the working tree fails to render).
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


def render(project_dir: Path, stack: str) -> Render:
    """`python -m tools.synth STACK --format json` run by the code in project_dir itself."""
    if not (project_dir / "stacks" / f"Pulumi.{stack}.yaml").exists():
        return Render(stack, missing=True)
    if not (project_dir / "tools" / "synth.py").exists():
        return Render(stack, error="this revision has no tools/synth.py to render it with")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the side renders with its own code only
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        done = subprocess.run([sys.executable, "-m", "tools.synth", stack, "--format", "json"],
                              cwd=project_dir, env=env, capture_output=True, text=True,
                              timeout=RENDER_TIMEOUT)
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


def render_base(repo: Path, commit: str, stacks: Optional[list[str]]) -> dict[str, Render]:
    """Render stacks at `commit` in a throwaway worktree, removed again whatever happens."""
    parent = Path(tempfile.mkdtemp(prefix="jenkins-k8s-diff-"))
    worktree = parent / "base"
    try:
        _git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        project = worktree / _git(repo, "rev-parse", "--show-prefix")  # repo may hold the project below its root
        return render_all(project, stacks or stacks_in(project))
    finally:
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

    def as_json(self) -> dict:
        out = {"path": self.path}
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
    changed: list[dict] = field(default_factory=list)  # {urn, type, name, changes: [Change]}
    outputs: list[Change] = field(default_factory=list)
    resources: int = 0  # on the working-tree side

    @property
    def differs(self) -> bool:
        return self.status != "unchanged"

    def as_json(self) -> dict:
        return {
            "stack": self.stack, "status": self.status, "error": self.error,
            "added": self.added, "removed": self.removed,
            "changed": [dict(c, changes=[x.as_json() for x in c["changes"]]) for c in self.changed],
            "outputs": [c.as_json() for c in self.outputs],
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
                out.append(Change(path, list(old_named), list(new_named)))
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
    result.removed = [_summary(old[urn]) for urn in old if urn not in new]
    result.added = [dict(_summary(new[urn]), inputs=new[urn].get("inputs")) for urn in new if urn not in old]
    for urn in new:
        if urn not in old:
            continue
        changes = [c for name in OPTION_FIELDS
                   for c in compare(_option(old[urn], name), _option(new[urn], name), name)]
        changes += compare(old[urn].get("inputs") or {}, new[urn].get("inputs") or {}, "")
        if changes:
            result.changed.append(dict(_summary(new[urn]), changes=changes))
    result.outputs = compare(base.document.get("outputs") or {}, head.document.get("outputs") or {}, "")
    if result.added or result.removed or result.changed or result.outputs:
        result.status = "changed"
    return result


def _option(resource: dict, name: str) -> Any:
    value = resource.get(name, ABSENT)
    if name == "dependsOn" and isinstance(value, list):
        return sorted(value)  # order carries no meaning
    return value


# ---------------------------------------------------------------- printing

def _value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return json.dumps(value, sort_keys=False, ensure_ascii=False)


def _change_lines(change: Change) -> list[str]:
    if change.text_diff is not None:
        if change.old is ABSENT or change.new is ABSENT:
            verb = "added" if change.old is ABSENT else "removed"
            return [f"~ {change.path}: text {verb}"] + change.text_diff
        return [f"~ {change.path}: text changed"] + change.text_diff
    if change.old is ABSENT:
        return [f"+ {change.path}: {_value(change.new)}"]
    if change.new is ABSENT:
        return [f"- {change.path}: {_value(change.old)}"]
    return [f"~ {change.path}: {_value(change.old)} → {_value(change.new)}"]


def _fence(lines: list[str], info: str = "diff") -> list[str]:
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks + info, *lines, ticks]


def _title(resource: dict) -> str:
    """`kubernetes:core/v1:PersistentVolumeClaim` jenkins/jenkins-home (namespace/name), else the logical name."""
    label = resource.get("kubernetes", "").split("/", 1)[-1] or resource["name"]
    return f"`{resource['type']}` {label}"


def render_markdown(base_ref: str, commit: str, diffs: list[StackDiff]) -> str:
    out = [f"## Offline manifest diff: `{base_ref}` ({commit[:12]}) → working tree", ""]
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
        if listing:
            out += listing + [""]
        for resource in d.changed:
            out += [f"#### changed {_title(resource)}", "", f"`{resource['urn']}`", ""]
            out += _fence([line for c in resource["changes"] for line in _change_lines(c)]) + [""]
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
    if d.outputs:
        parts.append(f"{len(d.outputs)} output changes")
    return ", ".join(parts)


def render_json(base_ref: str, commit: str, diffs: list[StackDiff]) -> str:
    return json.dumps({
        "base": {"ref": base_ref, "commit": commit},
        "differences": any(d.differs for d in diffs),
        "stacks": [d.as_json() for d in diffs],
    }, indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- command

def run(base_ref: str, stacks: Optional[list[str]] = None, project_dir: Path = ROOT) -> tuple[str, list[StackDiff]]:
    commit = resolve(project_dir, base_ref)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        base_job = pool.submit(render_base, project_dir, commit, stacks)
        head = render_all(project_dir, stacks or stacks_in(project_dir))
        base = base_job.result()
    names = sort_stacks(list(head) + list(base)) if not stacks else list(dict.fromkeys(stacks))
    missing = Render("", missing=True)
    diffs = [diff_stack(n, base.get(n, missing), head.get(n, missing)) for n in names]
    return commit, diffs


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diff", description=__doc__.splitlines()[0])
    parser.add_argument("base_ref", metavar="BASE_REF", help="git ref to compare against (branch, tag, SHA)")
    parser.add_argument("stacks", metavar="STACK", nargs="*", help="stacks to compare (default: all)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when anything differs")
    args = parser.parse_args(argv)
    try:
        commit, diffs = run(args.base_ref, args.stacks or None)
    except DiffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = render_json(args.base_ref, commit, diffs) + "\n" if args.format == "json" else \
        render_markdown(args.base_ref, commit, diffs)
    sys.stdout.write(text)
    if any(d.status == "error" for d in diffs):
        for d in diffs:
            if d.status == "error":
                print(f"error: stack {d.stack} does not render: {d.error.splitlines()[-1]}", file=sys.stderr)
        return 2
    return 1 if args.exit_code and any(d.differs for d in diffs) else 0


if __name__ == "__main__":
    sys.exit(main())
