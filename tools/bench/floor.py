"""Section floor: synth and check of each stack against an empty program and the plain twin."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from .common import FLOOR_FROM_IMPORTS, FLOOR_IMPORTS, KIND_MODULES, ROOT, median, python, run_worker, timed
from .plain import _PLAIN_PROGRAM, plain_spec

TARGET_FLOOR_RATIO = 1.5


# Run a tools module's main() exactly, but against another project directory.
_RETARGET = ("import functools, sys; from pathlib import Path; import tools.harness as h; "
             "import tools.{module} as m; "
             "m.synthesize = functools.partial(h.synthesize, project_dir=Path(sys.argv[1])); "
             "sys.exit(m.main(sys.argv[2:]))")



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


