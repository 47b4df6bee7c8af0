"""baseline/hostPorts: containers must not set ports[*].hostPort (other than 0)."""
from ..framework import Finding, as_int
from ..pods import items

ID, LEVEL, POLICY = "hostPorts", "baseline", "pss-host-ports"
DESCRIPTION = "Host ports are not allowed (Pod Security baseline)."


def check(pod):
    for c in pod.containers():
        for port in items(c.spec.get("ports")):
            host_port = port.get("hostPort")
            if host_port not in (None, 0):
                yield Finding(c.subject, f"ports[].hostPort={as_int(host_port)} is not allowed")
