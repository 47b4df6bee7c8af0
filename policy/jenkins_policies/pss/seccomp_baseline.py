"""baseline/seccompProfile_baseline: a seccomp profile, where set, is RuntimeDefault or Localhost."""
from ..framework import Finding
from ..pods import mapping

ID, LEVEL, POLICY = "seccompProfile_baseline", "baseline", "pss-seccomp-baseline"
DESCRIPTION = "Unconfined seccomp profiles are not allowed (Pod Security baseline)."

VALID = frozenset({"RuntimeDefault", "Localhost"})


def bad_type(security_context):
    """The offending type when seccompProfile is set to something other than VALID, else None."""
    profile = security_context.get("seccompProfile")
    if profile is None:
        return None
    kind = mapping(profile).get("type") or ""
    return None if kind in VALID else kind


def check(pod):
    kind = bad_type(pod.security_context)
    if kind is not None:
        yield Finding("", f'{pod.spec_path}.securityContext.seccompProfile.type="{kind}" is not allowed')
    for c in pod.containers():
        kind = bad_type(c.security_context)
        if kind is not None:
            yield Finding(c.subject, f'securityContext.seccompProfile.type="{kind}" is not allowed')
