"""baseline/privileged: containers must not set securityContext.privileged=true."""
from ..framework import Finding

ID, LEVEL, POLICY = "privileged", "baseline", "pss-privileged"
DESCRIPTION = "Privileged containers are not allowed (Pod Security baseline)."


def check(pod):
    for c in pod.containers():
        if c.security_context.get("privileged") is True:
            yield Finding(c.subject, "securityContext.privileged=true is not allowed")
