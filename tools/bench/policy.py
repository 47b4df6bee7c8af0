"""Section policy: the pack and Checkov on the Pod Security corpus, time and agreement per family."""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from .common import ROOT, _env, median, python

CORPUS = ROOT.parent / "shared" / "corpus" / "psa"
BENCH_VENV = ROOT / ".bench-venv"
CHECKOV_VERSION = "3.3.30"

WRAP_KINDS = {"Pod": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
              "ReplicaSet": "apps/v1", "ReplicationController": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}
SMOKE_KINDS = ("Pod", "Deployment")

# PSA check (fixture file-name prefix) -> family.
FAMILY_OF = {
    "privileged": "privileged", "hostnamespaces": "host namespaces", "hostports": "host ports",
    "hostpathvolumes": "hostPath volumes", "restrictedvolumes": "volume types",
    "allowprivilegeescalation": "allowPrivilegeEscalation", "runasnonroot": "runAsNonRoot",
    "runasuser": "runAsUser", "capabilities_baseline": "capabilities", "capabilities_restricted": "capabilities",
    "seccompprofile_baseline": "seccomp", "seccompprofile_restricted": "seccomp", "apparmorprofile": "AppArmor",
    "selinuxoptions": "SELinux", "procmount": "procMount", "procmount_restricted": "procMount",
    "sysctls": "sysctls", "windowshostprocess": "Windows hostProcess",
    "hostprobesandhostlifecycle": "probe/lifecycle host",
}
# family -> level -> the pack's policies that decide it (policy/config/<level>.json).
PACK_POLICIES = {
    "privileged": ["pss-privileged"], "host namespaces": ["pss-host-namespaces"], "host ports": ["pss-host-ports"],
    "hostPath volumes": ["pss-host-path-volumes", "pss-restricted-volumes"],
    "volume types": ["pss-restricted-volumes"], "allowPrivilegeEscalation": ["pss-allow-privilege-escalation"],
    "runAsNonRoot": ["pss-run-as-non-root"], "runAsUser": ["pss-run-as-user"],
    "capabilities": ["pss-capabilities-baseline", "pss-capabilities-restricted"],
    "seccomp": ["pss-seccomp-baseline", "pss-seccomp-restricted"], "AppArmor": ["pss-apparmor"],
    "SELinux": ["pss-selinux"], "procMount": ["pss-proc-mount", "pss-proc-mount-restricted"],
    "sysctls": ["pss-sysctls"], "Windows hostProcess": ["pss-windows-host-process"],
    "probe/lifecycle host": ["pss-host-probes-lifecycle"],
}
# family -> level -> Checkov check IDs that claim it (verified with `checkov --list --framework kubernetes`
# for checkov 3.3.30). Families absent here have no Checkov check.
CHECKOV_CHECKS = {
    "privileged": {"baseline": ["CKV_K8S_16"], "restricted": ["CKV_K8S_16"]},
    "host namespaces": {"baseline": ["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"],
                        "restricted": ["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"]},
    "host ports": {"baseline": ["CKV_K8S_26"], "restricted": ["CKV_K8S_26"]},
    # CKV_K8S_27 only looks for the Docker socket among hostPath volumes: a partial claim.
    "hostPath volumes": {"baseline": ["CKV_K8S_27"], "restricted": ["CKV_K8S_27"]},
    "allowPrivilegeEscalation": {"restricted": ["CKV_K8S_20"]},
    "runAsNonRoot": {"restricted": ["CKV_K8S_23"]},
    "runAsUser": {"restricted": ["CKV_K8S_23"]},
    # baseline: no added capability outside the default set; restricted: drop ALL, add at most NET_BIND_SERVICE.
    "capabilities": {"baseline": ["CKV_K8S_25", "CKV_K8S_39"],
                     "restricted": ["CKV_K8S_25", "CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_39"]},
    "seccomp": {"baseline": ["CKV_K8S_31"], "restricted": ["CKV_K8S_31"]},
}


