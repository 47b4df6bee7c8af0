"""restricted/seccompProfile_restricted: RuntimeDefault or Localhost on the pod or on every
container, never anything else (overrides seccompProfile_baseline; not checked for Windows pods)."""
from ..framework import Finding
from .seccomp_baseline import bad_type

ID, LEVEL, POLICY = "seccompProfile_restricted", "restricted", "pss-seccomp-restricted"
DESCRIPTION = "A RuntimeDefault or Localhost seccomp profile is required (Pod Security restricted)."


def check(pod):
    if pod.is_windows:
        return
    pod_bad = bad_type(pod.security_context)
    pod_set = pod.security_context.get("seccompProfile") is not None and pod_bad is None
    if pod_bad is not None:
        yield Finding("", f'{pod.spec_path}.securityContext.seccompProfile.type="{pod_bad}" is not allowed')
    for c in pod.containers():
        if c.security_context.get("seccompProfile") is not None:
            kind = bad_type(c.security_context)
            if kind is not None:
                yield Finding(c.subject, f'securityContext.seccompProfile.type="{kind}" is not allowed')
        elif not pod_set:
            yield Finding(c.subject, 'securityContext.seccompProfile.type must be "RuntimeDefault" or '
                                     '"Localhost" (on the pod or the container)')
