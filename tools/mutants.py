"""python -m tools.mutants [--only ID,...] [--jobs N] [--keep-golden]: does the suite notice broken behaviour?

Each mutant in tools/mutants.yaml is one exact text replacement in the product code (it must
match exactly once) that changes behaviour a user relies on. For each, a git worktree of HEAD
gets the replacement; the test files named in its `first:` run, and the whole suite only if those
pass (`pytest -x`; golden snapshots and the generated-file freshness tests are excluded unless
--keep-golden: a file regenerated with the code is not a guard). A mutant is killed when tests
fail; a run that ends otherwise (a collection or import error, for one) is an error, not a kill.
The table lists the first failing test, and the survivors with their reason. Commit first: the
worktree is of HEAD.
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


# pytest's exit codes (_pytest/config ExitCode): 1 is "some tests failed"; anything else but 0
# (interrupted, a collection or import error, a usage error, no tests) says nothing about behaviour.
TESTS_FAILED = 1


def pytest_run(tree: Path, targets: list[str], keep_golden: bool, pytest_args: list[str]):
    cmd = [str(ROOT / ".venv" / "bin" / "python"), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
           *pytest_args, *targets,
           "--ignore=tests/test_mutants_file.py"]  # it checks the mutant's text is in the tree: not a kill
    if not keep_golden:  # change detectors regenerated together with the code guard nothing
        cmd += ["--ignore=tests/test_golden.py", *(f"--deselect={t}" for t in GENERATED_FILE_TESTS)]
    return subprocess.run(cmd, cwd=tree, capture_output=True, text=True)


def verdict(result) -> tuple[str, str]:
    if result.returncode == 0:
        return "survived", ""
    lines = result.stdout.splitlines()
    if result.returncode != TESTS_FAILED:
        return "error", f"pytest exit {result.returncode}: {(lines or [''])[-1]}"
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in lines
              if line.startswith("FAILED ") or line.startswith("ERROR ")]
    return "killed", failed[0] if failed else "tests failed"


def run(mutant: Mutant, keep_golden: bool, pytest_args: list[str]) -> tuple[Mutant, str, str]:
    """The `first:` files alone, then (only if they all pass) the whole suite."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.id}-") as tmp:
        tree = Path(tmp) / "tree"
        with WORKTREE_LOCK:
            checkout(tree)
        try:
            apply(mutant, tree)
            outcome = ("survived", "")
            if mutant.first:
                outcome = verdict(pytest_run(tree, mutant.first.split(), keep_golden, pytest_args))
            if outcome[0] == "survived":
                outcome = verdict(pytest_run(tree, ["tests"], keep_golden, pytest_args))
        finally:
            with WORKTREE_LOCK:
                remove_checkout(tree)
    return (mutant, *outcome)


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
    for mutant, outcome, first in results:
        print(f"| {mutant.id} | {mutant.what} | {outcome} | {first} |")
    counted = [(m, v) for m, v, _ in results if not m.equivalent]
    killed = sum(1 for _, v in counted if v == "killed")
    print(f"\nkilled {killed} of {len(counted)} behaviour-changing mutants "
          f"({100 * killed / max(1, len(counted)):.0f}%); equivalent, not counted: "
          f"{', '.join(m.id for m, _, _ in results if m.equivalent) or 'none'}")
    for mutant, outcome, detail in results:
        if outcome == "survived":
            print(f"- survived {mutant.id}: {mutant.equivalent or 'NOT equivalent: the suite misses it'}")
        elif outcome == "error":
            print(f"- error {mutant.id}: {detail} (neither killed nor survived: look at it)")
    return 0 if killed == len(counted) else 1


if __name__ == "__main__":
    sys.exit(main())
