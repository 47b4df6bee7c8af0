"""python -m tools.bench [--runs N] [--smoke] [--only floor,phases,scale,policy] [--json FILE]: performance table.

Sections (each figure the median of --runs runs; ratios are taken pair by pair within one run):

  floor   wall time of `python -m tools.synth STACK` and `python -m tools.check STACK` (subprocesses,
          interpreter start included) against the floor: the same commands, same harness, on an
          empty Pulumi program that only imports the SDKs (pulumi, pulumi_kubernetes, pulumi_random,
          pulumi_tls, pydantic, yaml) and registers nothing.
  phases  where one check's time goes, in-process: imports, program run, schema validation,
          policy pack start and analysis.
  scale   a generated stack with 1..100 `kubernetes` agent pools, synthesized in-process (one
          subprocess per size): time, peak memory, and cost per registered resource against a plain
          program that registers the very same resources (types, names, inputs, parents, providers,
          dependsOn) directly with the SDK's typed classes: the SDK's own per-resource cost.
  policy  the CrossGuard pack (`python -m tools.check --policy-config policy/config/<level>.json
          FILES...`) and Checkov (pinned, in its own git-ignored venv .bench-venv/, created on demand;
          never a runtime dependency) on the Pod Security corpus (../shared/corpus/psa), bare and
          wrapped in workload kinds: time and agreement with the corpus verdicts per check family.

--smoke runs one iteration of everything on small inputs (the test suite runs it); it uses Checkov
only if .bench-venv already has it.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "psa"
BENCH_VENV = ROOT / ".bench-venv"
CHECKOV_VERSION = "3.3.30"
FLOOR_IMPORTS = ("pulumi", "pulumi_kubernetes", "pulumi_random", "pulumi_tls", "pydantic", "yaml")
# The typed modules a program that registers our kinds must import (pulumi_kubernetes loads them lazily).
KIND_MODULES = ("pulumi_kubernetes.core.v1", "pulumi_kubernetes.apps.v1", "pulumi_kubernetes.rbac.v1",
                "pulumi_kubernetes.networking.v1")
# The names the program's modules import from pydantic: pydantic loads its submodules lazily, on
# these imports, so an empty program with "the same imports" pays for them too.
FLOOR_FROM_IMPORTS = ("from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, "
                      "ValidationError, field_validator, model_validator; "
                      "from pydantic.alias_generators import to_camel")
SCALE_SIZES = (1, 10, 50, 100)
SMOKE_SCALE_SIZES = (1, 10)
TARGET_FLOOR_RATIO = 1.5
TARGET_RESOURCE_RATIO = 1.2

# Run a tools module's main() exactly, but against another project directory.
_RETARGET = ("import functools, sys; from pathlib import Path; import tools.harness as h; "
             "import tools.{module} as m; "
             "m.synthesize = functools.partial(h.synthesize, project_dir=Path(sys.argv[1])); "
             "sys.exit(m.main(sys.argv[2:]))")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def python() -> str:
    return sys.executable


def _env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["PYTHONDONTWRITEBYTECODE"] = env.get("PYTHONDONTWRITEBYTECODE", "")  # keep .pyc use as users have it
    return env


def timed(cmd: list[str], cwd: Path = ROOT, ok_codes=(0, 1)) -> tuple[float, float]:
    """(wall s, CPU s of the process and every child it waited for, e.g. the policy pack)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {result.returncode}: "
                           f"{result.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def stacks_in(project_dir: Path = ROOT) -> list[str]:
    order = {"dev": 0, "local": 0, "staging": 1, "prod": 2}
    names = [p.name[len("Pulumi."):-len(".yaml")] for p in (project_dir / "stacks").glob("Pulumi.*.yaml")]
    return sorted(names, key=lambda n: (order.get(n, 9), n))


# ---- section 1: floor ---------------------------------------------------------------------------

def make_floor_project(where: Path, stacks: list[str]) -> Path:
    project = where / "floor"
    (project / "stacks").mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text("name: floor\nruntime: python\nstackConfigDir: stacks\n")
    (project / "__main__.py").write_text(
        '"""The floor: the same imports as the real program (its kinds included), nothing registered."""\n'
        f"import {', '.join(FLOOR_IMPORTS + KIND_MODULES)}  # noqa: F401\n"
        f"{FLOOR_FROM_IMPORTS}  # noqa: F401\n")
    for stack in stacks:  # same config, so config parsing costs the same
        shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", project / "stacks")
    return project


