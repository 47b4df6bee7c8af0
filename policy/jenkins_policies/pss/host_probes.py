"""baseline/hostProbesAndHostLifecycle: probes and lifecycle handlers must not set `host`."""
from ..framework import Finding
from ..pods import get, mapping

ID, LEVEL, POLICY = "hostProbesAndHostLifecycle", "baseline", "pss-host-probes-lifecycle"
DESCRIPTION = "Probes and lifecycle handlers must not target another host (Pod Security baseline)."

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
HANDLERS = ("postStart", "preStop")
ACTIONS = ("httpGet", "tcpSocket")


def check(pod):
    for c in pod.containers():
        handlers = [(p, c.spec.get(p)) for p in PROBES]
        lifecycle = mapping(c.spec.get("lifecycle"))
        handlers += [(f"lifecycle.{h}", lifecycle.get(h)) for h in HANDLERS]
        for path, handler in handlers:
            for action in ACTIONS:
                host = get(handler, action, "host")
                if host:
                    yield Finding(c.subject, f'{path}.{action}.host="{host}" is not allowed')
