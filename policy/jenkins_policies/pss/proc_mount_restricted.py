"""restricted/procMount_restricted: procMount must be Default even with hostUsers: false
(overrides baseline procMount)."""
from .proc_mount import non_default

ID, LEVEL, POLICY = "procMount_restricted", "restricted", "pss-proc-mount-restricted"
DESCRIPTION = "Unmasked /proc mounts are not allowed (Pod Security restricted)."


def check(pod):
    return non_default(pod)
