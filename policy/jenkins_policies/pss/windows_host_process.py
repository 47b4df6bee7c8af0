"""baseline/windowsHostProcess: windowsOptions.hostProcess must not be true (pod or container)."""
from ..framework import Finding
from ..pods import get

ID, LEVEL, POLICY = "windowsHostProcess", "baseline", "pss-windows-host-process"
DESCRIPTION = "Windows HostProcess containers are not allowed (Pod Security baseline)."


def check(pod):
    if get(pod.security_context, "windowsOptions", "hostProcess") is True:
        yield Finding("", f"{pod.spec_path}.securityContext.windowsOptions.hostProcess=true is not allowed")
    for c in pod.containers():
        if get(c.security_context, "windowsOptions", "hostProcess") is True:
            yield Finding(c.subject, "securityContext.windowsOptions.hostProcess=true is not allowed")
