"""restricted/runAsUser: runAsUser must not be 0 (pod or container)
(relaxed for hostUsers: false pods, PSA >= v1.35)."""
from ..framework import Finding

ID, LEVEL, POLICY = "runAsUser", "restricted", "pss-run-as-user"
DESCRIPTION = "Containers must not run as UID 0 (Pod Security restricted)."


def is_root(value):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value == 0


def check(pod):
    if pod.host_users_off:
        return
    if is_root(pod.security_context.get("runAsUser")):
        yield Finding("", f"{pod.spec_path}.securityContext.runAsUser=0 is not allowed")
    for c in pod.containers():
        if is_root(c.security_context.get("runAsUser")):
            yield Finding(c.subject, "securityContext.runAsUser=0 is not allowed")
