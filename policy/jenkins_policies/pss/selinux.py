"""baseline/seLinuxOptions: only container SELinux types; user and role must not be set."""
from ..framework import Finding
from ..pods import mapping

ID, LEVEL, POLICY = "seLinuxOptions", "baseline", "pss-selinux"
DESCRIPTION = "Custom SELinux users, roles or types are not allowed (Pod Security baseline)."

ALLOWED_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})


def problems(security_context):
    opts = security_context.get("seLinuxOptions")
    if opts is None:
        return []
    opts = mapping(opts)
    found = []
    kind = opts.get("type") or ""
    if kind not in ALLOWED_TYPES:
        found.append(f'type="{kind}"')
    for field in ("user", "role"):
        if opts.get(field):
            found.append(f'{field}="{opts.get(field)}"')
    return found


def check(pod):
    for problem in problems(pod.security_context):
        yield Finding("", f"{pod.spec_path}.securityContext.seLinuxOptions.{problem} is not allowed")
    for c in pod.containers():
        for problem in problems(c.security_context):
            yield Finding(c.subject, f"securityContext.seLinuxOptions.{problem} is not allowed")
