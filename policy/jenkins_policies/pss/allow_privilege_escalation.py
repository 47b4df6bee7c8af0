"""restricted/allowPrivilegeEscalation: every container sets allowPrivilegeEscalation=false
(not checked for Windows pods, as in PSA >= v1.25)."""
from ..framework import Finding

ID, LEVEL, POLICY = "allowPrivilegeEscalation", "restricted", "pss-allow-privilege-escalation"
DESCRIPTION = "Containers must set allowPrivilegeEscalation=false (Pod Security restricted)."


def check(pod):
    if pod.is_windows:
        return
    for c in pod.containers():
        value = c.security_context.get("allowPrivilegeEscalation")
        if value is not False:
            shown = "unset" if value is None else str(value).lower()
            yield Finding(c.subject, f"securityContext.allowPrivilegeEscalation must be false (is {shown})")
