"""python -m tools.environment STACK: the stack's `jenkins:environment`, which names its policy config."""
from __future__ import annotations

import sys

import yaml

from .harness import stack_file


def environment_of(stack: str) -> str:
    path = stack_file(stack)
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in path.parent.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack '{stack}': stacks/{path.name} does not exist (stacks: {', '.join(known)})")
    config = yaml.safe_load(path.read_text()).get("config") or {}
    return str(config.get("jenkins:environment", stack))


if __name__ == "__main__":
    try:
        print(environment_of(sys.argv[1]))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
