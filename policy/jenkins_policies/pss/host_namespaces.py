"""baseline/hostNamespaces: spec.hostNetwork, hostPID, hostIPC must be unset or false."""
from ..framework import Finding

ID, LEVEL, POLICY = "hostNamespaces", "baseline", "pss-host-namespaces"
DESCRIPTION = "Sharing the host network, PID or IPC namespace is not allowed (Pod Security baseline)."


def check(pod):
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(field) is True:
            yield Finding("", f"{pod.spec_path}.{field}=true is not allowed")
