"""python -m tools.environment STACK: the stack's `jenkins:environment`, which names its policy config."""
from __future__ import annotations

import sys

import yaml

from .harness import stack_file


def environment_of(stack: str) -> str:
    config = yaml.safe_load(stack_file(stack).read_text()).get("config") or {}
    return str(config.get("jenkins:environment", stack))


if __name__ == "__main__":
    print(environment_of(sys.argv[1]))