def family_of(path: Path) -> Optional[str]:
    stem = re.sub(r"\d+$", "", path.stem)
    return FAMILY_OF.get(stem)  # None for base*: the all-clear fixtures


def wrap(kind: str, pod: dict) -> dict:
    pod = copy.deepcopy(pod)
    meta = pod.get("metadata", {})
    name = meta.get("name", "pod").replace("_", "-")
    if kind == "Pod":
        pod["metadata"] = {**meta, "name": name}
        return pod
    template = {"metadata": {"labels": {"app": "x", **meta.get("labels", {})},
                             **({"annotations": meta["annotations"]} if meta.get("annotations") else {})},
                "spec": pod["spec"]}
    body = {"apiVersion": WRAP_KINDS[kind], "kind": kind, "metadata": {"name": name}}
    if kind == "CronJob":
        body["spec"] = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind == "Job":
        body["spec"] = {"template": template}
    else:
        body["spec"] = {"selector": {"matchLabels": {"app": "x"}}, "template": template}
    return body


def write_corpus(dest: Path, kinds) -> list[dict]:
    """One manifest per file: dest/<level>/<verdict>-<fixture>-<kind>.yaml. Returns the cases."""
    import yaml

    cases = []
    for level in ("baseline", "restricted"):
        (dest / level).mkdir(parents=True, exist_ok=True)
        for verdict in ("pass", "fail"):
            for path in sorted((CORPUS / level / verdict).glob("*.yaml")):
                pod = yaml.safe_load(path.read_text())
                for kind in kinds:
                    out = dest / level / f"{verdict}-{path.stem}-{kind.lower()}.yaml"
                    out.write_text(yaml.safe_dump(wrap(kind, pod), sort_keys=False))
                    cases.append({"level": level, "verdict": verdict, "fixture": path.stem, "kind": kind,
                                  "family": family_of(path), "file": str(out)})
    return cases


def run_pack(level: str, files: list[str]) -> tuple[float, dict[str, set]]:
    config = ROOT / "policy" / "config" / f"{level}.json"
    cmd = [python(), "-m", "tools.check", "--policy-config", str(config), "--format", "json", *files]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=_env())
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"tools.check on the corpus exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    flagged: dict[str, set] = {f: set() for f in files}
    for entry in json.loads(proc.stdout):
        if entry.get("file"):
            flagged.setdefault(entry["file"], set()).update(
                v["policy"] for v in entry["violations"] if v["level"] == "mandatory")
    return elapsed, flagged


def checkov_bin(install: bool) -> tuple[Optional[Path], str]:
    exe = BENCH_VENV / "bin" / "checkov"
    version_ok = False
    if exe.exists():
        probe = subprocess.run([str(BENCH_VENV / "bin" / "python"), "-c",
                                "import importlib.metadata as m; print(m.version('checkov'))"],
                               capture_output=True, text=True)
        version_ok = probe.stdout.strip() == CHECKOV_VERSION
    if version_ok:
        return exe, f"checkov {CHECKOV_VERSION} from {BENCH_VENV.name}/"
    if not install:
        return None, f"Checkov skipped: {BENCH_VENV.name}/ has no checkov {CHECKOV_VERSION} (a full run installs it)"
    print(f"installing checkov=={CHECKOV_VERSION} into {BENCH_VENV} (once)...", file=sys.stderr)
    if not (BENCH_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    (BENCH_VENV / ".gitignore").write_text("*\n")  # the venv ignores itself: nothing to add to .gitignore
    subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", f"checkov=={CHECKOV_VERSION}"], check=True,
                   stdout=subprocess.DEVNULL)
    return exe, f"checkov {CHECKOV_VERSION} from {BENCH_VENV.name}/ (just installed)"


