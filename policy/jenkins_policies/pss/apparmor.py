"""baseline/appArmorProfile: no Unconfined (or other) AppArmor profile, by field or annotation."""
from ..framework import Finding
from ..pods import mapping

ID, LEVEL, POLICY = "appArmorProfile", "baseline", "pss-apparmor"
DESCRIPTION = "Overriding or disabling the default AppArmor profile is not allowed (Pod Security baseline)."

VALID_TYPES = frozenset({"RuntimeDefault", "Localhost"})
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def bad_type(security_context):
    profile = security_context.get("appArmorProfile")
    if profile is None:
        return None
    kind = mapping(profile).get("type") or ""
    return None if kind in VALID_TYPES else kind


def allowed_annotation(value):
    return not value or value == "runtime/default" or str(value).startswith("localhost/")


def check(pod):
    kind = bad_type(pod.security_context)
    if kind is not None:
        yield Finding("", f'{pod.spec_path}.securityContext.appArmorProfile.type="{kind}" is not allowed')
    for c in pod.containers():
        kind = bad_type(c.security_context)
        if kind is not None:
            yield Finding(c.subject, f'securityContext.appArmorProfile.type="{kind}" is not allowed')
    for key in sorted(pod.annotations):
        value = pod.annotations[key]
        if key.startswith(ANNOTATION_PREFIX) and not allowed_annotation(value):
            yield Finding("", f'{pod.meta_path}.annotations["{key}"]="{value}" is not allowed')
