"""The test suite itself: wall time of the README's test command and where the time goes."""
from __future__ import annotations

import re
import resource
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Optional

from .common import ROOT, _env, python

# The project's aim for the whole suite on a 2-core machine.
SUITE_AIM_S = 60.0
_DURATION = re.compile(r"^(?P<s>\d+(?:\.\d+)?)s (?P<phase>call|setup|teardown)\s+(?P<node>\S+)")
_COUNT = re.compile(r"(?P<n>\d+) (?P<what>passed|failed|skipped|errors?|xfailed|xpassed|deselected)")


def pytest_command(args: tuple[str, ...] = (), workers: str = "auto") -> list[str]:
    """What scripts/test.sh runs after its installs, plus every test's duration."""
    return [python(), "-m", "pytest", "-n", workers, "--dist", "loadfile", "--no-loadscope-reorder", "-q",
            "-p", "no:cacheprovider", "--durations=0", "--durations-min=0", *args]


def summarise(output: str) -> dict:
    """Counts from pytest's last line and summed test durations by file, from `--durations=0` output."""
    by_file: dict[str, float] = defaultdict(float)
    total = 0.0
    for line in output.splitlines():
        match = _DURATION.match(line.strip())
        if match:
            seconds = float(match["s"])
            by_file[match["node"].split("::", 1)[0]] += seconds
            total += seconds
    summary = next((line for line in reversed(output.splitlines()) if re.search(r"\bin \d", line)), "")
    counts = {m["what"].rstrip("s") if m["what"].startswith("error") else m["what"]: int(m["n"])
              for m in _COUNT.finditer(summary)}
    return {"counts": counts, "durations_sum_s": total,
            "slowest_files": sorted(by_file.items(), key=lambda item: -item[1])[:10]}


def bench_suite(args: tuple[str, ...] = (), cwd: Path = ROOT, workers: str = "auto",
                timeout: Optional[float] = 1800) -> dict:
    """Run the suite once: wall and CPU seconds (every worker and subprocess), counts, where time goes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(pytest_command(args, workers), cwd=cwd, capture_output=True, text=True, env=_env(),
                          timeout=timeout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = summarise(done.stdout)
    if done.returncode != 0 or not result["counts"]:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"the suite failed (exit {done.returncode}): {' / '.join(tail)}")
    result.update(wall_s=wall, cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                  workers=workers, aim_s=SUITE_AIM_S)
    return result
