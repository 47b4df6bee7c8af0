"""Section phases: where one cold check's time goes, in-process."""
from __future__ import annotations

import sys
import time

from .common import FLOOR_IMPORTS, KIND_MODULES, ROOT, median, run_worker


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

