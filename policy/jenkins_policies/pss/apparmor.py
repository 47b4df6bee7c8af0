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
    annotations = pod.annotations
    # Only the AppArmor annotations' values are read: another annotation unknown until apply
    # says nothing about AppArmor.
    for key in sorted(k for k in annotations if k.startswith(ANNOTATION_PREFIX)):
        value = annotations[key]
        if not allowed_annotation(value):
            yield Finding("", f'{pod.meta_path}.annotations["{key}"]="{value}" is not allowed')
