"""restricted/capabilities_restricted: drop ALL, add nothing but NET_BIND_SERVICE
(overrides capabilities_baseline; not checked for Windows pods)."""
from ..framework import Finding
from ..pods import items, mapping

ID, LEVEL, POLICY = "capabilities_restricted", "restricted", "pss-capabilities-restricted"
DESCRIPTION = 'Containers must drop ALL capabilities and may add only NET_BIND_SERVICE (Pod Security restricted).'


def check(pod):
    if pod.is_windows:
        return
    for c in pod.containers():
        caps = mapping(c.security_context.get("capabilities"))
        if "ALL" not in items(caps.get("drop")):
            yield Finding(c.subject, 'securityContext.capabilities.drop must include "ALL"')
        for cap in items(caps.get("add")):
            if cap != "NET_BIND_SERVICE":
                yield Finding(c.subject, f'securityContext.capabilities.add "{cap}" is not allowed')
