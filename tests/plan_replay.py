"""`python -m tools.e2e_plan plan ...` as the script tests' project copies run it: the real tool
renders once per distinct input and its output is copied for every later run with the same input.

scripts/e2e.sh and scripts/boot-check.sh render their plans first, in a fresh interpreter each run
(about two seconds of CPU); the tests run them seven times on identical stacks. The input is
everything the plan is made from: the arguments but the output folders, the stack files' text, and
the project's Python sources in the current directory. A failed render is not kept, so its error
shows every time. Runs as `python -I -S plan_replay.py CACHE -m tools.e2e_plan plan ARGS...`:
standard library only.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path


def outputs_and_key(args: list[str]) -> tuple[list[Path], str]:
    digest = hashlib.sha256()
    outs: list[Path] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--out":
            outs.append(Path(next(rest)))
            continue
        digest.update(arg.encode() + b"\0")
        if arg == "--stack-file":
            digest.update(Path(next(rest)).read_bytes() + b"\0")
    project = Path.cwd()
    sources = [project / "__main__.py", *sorted(project.glob("stacks/*.yaml")),
               *sorted(project.glob("components/**/*.py")), *sorted(project.glob("tools/**/*.py"))]
    for source in sources:
        digest.update(str(source.relative_to(project)).encode() + b"\0" + source.read_bytes() + b"\0")
    return outs, digest.hexdigest()


def main(cache: Path, python: str, args: list[str]) -> int:
    outs, key = outputs_and_key(args[3:])
    kept = cache / key
    if not kept.is_dir():
        done = subprocess.run([python, *args])
        if done.returncode != 0:
            return done.returncode
        staging = cache / f"{key}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        for i, out in enumerate(outs):
            shutil.copytree(out, staging / str(i))
        staging.rename(kept)
        return 0
    for i, out in enumerate(outs):
        shutil.copytree(kept / str(i), out, dirs_exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:]))
