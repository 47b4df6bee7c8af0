"""The pack agrees with Kubernetes Pod Security Admission on every fixture of the upstream corpus
(kubernetes/pod-security-admission test/testdata, in ../shared/corpus/psa when present), as bare
Pods and wrapped in every pod-carrying workload kind, through the real pack over gRPC.

An additional oracle: the project's own fixtures (test_pod_security_fixtures.py) cover every check
and run in a fresh clone; these run only where the corpus sits beside the repository.
The pack runs once over all fixtures of both levels (and starts once per CLI run below).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.pod_security import CONFIG, KINDS, LEVELS, REPO, run_levels
from tests.policy_pack import shared_pack
from tools.policy_engine import check_manifests_main

CORPUS = REPO.parent / "shared" / "corpus" / "psa"

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason=f"upstream PSA corpus not found at {CORPUS} (an optional extra oracle); "
           "tests/test_pod_security_fixtures.py covers every check without it")


def fixtures(level: str) -> list[tuple[str, Path]]:
    if not CORPUS.is_dir():
        return []
    return [(verdict, path) for verdict in ("pass", "fail")
            for path in sorted((CORPUS / level / verdict).glob("*.yaml"))]


def name_of(level: str, verdict: str, path: Path) -> str:
    return f"{level}-{verdict}-{path.stem}"


@pytest.fixture(scope="module")
def verdicts(request) -> dict:
    """Run the pack once over every fixture in every kind: {level: {(name, kind): violations}}."""
    pods = {level: {name_of(level, verdict, path): yaml.safe_load(path.read_text())
                    for verdict, path in fixtures(level)} for level in LEVELS}
    return run_levels(shared_pack(request), pods, tuple(KINDS))


CASES = [pytest.param(level, verdict, path, kind, id=f"{level}-{verdict}-{path.stem}-{kind}")
         for level in LEVELS for verdict, path in fixtures(level) for kind in KINDS]


@pytest.mark.parametrize("level,verdict,path,kind", CASES)
def test_pack_agrees_with_pod_security_admission(verdicts, level, verdict, path, kind):
    found = verdicts[level][(name_of(level, verdict, path), kind)]
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
    """Where the corpus is present, all of it is read: 148 manifests."""
    assert sum(len(fixtures(level)) for level in LEVELS) == 148


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """The command's entry point in this process (the same function `python -m tools.check` calls
    on manifests; test_policy_engine runs it as a process): (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = check_manifests_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("level", LEVELS)
def test_cli_reports_every_failing_fixture(capsys, level):
    files = sorted((CORPUS / level / "fail").glob("*.yaml"))
    code, out, err = run_cli(capsys, "--policy-config", str(CONFIG / f"{level}.json"), "--format", "json",
                             *map(str, files))
    assert code == 1, err
    entries = json.loads(out)
    assert {e["file"] for e in entries} == {str(f) for f in files}
    for entry in entries:
        assert entry["kind"] == "Pod" and entry["namespace"] == "default"
        assert entry["violations"], f"{entry['file']} was not reported"
        assert all(v["level"] == "mandatory" and v["policy"].startswith("pss-") for v in entry["violations"])


@pytest.mark.parametrize("level", LEVELS)
def test_cli_reports_nothing_for_passing_fixtures(capsys, level):
    files = sorted((CORPUS / level / "pass").glob("*.yaml"))
    code, out, err = run_cli(capsys, "--policy-config", str(CONFIG / f"{level}.json"), *map(str, files))
    assert code == 0, out + err
    lines = out.strip().splitlines()
    assert lines == [f"0 violation(s), 0 mandatory, in 0 of {len(files)} resource(s) from {len(files)} file(s)"]
