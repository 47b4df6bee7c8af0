"""baseline/seccompProfile_baseline: a seccomp profile, where set, is RuntimeDefault or Localhost."""
from ..framework import profile_findings, profile_type

ID, LEVEL, POLICY = "seccompProfile_baseline", "baseline", "pss-seccomp-baseline"
DESCRIPTION = "Unconfined seccomp profiles are not allowed (Pod Security baseline)."

VALID = frozenset({"RuntimeDefault", "Localhost"})


def bad_type(security_context):
    """The offending type when seccompProfile is set to something other than VALID, else None."""
    return profile_type(security_context, "seccompProfile", VALID)


def check(pod):
    yield from profile_findings(pod, "seccompProfile", VALID)
