"""baseline/appArmorProfile: no Unconfined (or other) AppArmor profile, by field or annotation."""
from ..framework import Finding, profile_findings

ID, LEVEL, POLICY = "appArmorProfile", "baseline", "pss-apparmor"
DESCRIPTION = "Overriding or disabling the default AppArmor profile is not allowed (Pod Security baseline)."

VALID_TYPES = frozenset({"RuntimeDefault", "Localhost"})
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def allowed_annotation(value):
    return not value or value == "runtime/default" or str(value).startswith("localhost/")


def check(pod):
    yield from profile_findings(pod, "appArmorProfile", VALID_TYPES)
    for key in sorted(pod.annotations):
        value = pod.annotations[key]
        if key.startswith(ANNOTATION_PREFIX) and not allowed_annotation(value):
            yield Finding("", f'{pod.meta_path}.annotations["{key}"]="{value}" is not allowed')
