"""python -m tools.bench: see tools/bench/__init__.py for what each section measures."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

from . import __doc__ as DOC
from .common import stacks_in
from .floor import bench_floor, spec_worker
from .phases import bench_phases, phases_worker
from .policy import SMOKE_KINDS, WRAP_KINDS, bench_policy
from .report import render
from .scale import SCALE_SIZES, SMOKE_SCALE_SIZES, bench_scale, scale_worker
from .suite import bench_suite


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=DOC.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one quick iteration of everything")
    parser.add_argument("--only", default="floor,phases,scale,policy,suite", help="comma-separated sections")
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
        if "suite" in sections:
            # The suite runs this benchmark's smoke pass itself: a smoke run does not recurse.
            results["suite"] = ({"skipped": "not in a smoke run (the suite runs the smoke pass)"} if args.smoke
                                else bench_suite())
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
