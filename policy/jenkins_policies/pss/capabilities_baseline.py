"""baseline/capabilities_baseline: capabilities.add only from the runtime's default set."""
from ..framework import Finding
from ..pods import items, mapping

ID, LEVEL, POLICY = "capabilities_baseline", "baseline", "pss-capabilities-baseline"
DESCRIPTION = "Adding capabilities beyond the default set is not allowed (Pod Security baseline)."

ALLOWED = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})


def check(pod):
    for c in pod.containers():
        for cap in items(mapping(c.security_context.get("capabilities")).get("add")):
            if cap not in ALLOWED:
                yield Finding(c.subject, f'securityContext.capabilities.add "{cap}" is not allowed')
