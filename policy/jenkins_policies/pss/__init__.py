"""Pod Security Standards checks, one module per PSA check (kubernetes/pod-security-admission
policy/check_*.go, policy version v1.37). Each module has ID (the PSA check id), LEVEL, POLICY
(the policy name used in --policy-pack-config) and check(pod) yielding Findings."""
from . import (
    allow_privilege_escalation, apparmor, capabilities_baseline, capabilities_restricted,
    host_namespaces, host_path_volumes, host_ports, host_probes, privileged, proc_mount,
    proc_mount_restricted, restricted_volumes, run_as_non_root, run_as_user, seccomp_baseline,
    seccomp_restricted, selinux, sysctls, windows_host_process,
)

BASELINE = (
    privileged, host_namespaces, host_path_volumes, host_ports, capabilities_baseline,
    seccomp_baseline, apparmor, selinux, proc_mount, sysctls, windows_host_process, host_probes,
)
RESTRICTED = (
    restricted_volumes, allow_privilege_escalation, capabilities_restricted, proc_mount_restricted,
    run_as_non_root, run_as_user, seccomp_restricted,
)
# At the restricted level PSA replaces these baseline checks with their stricter restricted
# versions (OverrideCheckIDs): restricted = RESTRICTED + BASELINE minus OVERRIDDEN.
OVERRIDDEN = (capabilities_baseline, seccomp_baseline, host_path_volumes, proc_mount)
ALL = BASELINE + RESTRICTED
