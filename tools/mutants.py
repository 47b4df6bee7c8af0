"""python -m tools.mutants [--only ID,...] [--jobs N] [--keep-golden]: does the suite notice broken behaviour?

Each mutant in tools/mutants.yaml is one exact text replacement in the product code (it must
match exactly once) that changes behaviour a user relies on. For each, a git worktree of HEAD
gets the replacement and the whole suite runs against it (`pytest -x`; golden snapshots and the
generated-file freshness tests are excluded unless --keep-golden: a file regenerated with the code
is not a guard). A mutant is killed when the suite fails; the table lists the first failing test,
and the survivors with their reason. Commit first: the worktree is of HEAD.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "tools" / "mutants.yaml"
# Tests that only compare a generated file with its generator (regenerated in the same commit).
GENERATED_FILE_TESTS = ("tests/test_config_schema.py::test_schema_file_is_up_to_date_with_the_model",
                        "tests/test_config_schema.py::test_config_reference_is_up_to_date_with_the_model")
WORKTREE_LOCK = threading.Lock()


@dataclass
class Mutant:
    id: str
    file: str
    old: str
    new: str
    what: str
    equivalent: str = ""
    first: str = ""  # test files run before the rest of the suite (where a kill is expected)


def load(path: Path = MUTANTS) -> list[Mutant]:
    return [Mutant(**entry) for entry in yaml.safe_load(path.read_text())]


def checkout(dest: Path) -> None:
    """A git worktree of HEAD (tests such as tools.diff's need a real checkout), sharing the envs."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(dest), "HEAD"],
                   check=True, capture_output=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    (dest / "policy" / "venv").symlink_to((ROOT / "policy" / "venv").resolve())


def remove_checkout(dest: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(dest)], capture_output=True)


def apply(mutant: Mutant, tree: Path) -> None:
    path = tree / mutant.file
    text = path.read_text()
    count = text.count(mutant.old)
    if count != 1:
        raise ValueError(f"{mutant.id}: the replaced text occurs {count} times in {mutant.file}")
    path.write_text(text.replace(mutant.old, mutant.new))


def run(mutant: Mutant, keep_golden: bool, pytest_args: list[str]) -> tuple[Mutant, str, str]:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.id}-") as tmp:
        tree = Path(tmp) / "tree"
        with WORKTREE_LOCK:
            checkout(tree)
        apply(mutant, tree)
        cmd = [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               *pytest_args, *mutant.first.split(), "tests",  # pytest collects a file given twice once
               "--ignore=tests/test_mutants_file.py"]  # it checks the mutant's text is in the tree: not a kill
        if not keep_golden:  # change detectors regenerated together with the code guard nothing
            cmd += ["--ignore=tests/test_golden.py", *(f"--deselect={t}" for t in GENERATED_FILE_TESTS)]
        result = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
        with WORKTREE_LOCK:
            remove_checkout(tree)
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in result.stdout.splitlines()
              if line.startswith("FAILED ") or line.startswith("ERROR ")]
    if result.returncode == 0:
        return mutant, "survived", ""
    return mutant, "killed", failed[0] if failed else f"exit {result.returncode}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutants", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated mutant ids")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep-golden", action="store_true")
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. '-n 2'")
    args = parser.parse_args(argv)
    mutants = load()
    if args.only:
        wanted = set(args.only.split(","))
        mutants = [m for m in mutants if m.id in wanted]
    for mutant in mutants:  # every replacement must still apply before anything runs
        text = (ROOT / mutant.file).read_text()
        if text.count(mutant.old) != 1:
            print(f"error: {mutant.id}: its text occurs {text.count(mutant.old)} times in {mutant.file}",
                  file=sys.stderr)
            return 2
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda m: run(m, args.keep_golden, args.pytest_args.split()), mutants))
    print("| id | mutant | result | first failing test |\n|---|---|---|---|")
    for mutant, verdict, first in results:
        print(f"| {mutant.id} | {mutant.what} | {verdict} | {first} |")
    counted = [(m, v) for m, v, _ in results if not m.equivalent]
    killed = sum(1 for _, v in counted if v == "killed")
    print(f"\nkilled {killed} of {len(counted)} behaviour-changing mutants "
          f"({100 * killed / max(1, len(counted)):.0f}%); equivalent, not counted: "
          f"{', '.join(m.id for m, _, _ in results if m.equivalent) or 'none'}")
    for mutant, verdict, _ in results:
        if verdict == "survived":
            print(f"- survived {mutant.id}: {mutant.equivalent or 'NOT equivalent: the suite misses it'}")
    return 0 if killed == len(counted) else 1


if __name__ == "__main__":
    sys.exit(main())
