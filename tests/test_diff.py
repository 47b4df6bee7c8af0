"""tools.diff: the offline manifest diff between a git ref and the working tree."""
from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tools import diff, synth
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


def _project_repo(target: Path) -> Path:
    """A copy of the project's files in a fresh git repository, committed once."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    files = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "--quiet")
    git(target, "add", "--all")
    git(target, "commit", "--quiet", "--message", "base")
    return target


SWARM_DIND = {"name": "build", "type": "swarm-dind", "labels": ["docker"], "dockerStorage": "20Gi"}
SWARM = {"name": "build", "type": "swarm", "labels": ["docker"]}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict:
    """A copy of the project in a fresh git repository; on `main` (checked out) a commit that
    resizes one stack's volume; on branch `qa`, from the copy, commits tagged `qa-base` (a
    protected JENKINS_HOME, a swarm-dind pool), `qa-storage-class` (the claim gets a storage
    class) and `qa-switch` (the pool becomes a swarm pool, same name)."""
    target = _project_repo(tmp_path_factory.mktemp("diff-repo"))

    git(target, "checkout", "--quiet", "-b", "qa")
    config = {"jenkins:environment": "qa", "jenkins:namespace": "jenkins-qa",
              "jenkins:controller": {"storage": {"size": "30Gi", "protect": True}}, "jenkins:pools": [SWARM_DIND]}
    qa = target / "stacks" / "Pulumi.qa.yaml"
    for tag, change in (("qa-base", {}),
                        ("qa-storage-class", {"jenkins:controller": {"storage": {
                            "size": "30Gi", "protect": True, "storageClassName": "fast-ssd"}}}),
                        ("qa-switch", {"jenkins:pools": [SWARM]})):
        config.update(change)
        qa.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        git(target, "add", "--all")
        git(target, "commit", "--quiet", "--message", tag)
        git(target, "tag", tag)
    git(target, "checkout", "--quiet", "main")

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


@pytest.fixture
def diff_main(repo, monkeypatch, capsys):
    """`python -m tools.diff ARGS` in the test repository, as main() in this process: exit status
    and what it printed. Each side still renders in its own git worktree (or the repository's
    working tree), by tools.synth's main() here: the sides' code is this checkout's, copied, so it
    renders alike; renders take turns, as the harness runs one program at a time.
    test_a_stack_only_at_one_side_is_rendered_by_a_real_tools_synth_process goes through real
    processes end to end."""
    lock = threading.Lock()

    def run_synth(project_dir: Path, stack: str) -> subprocess.CompletedProcess:
        out, err = io.StringIO(), io.StringIO()
        stack_file = project_dir / "stacks" / f"Pulumi.{stack}.yaml"
        with lock, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = synth.main([stack, "--format", "json", "--stack-file", str(stack_file)])
        return subprocess.CompletedProcess(["tools.synth", stack], status, out.getvalue(), err.getvalue())

    monkeypatch.setattr(diff, "run_synth", run_synth)
    monkeypatch.setattr(diff, "run", functools.partial(diff.run, project_dir=repo["path"]))

    def main(*args: str) -> subprocess.CompletedProcess:
        status = diff.main(list(args))
        printed = capsys.readouterr()
        return subprocess.CompletedProcess(["tools.diff", *args], status, printed.out, printed.err)
    return main


def test_a_storage_size_change_shows_as_the_pvc_alone(repo, diff_main):
    done = diff_main("HEAD~1", repo["stack"])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("#### changed") == 1, out
    assert "`kubernetes:core/v1:PersistentVolumeClaim`" in out
    assert f'~ spec.resources.requests.storage: {json.dumps(repo["old_size"])} → "{NEW_SIZE}"' in out
    assert "**added**" not in out and "**removed**" not in out and "stack outputs" not in out
    assert f"### Stack `{repo['stack']}`: 0 added, 0 removed, 1 changed" in out


def test_json_names_the_one_change_and_an_untouched_stack_reports_none(repo, diff_main):
    others = [s for s in repo["stacks"] if s != repo["stack"]]
    done = diff_main("HEAD~1", repo["stack"], *others[:1], "--format", "json", "--exit-code")
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


def test_a_stack_only_at_one_side_is_rendered_by_a_real_tools_synth_process(repo):
    """`python -m tools.diff`, rendering with `python -m tools.synth` in the head commit's own
    worktree; the base commit has no such stack file, so nothing renders there."""
    done = run_diff(repo["path"], "main..qa-base", "qa", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["head"]["ref"] == "qa-base" and report["differences"] is True
    [stack] = report["stacks"]
    assert stack["status"] == "added", stack
    assert stack["removed"] == [] and stack["changed"] == [] and stack["error"] is None
    added = {r.get("kubernetes") for r in stack["added"]}
    assert {"PersistentVolumeClaim/jenkins-qa/jenkins-home", "Namespace/jenkins-qa-build"} <= added
    assert git(repo["path"], "worktree", "list", "--porcelain").count("worktree ") == 1


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


# ---------------------------------------------------------------- replacements and hazards (constructed renders)

def _k8s(urn: str, api_version: str, kind: str, name: str, namespace=None, protect=False, **body) -> dict:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    resource = _resource(urn, {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body},
                         protect=protect, retainOnDelete=protect)
    resource["type"] = f"kubernetes:{'core/' if '/' not in api_version else ''}{api_version}:{kind}"
    return resource


def _one_change(old: dict, new: dict):
    result = diff_stack("s", Render("s", document=_doc(old)), Render("s", document=_doc(new)))
    [resource] = result.changed
    return result, resource


PVC_URN = "urn:pulumi:s::p::jenkins:index:JenkinsController$kubernetes:core/v1:PersistentVolumeClaim::jenkins-home"


def _claim(protect: bool, storage_class=None, size="30Gi") -> dict:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return _k8s(PVC_URN, "v1", "PersistentVolumeClaim", "jenkins-home", "jenkins", protect=protect, spec=spec)


def test_a_new_storage_class_replaces_the_protected_claim_and_is_blocked():
    result, resource = _one_change(_claim(True), _claim(True, storage_class="fast-ssd"))
    assert resource["action"] == "replace"
    assert resource["replaceBecause"] == ["spec.storageClassName"]
    assert resource["deleteBeforeReplace"] is True  # same name and namespace: the provider deletes first
    [hazard] = result.hazards
    assert hazard["kind"] == "blocked" and "protected" in hazard["message"]
    text = render_markdown("HEAD", "0" * 40, [result])
    assert "1 changed (1 replaced), 1 BLOCKED" in text
    assert '+ spec.storageClassName: "fast-ssd"  (forces replacement)' in text
    assert "#### replaced (deleted, then created again) `kubernetes:core/v1:PersistentVolumeClaim` jenkins/jenkins-home" in text


def test_a_replaced_unprotected_claim_is_data_loss():
    result, resource = _one_change(_claim(False), _claim(False, storage_class="fast-ssd"))
    assert resource["action"] == "replace"
    assert [h["kind"] for h in result.hazards] == ["data-loss"]


def test_a_bigger_claim_is_an_update_not_a_replacement():
    result, resource = _one_change(_claim(True), _claim(True, size="40Gi"))
    assert resource["action"] == "update" and result.hazards == []
    assert "(forces replacement)" not in render_markdown("HEAD", "0" * 40, [result])


def test_restoring_an_existing_claim_from_a_snapshot_is_blocked():
    restored = _claim(True)
    restored["inputs"]["spec"]["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                                "name": "s1"}
    result, resource = _one_change(_claim(True), restored)
    assert resource["action"] == "update"  # the provider patches it; the API server refuses the patch
    [hazard] = result.hazards
    assert hazard["kind"] == "blocked"
    assert "spec.dataSource" in hazard["message"] and "API server refuses" in hazard["message"]
    assert "1 BLOCKED" in render_markdown("HEAD", "0" * 40, [result])


@pytest.mark.parametrize("api_version, kind, path, old, new", [
    ("v1", "Namespace", ("metadata", "name"), "jenkins-qa", "jenkins-qa2"),
    ("v1", "Service", ("spec", "clusterIP"), None, "None"),
    ("v1", "Secret", ("type",), "Opaque", "kubernetes.io/tls"),
    ("v1", "Secret", ("stringData", "password"), "[secret]", None),  # data change: replaced by default
    ("v1", "ConfigMap", ("data", "jenkins.yaml"), "a: 1\n", "a: 2\n"),
    ("apps/v1", "StatefulSet", ("spec", "serviceName"), "jenkins", "jenkins-headless"),
    ("apps/v1", "StatefulSet", ("spec", "selector", "matchLabels", "app"), "a", "b"),
    ("apps/v1", "StatefulSet", ("spec", "volumeClaimTemplates"), [{"metadata": {"name": "d"}}], []),
    ("apps/v1", "Deployment", ("spec", "selector", "matchLabels", "app"), "a", "b"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", ("roleRef", "name"), "a", "b"),
])
def test_fields_the_provider_cannot_patch_are_replacements(api_version, kind, path, old, new):
    def body(value):
        document = {}
        if value is not None:
            cursor = document
            for key in path[:-1]:
                cursor = cursor.setdefault(key, {})
            cursor[path[-1]] = value
        return document

    urn = f"urn:pulumi:s::p::kubernetes:x:{kind}::thing"
    old_body, new_body = body(old), body(new)
    old_name = old_body.pop("metadata", {}).get("name", "thing")
    new_name = new_body.pop("metadata", {}).get("name", "thing")
    namespace = None if kind == "Namespace" else "ns"
    result, resource = _one_change(_k8s(urn, api_version, kind, old_name, namespace, **old_body),
                                   _k8s(urn, api_version, kind, new_name, namespace, **new_body))
    assert resource["action"] == "replace", resource
    # Only a replacement under a new name or namespace creates the new object first.
    assert resource["deleteBeforeReplace"] is (old_name == new_name)


def test_a_namespace_rename_loses_what_it_held():
    urn = "urn:pulumi:s::p::kubernetes:core/v1:Namespace::controller-namespace"
    result, resource = _one_change(_k8s(urn, "v1", "Namespace", "jenkins-qa"),
                                   _k8s(urn, "v1", "Namespace", "jenkins-qa2"))
    assert resource["deleteBeforeReplace"] is False
    assert [h["kind"] for h in result.hazards] == ["data-loss"]
    text = render_markdown("HEAD", "0" * 40, [result])
    assert "#### replaced (new object created, then the old one deleted)" in text


def test_every_change_kind_is_reported():
    keep = "urn:pulumi:s::p::kubernetes:core/v1:ServiceAccount::keep"
    gone = "urn:pulumi:s::p::kubernetes:core/v1:ServiceAccount::gone"
    new = "urn:pulumi:s::p::kubernetes:core/v1:ServiceAccount::new"
    workload = "urn:pulumi:s::p::kubernetes:apps/v1:StatefulSet::jenkins"

    def pod(containers, annotation):
        return {"spec": {"serviceName": "jenkins", "template": {
            "metadata": {"annotations": {"jenkins-k8s.io/config-checksum": annotation}},
            "spec": {"containers": [{"name": n, "image": "i:1"} for n in containers]}}}}

    base = _doc(_k8s(keep, "v1", "ServiceAccount", "keep", "ns", automountServiceAccountToken=True),
                _k8s(gone, "v1", "ServiceAccount", "gone", "ns"),
                _k8s(workload, "apps/v1", "StatefulSet", "jenkins", "ns", **pod(["a", "b"], "1")),
                outputs={"url": "http://a/"})
    head = _doc(_k8s(keep, "v1", "ServiceAccount", "keep", "ns", automountServiceAccountToken=False),
                _k8s(new, "v1", "ServiceAccount", "new", "ns"),
                _k8s(workload, "apps/v1", "StatefulSet", "jenkins", "ns", **pod(["b", "a"], "2")),
                outputs={"url": "http://b/"})
    result = diff_stack("s", Render("s", document=base), Render("s", document=head))
    assert [r["urn"] for r in result.added] == [new]
    assert [r["urn"] for r in result.removed] == [gone]
    by_urn = {r["urn"]: r for r in result.changed}
    assert by_urn[keep]["action"] == "update"
    assert by_urn[workload]["action"] == "update"  # a pod template change is a rolling update
    paths = {c.path: c for c in by_urn[workload]["changes"]}
    assert paths["spec.template.spec.containers"].reordered
    assert [(c.path, c.old, c.new) for c in result.outputs] == [("url", "http://a/", "http://b/")]
    text = render_markdown("HEAD", "0" * 40, [result])
    assert "### Stack `s`: 1 added, 1 removed, 2 changed, 1 output changes" in text
    assert '~ spec.template.spec.containers: reordered ["a", "b"] → ["b", "a"]' in text
    assert "_its pod template changes: the pods restart_" in text
    assert "- **added** `kubernetes:core/v1:ServiceAccount` ns/new" in text
    assert "- **removed** `kubernetes:core/v1:ServiceAccount` ns/gone" in text
    assert '~ url: "http://a/" → "http://b/"' in text


def test_removing_a_protected_resource_is_blocked():
    result = diff_stack("s", Render("s", document=_doc(_claim(True))), Render("s", document=_doc()))
    assert [h["kind"] for h in result.hazards] == ["blocked"]


# ---------------------------------------------------------------- the create-before-delete clash, aliases

NS_OLD = "urn:pulumi:s::p::jenkins:index:JenkinsPlatform$jenkins:index:SwarmDindPool$kubernetes:core/v1:Namespace::b-namespace"
NS_NEW = "urn:pulumi:s::p::jenkins:index:JenkinsPlatform$jenkins:index:SwarmPool$kubernetes:core/v1:Namespace::b-namespace"


def _component(urn: str, parent: str, aliases=None) -> dict:
    type_ = urn.split("::")[2].rsplit("$", 1)[-1]
    out = {"urn": urn, "type": type_, "name": urn.rsplit("::", 1)[-1], "parent": parent, "protect": False,
           "retainOnDelete": False, "dependsOn": [], "provider": "", "inputs": {}}
    return {**out, "aliases": aliases} if aliases else out


def _namespace(urn: str, parent: str) -> dict:
    return {**_k8s(urn, "v1", "Namespace", "jenkins-qa-b"), "parent": parent}


def test_the_same_object_under_a_new_urn_is_a_clash():
    base = _doc(_namespace(NS_OLD, ""))
    head = _doc(_namespace(NS_NEW, ""))
    result = diff_stack("s", Render("s", document=base), Render("s", document=head))
    [hazard] = [h for h in result.hazards if h["kind"] == "clash"]
    assert hazard["oldUrn"] == NS_OLD and hazard["resource"]["urn"] == NS_NEW
    assert "AlreadyExists" in hazard["message"]
    assert "1 CLASH" in render_markdown("HEAD", "0" * 40, [result])


def test_a_parent_alias_carries_its_children_to_their_old_urns():
    platform = "urn:pulumi:s::p::jenkins:index:JenkinsPlatform::jenkins"
    old_pool = "urn:pulumi:s::p::jenkins:index:JenkinsPlatform$jenkins:index:SwarmDindPool::b"
    new_pool = "urn:pulumi:s::p::jenkins:index:JenkinsPlatform$jenkins:index:AgentPool::b"
    new_ns = "urn:pulumi:s::p::jenkins:index:JenkinsPlatform$jenkins:index:AgentPool$kubernetes:core/v1:Namespace::b-namespace"
    base = _doc(_component(platform, ""), _component(old_pool, platform), _namespace(NS_OLD, old_pool))
    head = _doc(_component(platform, ""),
                _component(new_pool, platform, aliases=[{"type": "jenkins:index:SwarmPool"},
                                                        {"type": "jenkins:index:SwarmDindPool"}]),
                _namespace(new_ns, new_pool))
    result = diff_stack("s", Render("s", document=base), Render("s", document=head))
    assert result.hazards == [] and result.added == [] and result.removed == []
    assert {r["urn"]: r["aliasOf"] for r in result.aliased} == {new_pool: old_pool, new_ns: NS_OLD}


# ---------------------------------------------------------------- the real program: storage class, pool type switch

def test_a_storage_class_change_replaces_the_protected_jenkins_home_claim(diff_main):
    done = diff_main("qa-base..qa-storage-class", "qa", "--format", "json")
    assert done.returncode == 3, done.stderr  # `pulumi up` would fail
    [stack] = json.loads(done.stdout)["stacks"]
    [claim] = stack["changed"]
    assert claim["kubernetes"] == "PersistentVolumeClaim/jenkins-qa/jenkins-home"
    assert claim["action"] == "replace" and claim["replaceBecause"] == ["spec.storageClassName"]
    [hazard] = stack["hazards"]
    assert hazard["kind"] == "blocked" and hazard["resource"]["urn"] == claim["urn"]
    assert done.stderr.startswith("error: stack qa: BLOCKED: `kubernetes:core/v1:PersistentVolumeClaim` "
                                  "jenkins-qa/jenkins-home must be replaced (spec.storageClassName)")


def test_switching_a_pool_type_under_the_same_name_updates_its_objects(diff_main):
    done = diff_main("qa-storage-class..qa-switch", "qa", "--format", "json")
    assert done.returncode == 0, done.stderr
    [stack] = json.loads(done.stdout)["stacks"]
    assert [h for h in stack["hazards"] if h["kind"] == "clash"] == []
    kept = {r["kubernetes"] for r in stack["changed"]}
    added = {r.get("kubernetes") for r in stack["added"]}
    removed = {r.get("kubernetes") for r in stack["removed"]}
    assert added & removed == set()
    # The pool's namespace and its agents' Service are the same objects on both sides.
    assert "Namespace/jenkins-qa-build" not in added | removed
    assert "Service/jenkins-qa-build/build" not in added | removed
    assert "Namespace/jenkins-qa-build" in kept  # its Pod Security level changes
    head = json.loads(done.stdout)["head"]
    assert head["ref"] == "qa-switch" and len(head["commit"]) == 40


def test_two_refs_given_as_two_words_get_a_hint(diff_main):
    done = diff_main("qa-base", "qa-switch")
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: no stack 'qa-switch' at either side (stacks/Pulumi.qa-switch.yaml); "
                                   "to compare two commits write qa-base..qa-switch")


POOL_TYPES = {
    "kubernetes": {"type": "kubernetes", "templates": [{"name": "default", "labels": ["x"]}]},
    "controller": {"type": "controller", "executors": 2, "labels": ["x"]},
    "docker-cloud": {"type": "docker-cloud", "templates": [{"name": "a", "labels": ["x"], "connector": "attach"}]},
    "docker-cloud-dind": {"type": "docker-cloud-dind",
                          "templates": [{"name": "a", "labels": ["x"], "connector": "inbound"}]},
    "swarm": {"type": "swarm", "labels": ["x"]},
    "swarm-dind": {"type": "swarm-dind", "labels": ["x"]},
}


def test_objects_keep_their_urn_when_their_pool_changes_type():
    from tests.conftest import minimal_config, synth_config

    identities = {}
    for pool_type, pool in POOL_TYPES.items():
        synthesis = synth_config(minimal_config(pools=[{"name": "build", **pool}]))
        assert synthesis.ok, synthesis.error
        identities[pool_type] = {diff.kubernetes_identity(r.as_json()): r.urn for r in synthesis.kubernetes_objects()}
    shared = 0
    for a, b in [(a, b) for a in POOL_TYPES for b in POOL_TYPES if a < b]:
        for identity in identities[a].keys() & identities[b].keys():
            assert identities[a][identity] == identities[b][identity], (a, b, identity)
            shared += "build" in identity[2] + identity[3]
    assert shared >= 5  # pools do share objects (their namespace at least), so the check bites


def test_a_pool_answers_to_the_type_tokens_pools_had_before():
    from tests.conftest import minimal_config, synth_config

    synthesis = synth_config(minimal_config(pools=[{"name": "build", **POOL_TYPES["swarm"]}]))
    [pool] = [r for r in synthesis.records if r.name == "build" and not r.custom]
    assert pool.type == "jenkins:index:AgentPool"
    assert sorted(a["type"] for a in pool.aliases) == [
        "jenkins:index:ControllerExecutorsPool", "jenkins:index:DockerCloudDindPool", "jenkins:index:DockerCloudPool",
        "jenkins:index:KubernetesPool", "jenkins:index:SwarmDindPool", "jenkins:index:SwarmPool"]


def test_two_commits_render_side_by_side_without_corrupting_the_worktree_list(tmp_path, monkeypatch):
    """`A..B` checks both commits out at once: worktree add/remove/prune must not race."""
    import concurrent.futures

    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "--quiet")
    (repo / "f").write_text("1")
    git(repo, "add", "f")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "one")
    monkeypatch.setattr(diff, "render_all", lambda project, stacks: {"seen": (project / "f").read_text()})
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: diff.render_base(repo, "HEAD", ["x"]), range(64)))
    assert results == [{"seen": "1"}] * 64
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