def make_plain_project(where: Path, stack: str) -> Path:
    """The plain twin of `stack`: the same resources registered directly (see _PLAIN_PROGRAM)."""
    project = where / f"plain-{stack}"
    (project / "stacks").mkdir(parents=True, exist_ok=True)
    run_worker(["spec", stack, str(project / "spec.json")])
    (project / "Pulumi.yaml").write_text("name: plain\nruntime: python\nstackConfigDir: stacks\n")
    (project / "__main__.py").write_text(_PLAIN_PROGRAM)
    shutil.copy(ROOT / "stacks" / f"Pulumi.{stack}.yaml", project / "stacks")
    return project


def bench_floor(stacks: list[str], runs: int, tmp: Path) -> list[dict]:
    floor = make_floor_project(tmp, stacks)
    rows = []
    for stack in stacks:
        plain = make_plain_project(tmp, stack)
        commands = {
            "floor_synth": [python(), "-c", _RETARGET.format(module="synth"), str(floor), stack],
            "plain_synth": [python(), "-c", _RETARGET.format(module="synth"), str(plain), stack],
            "synth": [python(), "-m", "tools.synth", stack],
            "floor_check": [python(), "-c", _RETARGET.format(module="check"), str(floor), stack],
            "plain_check": [python(), "-c", _RETARGET.format(module="check"), str(plain), stack],
            "check": [python(), "-m", "tools.check", stack],
        }
        samples: dict[str, list[float]] = {}
        for _ in range(runs):
            wall, cpu = {}, {}
            for key, cmd in commands.items():  # interleaved: a noisy moment hits every side of a pair
                wall[key], cpu[key] = timed(cmd, ok_codes=(0,) if key.startswith("floor") else (0, 1))
            pairs = {
                "ratio": (wall["synth"] + wall["check"]) / (wall["floor_synth"] + wall["floor_check"]),
                "cpu_ratio": (cpu["synth"] + cpu["check"]) / (cpu["floor_synth"] + cpu["floor_check"]),
                "plain_ratio": (wall["synth"] + wall["check"]) / (wall["plain_synth"] + wall["plain_check"]),
                "plain_cpu_ratio": (cpu["synth"] + cpu["check"]) / (cpu["plain_synth"] + cpu["plain_check"]),
            }
            for key, value in {**wall, **{f"cpu_{k}": v for k, v in cpu.items()}, **pairs}.items():
                samples.setdefault(key, []).append(value)
        rows.append({"stack": stack, **{k: median(v) for k, v in samples.items()}})
    return rows


