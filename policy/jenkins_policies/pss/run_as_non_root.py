"""restricted/runAsNonRoot: runAsNonRoot=true on the pod or on every container, never false
(relaxed for hostUsers: false pods, PSA >= v1.35)."""
from ..framework import Finding

ID, LEVEL, POLICY = "runAsNonRoot", "restricted", "pss-run-as-non-root"
DESCRIPTION = "Containers must run as non-root (runAsNonRoot=true) (Pod Security restricted)."


def check(pod):
    if pod.host_users_off:
        return
    pod_value = pod.security_context.get("runAsNonRoot")
    if pod_value is False:
        yield Finding("", f"{pod.spec_path}.securityContext.runAsNonRoot=false is not allowed")
    for c in pod.containers():
        value = c.security_context.get("runAsNonRoot")
        if value is False:
            yield Finding(c.subject, "securityContext.runAsNonRoot=false is not allowed")
        elif value is None and pod_value is not True:
            yield Finding(c.subject, "securityContext.runAsNonRoot must be true (on the pod or the container)")
