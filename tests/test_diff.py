"""tools.diff: the offline manifest diff between a git ref and the working tree."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tools import diff
from tools.diff import ABSENT, Render, compare, diff_stack, render_markdown

NEW_SIZE = "321Gi"
GIT_ENV = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                          cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True)
    return done.stdout


def run_diff(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "tools.diff", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict:
    """A copy of the project in a fresh git repository, then a commit that resizes one stack's volume."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    files = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    target = tmp_path_factory.mktemp("diff-repo")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "--quiet")
    git(target, "add", "--all")
    git(target, "commit", "--quiet", "--message", "base")

    stacks = diff.stacks_in(target)
    stack = "prod" if "prod" in stacks else stacks[0]
    path = target / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    storage = document["config"].setdefault("jenkins:controller", {}).setdefault("storage", {})
    old_size = storage.get("size")
    assert old_size != NEW_SIZE
    storage["size"] = NEW_SIZE
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    git(target, "commit", "--quiet", "--all", "--message", "resize the controller volume")
    return {"path": target, "stack": stack, "stacks": stacks, "old_size": old_size}


def test_a_storage_size_change_shows_as_the_pvc_alone(repo):
    done = run_diff(repo["path"], "HEAD~1", repo["stack"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("#### changed") == 1, out
    assert "`kubernetes:core/v1:PersistentVolumeClaim`" in out
    assert f'~ spec.resources.requests.storage: {json.dumps(repo["old_size"])} → "{NEW_SIZE}"' in out
    assert "**added**" not in out and "**removed**" not in out and "stack outputs" not in out
    assert f"### Stack `{repo['stack']}`: 0 added, 0 removed, 1 changed" in out


def test_json_names_the_one_change_and_an_untouched_stack_reports_none(repo):
    others = [s for s in repo["stacks"] if s != repo["stack"]]
    done = run_diff(repo["path"], "HEAD~1", repo["stack"], *others[:1], "--format", "json", "--exit-code")
    assert done.returncode == 1, done.stderr  # --exit-code: there are differences
    report = json.loads(done.stdout)
    assert report["differences"] is True
    by_stack = {s["stack"]: s for s in report["stacks"]}
    assert list(by_stack) == [repo["stack"], *others[:1]]
    changed = by_stack.pop(repo["stack"])
    assert changed["status"] == "changed"
    assert changed["added"] == [] and changed["removed"] == [] and changed["outputs"] == []
    [resource] = changed["changed"]
    assert resource["type"] == "kubernetes:core/v1:PersistentVolumeClaim"
    assert resource["changes"] == [{"path": "spec.resources.requests.storage",
                                    "old": repo["old_size"], "new": NEW_SIZE}]
    for other in by_stack.values():  # a stack the commit left alone
        assert other["status"] == "unchanged", other
        assert other["added"] == other["removed"] == other["changed"] == other["outputs"] == []
    worktrees = git(repo["path"], "worktree", "list", "--porcelain")
    assert worktrees.count("worktree ") == 1, worktrees  # the base worktree is gone again


def test_a_bad_ref_or_unknown_stack_is_one_line_and_exit_2(repo):
    done = run_diff(repo["path"], "no-such-ref")
    assert done.returncode == 2 and done.stderr.startswith("error: 'no-such-ref' is not a commit")
    done = run_diff(repo["path"], "HEAD", "no-such-stack")
    assert done.returncode == 2 and "no stack 'no-such-stack'" in done.stderr


# ---------------------------------------------------------------- pure parts

def _doc(*resources, outputs=None) -> dict:
    return {"resources": list(resources), "outputs": outputs or {}}


def _resource(urn: str, inputs: dict, **options) -> dict:
    return {"urn": urn, "type": "kubernetes:core/v1:ConfigMap", "name": urn.rsplit("::", 1)[-1],
            "protect": False, "retainOnDelete": False, "dependsOn": [], "provider": "p", "inputs": inputs,
            **options}


def test_lists_of_named_objects_compare_by_name():
    old = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    new = {"env": [{"name": "Z", "value": "0"}, {"name": "A", "value": "1"}, {"name": "B", "value": "3"}]}
    changes = {c.path: (c.old, c.new) for c in compare(old, new)}
    assert changes == {"env[name=B].value": ("2", "3"), "env[name=Z]": (ABSENT, {"name": "Z", "value": "0"})}


def test_keys_that_are_not_identifiers_are_quoted():
    [change] = compare({"labels": {"app.kubernetes.io/name": "a"}}, {"labels": {"app.kubernetes.io/name": "b"}})
    assert change.path == 'labels["app.kubernetes.io/name"]'


def test_multi_line_strings_become_a_unified_diff():
    old = {"data": {"jenkins.yaml": "jenkins:\n  numExecutors: 0\n  mode: EXCLUSIVE\n"}}
    new = {"data": {"jenkins.yaml": "jenkins:\n  numExecutors: 2\n  mode: EXCLUSIVE\n"}}
    [change] = compare(old, new)
    assert change.path == 'data["jenkins.yaml"]'
    assert "-  numExecutors: 0" in change.text_diff and "+  numExecutors: 2" in change.text_diff
    assert " jenkins:" in change.text_diff


def test_protect_and_retain_on_delete_changes_are_reported():
    urn = "urn:pulumi:s::p::kubernetes:core/v1:PersistentVolumeClaim::home"
    base = Render("s", document=_doc(_resource(urn, {"a": 1})))
    head = Render("s", document=_doc(_resource(urn, {"a": 1}, protect=True, retainOnDelete=True)))
    result = diff_stack("s", base, head)
    [resource] = result.changed
    assert [(c.path, c.old, c.new) for c in resource["changes"]] == [("protect", False, True),
                                                                     ("retainOnDelete", False, True)]
    assert "~ protect: false → true" in render_markdown("HEAD", "0" * 40, [result])


def test_added_removed_and_failed_stacks():
    doc = _doc(_resource("urn:pulumi:s::p::t::a", {}))
    assert diff_stack("s", Render("s", missing=True), Render("s", document=doc)).status == "added"
    assert diff_stack("s", Render("s", document=doc), Render("s", missing=True)).status == "removed"
    failed = diff_stack("s", Render("s", error="error: jenkins:pools[0].name: bad"), Render("s", document=doc))
    assert failed.status == "base-error"
    text = render_markdown("HEAD~1", "0" * 40, [failed])
    assert "Could not render the base revision" in text and "jenkins:pools[0].name: bad" in text


def test_an_unchanged_stack_says_so():
    doc = _doc(_resource("urn:pulumi:s::p::t::a", {"x": 1}))
    result = diff_stack("s", Render("s", document=doc), Render("s", document=doc))
    assert result.status == "unchanged" and not result.differs
    text = render_markdown("HEAD", "0" * 40, [result])
    assert "### Stack `s`: no differences" in text and "No differences in s." in text


def test_redacted_values_stay_redacted():
    urn = "urn:pulumi:s::p::kubernetes:core/v1:Secret::admin"
    base = Render("s", document=_doc(_resource(urn, {"stringData": {"password": "[secret]"}, "x": 1})))
    head = Render("s", document=_doc(_resource(urn, {"stringData": {"password": "[secret]"}, "x": 2})))
    text = render_markdown("HEAD", "0" * 40, [diff_stack("s", base, head)])
    assert "password" not in text and "~ x: 1 → 2" in text


def test_lists_without_names_report_inserted_and_deleted_items_by_index():
    mounts = [{"mountPath": f"/m{i}", "readOnly": True} for i in range(3)]
    changes = [(c.path, c.old, c.new) for c in compare({"m": mounts}, {"m": mounts[:1] + mounts[2:]})]
    assert changes == [("m[1]", mounts[1], ABSENT)]
    [change] = compare({"args": ["-a", "-b"]}, {"args": ["-a", "-c"]})  # short scalar lists: whole
    assert (change.path, change.old, change.new) == ("args", ["-a", "-b"], ["-a", "-c"])
