"""baseline/procMount: procMount must be Default, unless the pod runs with hostUsers: false."""
from ..framework import Finding

ID, LEVEL, POLICY = "procMount", "baseline", "pss-proc-mount"
DESCRIPTION = "Unmasked /proc mounts are not allowed outside user namespaces (Pod Security baseline)."


def non_default(pod):
    for c in pod.containers():
        mount = c.security_context.get("procMount")
        if mount is not None and mount != "Default":
            yield Finding(c.subject, f'securityContext.procMount="{mount}" is not allowed')


def check(pod):
    if pod.host_users_off:
        return ()
    return non_default(pod)
