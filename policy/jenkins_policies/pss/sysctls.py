"""baseline/sysctls: only the namespaced, node-isolated "safe" sysctls (PSA v1.37 list)."""
from ..framework import Finding
from ..pods import items

ID, LEVEL, POLICY = "sysctls", "baseline", "pss-sysctls"
DESCRIPTION = "Only safe sysctls are allowed (Pod Security baseline)."

SAFE = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",                                    # 1.27
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",             # 1.29
    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",                              # 1.32
    "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat",    # 1.37
})


def check(pod):
    for sysctl in items(pod.security_context.get("sysctls")):
        name = sysctl.get("name")
        if name not in SAFE:
            yield Finding("", f'{pod.spec_path}.securityContext.sysctls "{name}" is not allowed')
