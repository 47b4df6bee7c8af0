"""One running policy pack per test process, shared by the test files that check resources with
it. Each check configures the pack afresh from its own file: the pack's Configure replaces the
whole policy configuration (pulumi-policy v1.21.0 sdk/python/lib/pulumi_policy/policy.py:
1275-1283), so a check sees what a freshly started pack would. Tests of start-up and shutdown
start sessions of their own."""
from __future__ import annotations

import atexit

import pytest

from tools.policy_engine import PolicyPackSession

_running: list[PolicyPackSession] = []


def shared_pack(request: pytest.FixtureRequest) -> PolicyPackSession:
    """The process's pack session (a default PolicyPackSession), started on first use and stopped
    when the test session ends; started again if its pack has exited."""
    if _running and _running[0].process is not None and _running[0].process.poll() is None:
        return _running[0]
    while _running:
        _running.pop().close()
    session = PolicyPackSession()
    try:
        session.start()
    except BaseException:
        session.close()
        raise
    _running.append(session)
    request.session.addfinalizer(session.close)
    atexit.register(session.close)  # in case the test session is not torn down
    return session