def run_checkov(exe: Path, directory: Path, checks: list[str]) -> tuple[float, dict[str, set], int]:
    cmd = [str(exe), "-d", str(directory), "--framework", "kubernetes", "--skip-download", "-o", "json",
           "--compact", "--check", ",".join(checks)]
    env = _env()
    env.update({"BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT": "", "LOG_LEVEL": "ERROR"})
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=directory, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    flagged: dict[str, set] = {}
    resources = 0
    for r in reports:
        resources += r.get("summary", {}).get("resource_count", 0)
        for failed in r.get("results", {}).get("failed_checks", []):
            path = str((directory / failed["file_path"].lstrip("/")).resolve())
            flagged.setdefault(path, set()).add(failed["check_id"])
    return elapsed, flagged, resources


def agreement(cases: list[dict], flagged: dict[str, set], ids_for: Callable[[str, str], list[str]]) -> dict:
    """Per family: of the fixtures that exercise it (plus the all-clear base fixtures), in how many
    carrying kinds does the tool's verdict on that family's checks match the corpus?"""
    families = sorted({c["family"] for c in cases if c["family"]})
    out = {}
    for family in families:
        agree = total = 0
        for case in cases:
            if case["family"] not in (family, None):
                continue
            ids = ids_for(family, case["level"])
            if not ids:
                continue
            expected = case["verdict"] == "fail" and case["family"] == family
            got = bool(flagged.get(str(Path(case["file"]).resolve()), set()) & set(ids))
            total += 1
            agree += expected == got
        if total:
            out[family] = {"agree": agree, "total": total}
    return out


def bench_policy(runs: int, tmp: Path, kinds, install_checkov: bool) -> dict:
    if not CORPUS.is_dir():
        return {"skipped": f"no corpus at {CORPUS}"}
    corpus_dir = tmp / "corpus"
    cases = write_corpus(corpus_dir, kinds)
    by_level = {lvl: [c["file"] for c in cases if c["level"] == lvl] for lvl in ("baseline", "restricted")}
    exe, checkov_note = checkov_bin(install_checkov)
    all_ids = sorted({i for levels in CHECKOV_CHECKS.values() for ids in levels.values() for i in ids},
                     key=lambda s: int(s.rsplit("_", 1)[1]))
    pack_t, checkov_t, ratio = [], [], []
    pack_flags: dict[str, set] = {}
    checkov_flags: dict[str, set] = {}
    checkov_resources = 0
    for _ in range(runs):
        t = 0.0
        for level, files in by_level.items():
            elapsed, flags = run_pack(level, files)
            t += elapsed
            pack_flags.update({str(Path(f).resolve()): v for f, v in flags.items()})
        pack_t.append(t)
        if exe is not None:
            elapsed, checkov_flags, checkov_resources = run_checkov(exe, corpus_dir, all_ids)
            checkov_t.append(elapsed)
            ratio.append(elapsed / t)

    enabled = {level: {name for name, value in json.loads(
        (ROOT / "policy" / "config" / f"{level}.json").read_text()).items()
        if (value if isinstance(value, str) else value.get("enforcementLevel")) == "mandatory"}
        for level in by_level}

    def pack_ids(family: str, level: str) -> list[str]:  # the policies that level's config enforces
        return [name for name in PACK_POLICIES.get(family, []) if name in enabled[level]]

    def checkov_ids(family: str, level: str) -> list[str]:
        return CHECKOV_CHECKS.get(family, {}).get(level, [])

    return {
        "manifests": len(cases), "kinds": list(kinds), "checkov": checkov_note,
        "checkov_resources": checkov_resources,
        "pack_s": median(pack_t), "checkov_s": median(checkov_t) if checkov_t else None,
        "checkov_over_pack": median(ratio) if ratio else None,
        "pack_agreement": agreement(cases, pack_flags, pack_ids),
        "checkov_agreement": agreement(cases, checkov_flags, checkov_ids) if exe is not None else {},
        "checkov_checks": all_ids,
    }


