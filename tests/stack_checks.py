"""`tools.check`'s full check of a shipped stack, once per test process: several test files assert
on the same report, and each check renders the stack and starts the policy pack."""
from __future__ import annotations

from functools import lru_cache

from tools.check import StackReport, check_stack


@lru_cache(maxsize=None)
def checked(stack: str) -> StackReport:
    """The report of check_stack(stack). Shared: read it, never change it."""
    return check_stack(stack)
