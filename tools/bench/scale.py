"""Section scale: N `kubernetes` pools, ours against the plain twin, per resource."""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .common import FLOOR_IMPORTS, KIND_MODULES, ROOT, median, run_worker
from .plain import _PLAIN_PROGRAM, plain_spec

SCALE_SIZES = (1, 10, 50, 100)
SMOKE_SCALE_SIZES = (1, 2)
TARGET_RESOURCE_RATIO = 1.2


def pool_config(n: int) -> dict[str, str]:
    pools = [{"name": f"p{i}", "type": "kubernetes", "templates": [{"name": "default", "labels": [f"l{i}"]}]}
             for i in range(n)]
    return {"jenkins:environment": "dev", "jenkins:namespace": "jenkins-bench", "jenkins:pools": json.dumps(pools)}



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


