"""The pack against the project's own Pod Security fixtures (tests/fixtures/pod-security): every
check of both levels, pass and fail cases, bare and in every pod-carrying kind, through the real
pack over gRPC with one start-up. Needs nothing beside the repository."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from components import yaml_data
from tests.pod_security import KINDS, LEVELS, PATCH_KINDS, run_every_level
from tests.policy_pack import shared_pack

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pod-security"
ALL_KINDS = (*KINDS, *PATCH_KINDS)

# Every check of policy version 1.37 with its level: kubernetes/pod-security-admission
# v0.37.0-alpha.2, policy/check_*.go (`ID:` and `Level:` of each check).
CHECKS = {
    "windowsHostProcess": "baseline", "hostNamespaces": "baseline", "privileged": "baseline",
    "capabilities_baseline": "baseline", "hostPathVolumes": "baseline", "hostPorts": "baseline",
    "appArmorProfile": "baseline", "seLinuxOptions": "baseline", "procMount": "baseline",
    "seccompProfile_baseline": "baseline", "sysctls": "baseline", "hostProbesAndHostLifecycle": "baseline",
    "restrictedVolumes": "restricted", "allowPrivilegeEscalation": "restricted", "runAsNonRoot": "restricted",
    "runAsUser": "restricted", "seccompProfile_restricted": "restricted", "capabilities_restricted": "restricted",
    "procMount_restricted": "restricted",
}
CONTAINER_KEYS = {"container": "containers", "initContainer": "initContainers"}


def merge(base, patch):
    """Mappings merge, lists and scalars replace, None removes the key."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def build_pod(base: dict, case: dict) -> dict:
    pod = copy.deepcopy(base)
    pod["metadata"] = merge(pod["metadata"], case.get("metadata", {}))
    pod["metadata"]["name"] = case["id"]
    pod["spec"] = merge(pod["spec"], case.get("pod", {}))
    for key, field in CONTAINER_KEYS.items():
        if key in case:
            pod["spec"][field][0] = merge(pod["spec"][field][0], case[key])
    if "ephemeralContainer" in case:
        pod["spec"]["ephemeralContainers"] = [merge(base["spec"]["containers"][0], case["ephemeralContainer"])]
    return pod


def load_fixtures() -> list[dict]:
    cases = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        if path.name == "base-pod.yaml":
            continue
        document = yaml_data.load(path.read_text())
        for case in document["cases"]:
            cases.append({**case, "check": document["check"], "level": document["level"],
                          "file": path.name, "id": f"{document['check']}-{case['name']}".lower().replace("_", "-")})
    return cases


BASE = yaml.safe_load((FIXTURES / "base-pod.yaml").read_text())
CASES = load_fixtures() + [{"id": "base-pod", "name": "base-pod", "check": None, "level": None,
                            "file": "base-pod.yaml", "expect": {"baseline": [], "restricted": []}}]


@pytest.fixture(scope="module")
def verdicts(request):
    pods = {case["id"]: build_pod(BASE, case) for case in CASES}
    return run_every_level(shared_pack(request), pods, ALL_KINDS)


def named_checks(violations) -> list[str]:
    """`(baseline: privileged)` at the end of each message -> ['baseline: privileged']."""
    out = []
    for v in violations:
        match = re.search(r"\((baseline|restricted): ([A-Za-z_]+)\)$", v.message)
        out.append(match.group(0)[1:-1] if match else f"unnamed: {v.message}")
    return sorted(set(out))


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_pack_gives_the_expected_verdict_at_each_level(verdicts, case, kind):
    for level in LEVELS:
        found = verdicts[level][(case["id"], kind)]
        expected = sorted(case["expect"][level])
        assert named_checks(found) == expected, \
            f"{case['file']} {case['name']} as {kind} at {level}: " + "; ".join(v.message for v in found)
        assert all(v.enforcement_level == "mandatory" for v in found)
        assert all(v.message.startswith(f"{kind.removesuffix('Patch')} ") for v in found), [v.message for v in found]


def test_fixtures_cover_every_check_with_a_pass_and_a_fail_case():
    """Runs without the upstream corpus: an empty glob or a dropped check fails here."""
    by_check: dict[str, list[dict]] = {}
    for case in CASES:
        if case["check"]:
            by_check.setdefault(case["check"], []).append(case)
    assert set(by_check) == set(CHECKS)
    for check, level in CHECKS.items():
        cases = by_check[check]
        assert {c["level"] for c in cases} == {level}, check
        assert any(c["expect"][level] == [] for c in cases), f"{check}: no passing case at {level}"
        named = f"{level}: {check}"
        assert any(named in c["expect"][level] for c in cases), f"{check}: no case that fails it"
    assert len(CASES) >= 80


def test_case_ids_are_unique_and_expectations_are_consistent():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        baseline, restricted = case["expect"]["baseline"], case["expect"]["restricted"]
        # What fails baseline fails restricted too (restricted includes baseline).
        assert bool(baseline) <= bool(restricted), case["id"]
        for named in (*baseline, *restricted):
            level, check = named.split(": ")
            assert CHECKS[check] == level, f"{case['id']}: {named}"
