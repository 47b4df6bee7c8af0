"""What every bench section shares: paths, the interpreter, timing, workers."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
FLOOR_IMPORTS = ("pulumi", "pulumi_kubernetes", "pulumi_random", "pulumi_tls", "pydantic", "yaml")
# The typed modules a program that registers our kinds must import (pulumi_kubernetes loads them lazily).
KIND_MODULES = ("pulumi_kubernetes.core.v1", "pulumi_kubernetes.apps.v1", "pulumi_kubernetes.rbac.v1",
                "pulumi_kubernetes.networking.v1")
# The names the program's modules import from pydantic: pydantic loads its submodules lazily, on
# these imports, so an empty program with "the same imports" pays for them too.
FLOOR_FROM_IMPORTS = ("from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, "
                      "ValidationError, field_validator, model_validator; "
                      "from pydantic.alias_generators import to_camel")


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


def run_worker(args: list[str]) -> Any:
    proc = subprocess.run([python(), "-m", "tools.bench", "--worker", *args], cwd=ROOT,
                          capture_output=True, text=True, env=_env())
    if proc.returncode != 0:
        raise RuntimeError(f"bench worker {' '.join(args)} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


