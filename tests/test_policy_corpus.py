"""The pack agrees with Kubernetes Pod Security Admission on every fixture of the official corpus,
as bare Pods and wrapped in every pod-carrying workload kind, through the real pack over gRPC.

The pack starts once per level for all fixtures (and once per CLI invocation below).
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from tools.policy_engine import PolicyResource, run_policy_pack

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "psa"
CONFIG = REPO / "policy" / "config"
LEVELS = ("baseline", "restricted")

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"PSA corpus not found at {CORPUS} (expected shared/ beside the repo)")

# kind -> (apiVersion, how the pod template is wrapped)
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


def wrap(kind: str, pod: dict) -> dict:
    """The fixture's pod spec (and its labels/annotations) where `kind` carries it."""
    pod = copy.deepcopy(pod)
    if kind == "Pod":
        return pod
    meta = pod.get("metadata", {})
    template = {"metadata": {k: v for k, v in meta.items() if k in ("labels", "annotations")},
                "spec": pod["spec"]}
    body = {"apiVersion": KINDS[kind], "kind": kind,
            "metadata": {"name": meta["name"].replace("_", "-"), "namespace": "corpus"}}
    if kind == "PodTemplate":
        body["template"] = template
    elif kind == "CronJob":
        body["spec"] = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        body["spec"] = {"selector": {"matchLabels": {"app": "x"}}, "template": template}
    return body


def fixtures(level: str) -> list[tuple[str, Path]]:
    if not CORPUS.is_dir():
        return []
    return [(verdict, path) for verdict in ("pass", "fail")
            for path in sorted((CORPUS / level / verdict).glob("*.yaml"))]


def urn_of(level: str, verdict: str, path: Path, kind: str) -> str:
    api = KINDS[kind]
    token = f"kubernetes:{'core/' + api if '/' not in api else api}:{kind}"
    return f"urn:pulumi:corpus::psa::{token}::{level}-{verdict}-{path.stem}"


@lru_cache(maxsize=None)
def verdicts(level: str) -> dict[str, list]:
    """Run the pack once over every fixture of `level` in every kind: urn -> violations."""
    resources = []
    for verdict, path in fixtures(level):
        pod = yaml.safe_load(path.read_text())
        for kind in KINDS:
            urn = urn_of(level, verdict, path, kind)
            resources.append(PolicyResource(urn=urn, type=urn.split("::")[2], name=urn.split("::")[3],
                                            properties=wrap(kind, pod)))
    out: dict[str, list] = {r.urn: [] for r in resources}
    for v in run_policy_pack(resources, CONFIG / f"{level}.json"):
        out[v.urn].append(v)
    return out


CASES = [pytest.param(level, verdict, path, kind, id=f"{level}-{verdict}-{path.stem}-{kind}")
         for level in LEVELS for verdict, path in fixtures(level) for kind in KINDS]


@pytest.mark.parametrize("level,verdict,path,kind", CASES)
def test_pack_agrees_with_pod_security_admission(level, verdict, path, kind):
    found = verdicts(level)[urn_of(level, verdict, path, kind)]
    if verdict == "pass":
        assert found == [], f"{path.name} as {kind} is allowed at {level}, the pack said: " \
                            + "; ".join(v.message for v in found)
    else:
        assert found, f"{path.name} as {kind} is rejected at {level}, the pack let it through"
        assert all(v.enforcement_level == "mandatory" for v in found)
        assert all(v.policy_name.startswith("pss-") for v in found)
        # Messages name the carrying resource, and a level-appropriate check.
        assert all(v.message.startswith(f"{kind} ") for v in found), [v.message for v in found]
        assert any(f"({level}: " in v.message or "(baseline: " in v.message for v in found)


def test_corpus_is_complete():
    """Guard against an empty glob silently passing: the README promises 148 manifests."""
    assert sum(len(fixtures(level)) for level in LEVELS) == 148


def run_cli(*args: str) -> subprocess.CompletedProcess:
    code = ("import sys; from tools.policy_engine import check_manifests_main; "
            "sys.exit(check_manifests_main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("level", LEVELS)
def test_cli_reports_every_failing_fixture(level):
    files = sorted((CORPUS / level / "fail").glob("*.yaml"))
    result = run_cli("--policy-config", str(CONFIG / f"{level}.json"), "--format", "json", *map(str, files))
    assert result.returncode == 1, result.stderr
    entries = json.loads(result.stdout)
    assert {e["file"] for e in entries} == {str(f) for f in files}
    for entry in entries:
        assert entry["kind"] == "Pod" and entry["namespace"] == "default"
        assert entry["violations"], f"{entry['file']} was not reported"
        assert all(v["level"] == "mandatory" and v["policy"].startswith("pss-") for v in entry["violations"])


@pytest.mark.parametrize("level", LEVELS)
def test_cli_reports_nothing_for_passing_fixtures(level):
    files = sorted((CORPUS / level / "pass").glob("*.yaml"))
    result = run_cli("--policy-config", str(CONFIG / f"{level}.json"), *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines == [f"0 violation(s), 0 mandatory, in 0 of {len(files)} resource(s) from {len(files)} file(s)"]