def spec_worker(stack: str, out: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from tools.harness import synthesize
    synthesis = synthesize(stack)
    if synthesis.error:
        raise RuntimeError(synthesis.error)
    Path(out).write_text(json.dumps(plain_spec(synthesis)))
    return {"resources": len(synthesis.records)}


# ---- section 1b: phases (in a fresh subprocess per run) -------------------------------------------

def phases_worker(stack: str) -> dict:
    """One cold `check STACK`, split into phases (run as `python -m tools.bench --worker phases STACK`)."""
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    for name in FLOOR_IMPORTS:
        __import__(name)
    t1 = time.perf_counter()
    out["import SDKs (floor)"] = t1 - t0
    for name in KIND_MODULES:
        __import__(name)
    t2 = time.perf_counter()
    out["import pulumi_kubernetes kinds"] = t2 - t1
    sys.path.insert(0, str(ROOT))
    import components.platform  # noqa: F401  (the program's own modules)
    import components.config  # noqa: F401
    from tools import check, harness
    t3 = time.perf_counter()
    out["import components + tools"] = t3 - t2
    synthesis = harness.synthesize(stack)
    t4 = time.perf_counter()
    out["run program under mocks"] = t4 - t3
    if synthesis.error:
        raise RuntimeError(synthesis.error)
    import kubernetes_validate  # noqa: F401
    t5 = time.perf_counter()
    out["import kubernetes_validate"] = t5 - t4
    check.schema_problems(synthesis)
    t6 = time.perf_counter()
    out["schema validation (2 versions)"] = t6 - t5
    from tools.policy_engine import PolicyPackSession
    resources = check.policy_resources(synthesis)
    config = check.policy_config_for(stack, None)
    t7 = time.perf_counter()
    with PolicyPackSession() as session:
        t8 = time.perf_counter()
        out["policy pack start (subprocess + gRPC)"] = t8 - t7
        session.configure(config)
        session.analyze(resources)
        t9 = time.perf_counter()
        out["policy configure + analyze"] = t9 - t8
    out["policy pack stop"] = time.perf_counter() - t9
    out["total in-process"] = time.perf_counter() - t0
    return out


def bench_phases(stack: str, runs: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        result = run_worker(["phases", stack])
        for k, v in result.items():
            samples.setdefault(k, []).append(v)
    return {k: median(v) for k, v in samples.items()}


def run_worker(args: list[str]) -> Any:
    proc = subprocess.run([python(), "-m", "tools.bench", "--worker", *args], cwd=ROOT,
                          capture_output=True, text=True, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(f"bench worker {' '.join(args)} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- section 2: scale ---------------------------------------------------------------------------

def pool_config(n: int) -> dict[str, str]:
    pools = [{"name": f"p{i}", "type": "kubernetes", "templates": [{"name": "default", "labels": [f"l{i}"]}]}
             for i in range(n)]
    return {"jenkins:environment": "dev", "jenkins:namespace": "jenkins-bench", "jenkins:pools": json.dumps(pools)}


_PLAIN_PROGRAM = '''"""A plain program: registers the resources in spec.json directly with the SDK's typed classes."""
import json
import re
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random
import pulumi_tls

GROUPS = {"core": "core", "apps": "apps", "rbac.authorization.k8s.io": "rbac", "networking.k8s.io": "networking",
          "batch": "batch", "policy": "policy"}


def snake(key):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def resource_class(type_):
    package, module, name = type_.split(":")
    if package == "pulumi" and module == "providers":
        return {"kubernetes": k8s.Provider, "random": pulumi_random.Provider, "tls": pulumi_tls.Provider}[name]
    if package == "kubernetes":
        group, version = module.split("/")
        return getattr(getattr(getattr(k8s, GROUPS[group]), version), name)
    return getattr({"random": pulumi_random, "tls": pulumi_tls}[package], name)


spec = json.loads((Path(__file__).parent / "spec.json").read_text())
made = {}
for r in spec:
    opts = pulumi.ResourceOptions(
        parent=made.get(r["parent"]), provider=made.get(r["provider"]),
        depends_on=[made[d] for d in r["dependsOn"] if d in made] or None)
    if not r["custom"]:
        made[r["urn"]] = pulumi.ComponentResource(r["type"], r["name"], None, opts)
        continue
    kwargs = {snake(k): v for k, v in r["inputs"].items() if k not in ("apiVersion", "kind")}
    made[r["urn"]] = resource_class(r["type"])(r["name"], opts=opts, **kwargs)
'''


def plain_spec(synthesis) -> list[dict]:
    """Every resource ours registered, in registration order, as the plain program needs it."""
    spec = []
    for record in synthesis.records:
        provider = record.provider.rsplit("::", 1)[0] if record.provider else ""
        spec.append({"urn": record.urn, "type": record.type, "name": record.name, "parent": record.parent,
                     "custom": record.custom, "provider": provider, "dependsOn": record.depends_on,
                     "inputs": record.inputs})
    return spec


def scale_worker(n: int, runs: int, with_check: bool) -> dict:
    """`python -m tools.bench --worker scale N RUNS`: ours and the plain program at N pools, one process."""
    import resource
    import tracemalloc

    for name in FLOOR_IMPORTS + KIND_MODULES:
        __import__(name)
    sys.path.insert(0, str(ROOT))
    import components.config  # noqa: F401
    import components.platform  # noqa: F401
    from tools.harness import synthesize

    config = pool_config(n)

    def ours():
        return synthesize("bench", config=config, secret_keys=[])

    first = ours()  # warm-up: first-call costs are import costs, measured in the floor section
    if first.error:
        raise RuntimeError(first.error)
    tmp = Path(tempfile.mkdtemp(prefix="bench-plain-"))
    try:
        (tmp / "Pulumi.yaml").write_text("name: plain\nruntime: python\n")
        (tmp / "__main__.py").write_text(_PLAIN_PROGRAM)
        (tmp / "spec.json").write_text(json.dumps(plain_spec(first)))

        def plain():
            return synthesize("bench", project_dir=tmp, config={}, secret_keys=[], project="jenkins-k8s")

        check_plain = plain()
        if check_plain.error:
            raise RuntimeError(f"plain program: {check_plain.error}")
        if sorted((r.type, r.name) for r in check_plain.records) != sorted((r.type, r.name) for r in first.records):
            raise RuntimeError("plain program registered a different set of resources")
        mismatched = sum(1 for a, b in zip(sorted(first.records, key=lambda r: r.urn),
                                           sorted(check_plain.records, key=lambda r: r.urn))
                         if a.is_kubernetes_object and a.manifest() != b.manifest())
        ours_t, plain_t, ratio = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            ours()
            t1 = time.perf_counter()
            plain()
            t2 = time.perf_counter()
            ours_t.append(t1 - t0)
            plain_t.append(t2 - t1)
            ratio.append((t1 - t0) / (t2 - t1))
        peaks = {}
        for label, fn in (("ours", ours), ("plain", plain)):
            tracemalloc.start()
            fn()
            peaks[label] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"pools": n, "resources": len(first.records), "manifests": len(first.kubernetes_objects()),
           "ours_s": median(ours_t), "plain_s": median(plain_t), "ratio": median(ratio),
           "ours_peak_mb": peaks["ours"] / 2**20, "plain_peak_mb": peaks["plain"] / 2**20,
           "manifest_mismatches": mismatched}
    if with_check:
        from tools import check
        from tools.policy_engine import run_policy_pack
        t0 = time.perf_counter()
        problems = check.schema_problems(first)
        t1 = time.perf_counter()
        run_policy_pack(check.policy_resources(first), ROOT / "policy" / "config" / "dev.json")
        t2 = time.perf_counter()
        out.update({"schema_s": t1 - t0, "policy_s": t2 - t1, "schema_problems": len(problems)})
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def bench_scale(sizes, runs: int) -> list[dict]:
    return [run_worker(["scale", str(n), str(runs), "check"]) for n in sizes]


# ---- section 3: policy pack vs Checkov ----------------------------------------------------------

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


# ---- table --------------------------------------------------------------------------------------

def pct(entry: Optional[dict]) -> str:
    if not entry:
        return "n/a"
    return f"{100 * entry['agree'] / entry['total']:.1f}% ({entry['agree']}/{entry['total']})"


def render(results: dict) -> str:
    lines = [f"# tools.bench: {results['cores']} cores, python {results['python']}, "
             f"median of {results['runs']} run(s){' (smoke)' if results['smoke'] else ''}", ""]
    if "floor" in results:
        lines += ["## Floor ratio (subprocess wall time s, interpreter start included; CPU s in brackets)", "",
                  "floor = same harness, empty program with the same imports; plain = same harness, a program "
                  "registering the same resources directly with the SDK's typed classes.", "",
                  "| stack | synth | check | floor synth | floor check | plain synth | plain check | "
                  "ours / floor | ours / plain |", "|---|---|---|---|---|---|---|---|---|"]
        for r in results["floor"]:
            cell = lambda k: f"{r[k]:.2f} [{r['cpu_' + k]:.2f}]"  # noqa: E731
            lines.append(f"| {r['stack']} | {cell('synth')} | {cell('check')} | {cell('floor_synth')} | "
                         f"{cell('floor_check')} | {cell('plain_synth')} | {cell('plain_check')} | "
                         f"{r['ratio']:.2f}x [{r['cpu_ratio']:.2f}x] | "
                         f"{r['plain_ratio']:.2f}x [{r['plain_cpu_ratio']:.2f}x] |")
        lines += ["", f"Target: synth + check <= {TARGET_FLOOR_RATIO}x the floor.", ""]
    if "phases" in results:
        stack, phases = results["phases"]["stack"], results["phases"]["seconds"]
        lines += [f"## Phases of one cold check of '{stack}' (in-process, s)", "", "| phase | s |", "|---|---|"]
        lines += [f"| {k} | {v:.3f} |" for k, v in phases.items()]
        lines.append("")
    if "scale" in results:
        lines += ["## Scale: generated stack with N `kubernetes` pools (in-process, warm)", "",
                  "| pools | resources | synth s | plain s | ms/resource ours | ms/resource plain | ratio | "
                  "peak MB ours | peak MB plain | schema s | policy s | max RSS MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["scale"]:
            lines.append(
                f"| {r['pools']} | {r['resources']} | {r['ours_s']:.3f} | {r['plain_s']:.3f} | "
                f"{1000 * r['ours_s'] / r['resources']:.2f} | {1000 * r['plain_s'] / r['resources']:.2f} | "
                f"{r['ratio']:.2f}x | {r['ours_peak_mb']:.1f} | {r['plain_peak_mb']:.1f} | "
                f"{r.get('schema_s', float('nan')):.2f} | {r.get('policy_s', float('nan')):.2f} | "
                f"{r['maxrss_mb']:.0f} |")
        last = results["scale"][-1]
        lines += ["", f"At {last['pools']} pools: cost per resource {last['ratio']:.2f}x the plain program's "
                      f"(target <= {TARGET_RESOURCE_RATIO}x); manifests identical to ours except "
                      f"{last['manifest_mismatches']}.", ""]
    if "policy" in results:
        p = results["policy"]
        lines += ["## Policy: pack vs Checkov on the Pod Security corpus", ""]
        if "skipped" in p:
            lines += [f"skipped: {p['skipped']}", ""]
        else:
            checkov_s = f"{p['checkov_s']:.2f}" if p["checkov_s"] is not None else "n/a"
            ratio = f"{p['checkov_over_pack']:.2f}x" if p["checkov_over_pack"] is not None else "n/a"
            lines += [f"{p['manifests']} manifests (148 fixtures x {', '.join(p['kinds'])}); {p['checkov']}; "
                      f"Checkov limited to the mapped checks ({', '.join(p['checkov_checks'])}).", "",
                      "| tool | wall s | Checkov / pack |", "|---|---|---|",
                      f"| pack (tools.check, baseline + restricted) | {p['pack_s']:.2f} | |",
                      f"| Checkov (one run over both levels' files) | {checkov_s} | {ratio} |", "",
                      "| family | pack agreement | Checkov agreement |", "|---|---|---|"]
            for family in PACK_POLICIES:
                if family in p["pack_agreement"]:
                    lines.append(f"| {family} | {pct(p['pack_agreement'].get(family))} | "
                                 f"{pct(p['checkov_agreement'].get(family))} |")
            lines.append("")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one quick iteration of everything")
    parser.add_argument("--only", default="floor,phases,scale,policy", help="comma-separated sections")
    parser.add_argument("--stacks", help="comma-separated stacks for the floor section (default: all)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        kind, *rest = args.worker
        if kind == "phases":
            result = phases_worker(rest[0])
        elif kind == "spec":
            result = spec_worker(rest[0], rest[1])
        elif kind == "scale":
            result = scale_worker(int(rest[0]), int(rest[1]), with_check=len(rest) > 2)
        else:
            parser.error(f"unknown worker {kind}")
        print(json.dumps(result))
        return 0

    runs = 1 if args.smoke else max(1, args.runs)
    sections = set(args.only.split(","))
    stacks = args.stacks.split(",") if args.stacks else stacks_in()
    if args.smoke:
        stacks = stacks[:1]
    results: dict[str, Any] = {"cores": os.cpu_count(), "python": sys.version.split()[0], "runs": runs,
                               "smoke": args.smoke}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_path = Path(tmp)
        if "floor" in sections:
            results["floor"] = bench_floor(stacks, runs, tmp_path)
        if "phases" in sections:
            results["phases"] = {"stack": stacks[0], "seconds": bench_phases(stacks[0], runs)}
        if "scale" in sections:
            results["scale"] = bench_scale(SMOKE_SCALE_SIZES if args.smoke else SCALE_SIZES, runs)
        if "policy" in sections:
            results["policy"] = bench_policy(runs, tmp_path, SMOKE_KINDS if args.smoke else tuple(WRAP_KINDS),
                                             install_checkov=not args.smoke)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
