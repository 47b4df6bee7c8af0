"""Glue between small check functions and pulumi_policy: allow-lists, messages, schemas."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase
from types import ModuleType
from typing import Any, NamedTuple, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .pods import Pod, items, locate, mapping


class Finding(NamedTuple):
    """One offending field. `subject` is '' (pod level) or e.g. 'container "dind"'."""
    subject: str
    text: str
    tag: str = ""   # optional detail an allow entry may narrow on (e.g. a volume type)


def profile_type(security_context: Mapping, field: str, valid: frozenset) -> Optional[str]:
    """The offending `<field>.type` (seccompProfile, appArmorProfile) when set outside `valid`."""
    profile = security_context.get(field)
    if profile is None:
        return None
    kind = mapping(profile).get("type") or ""
    return None if kind in valid else kind


def profile_findings(pod: Pod, field: str, valid: frozenset) -> Iterable[Finding]:
    """A finding for the pod and each container whose `<field>.type` is set outside `valid`."""
    kind = profile_type(pod.security_context, field, valid)
    if kind is not None:
        yield Finding("", f'{pod.spec_path}.securityContext.{field}.type="{kind}" is not allowed')
    for c in pod.containers():
        kind = profile_type(c.security_context, field, valid)
        if kind is not None:
            yield Finding(c.subject, f'securityContext.{field}.type="{kind}" is not allowed')


# ---- allow-list -------------------------------------------------------------------------

STRING_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}


def allow_schema(description: str, **extra_entry_properties: dict) -> dict:
    """Schema of an `allow` option: who is exempt, by namespace (glob) and/or pod labels."""
    entry_properties = {
        "namespaces": {**STRING_LIST, "minItems": 1,
                       "description": "namespace names or globs (fnmatch), e.g. jenkins-dev-*"},
        "podLabels": {"type": "object", "minProperties": 1,
                      "additionalProperties": {"type": "string"},
                      "description": "labels the pod (template) must carry, all of them"},
        "reason": {"type": "string", "description": "why this exemption exists (shown in docs)"},
        **extra_entry_properties,
    }
    return {
        "type": "array",
        "default": [],
        "description": description,
        "items": {
            "type": "object",
            "properties": entry_properties,
            "additionalProperties": False,
            "anyOf": [{"required": ["namespaces"]}, {"required": ["podLabels"]}],
        },
    }


def entry_matches(entry: Mapping, namespace: str, labels: Mapping) -> bool:
    namespaces = items(entry.get("namespaces"))
    if namespaces and not any(fnmatchcase(namespace, str(p)) for p in namespaces):
        return False
    wanted = mapping(entry.get("podLabels"))
    return all(labels.get(k) == v for k, v in wanted.items())


def matching_entries(config: Mapping, pod: Pod) -> list[Mapping]:
    return [e for e in items(config.get("allow")) if isinstance(e, Mapping)
            and entry_matches(e, pod.namespace, pod.labels)]


def message(pod: Pod, finding: Finding, suffix: str) -> str:
    where = f"{pod.ref} {finding.subject}" if finding.subject else pod.ref
    return f"{where}: {finding.text} ({suffix})"


# ---- Pod Security checks as policies ----------------------------------------------------

def _covers_by_tag(key: str) -> Callable[[Mapping, Finding], bool]:
    def covers(entry: Mapping, finding: Finding) -> bool:
        limited = items(entry.get(key))
        return not limited or finding.tag in limited
    return covers


def pss_policy(check: ModuleType) -> ResourceValidationPolicy:
    """Wrap a check module (ID, LEVEL, POLICY, DESCRIPTION, check(pod)) as a resource policy.

    A module may narrow allow entries with ALLOW_TAG = (option key, schema): an entry carrying
    that key only exempts findings whose tag is listed (restricted volumes: volumeTypes).
    """
    suffix = f"{check.LEVEL}: {check.ID}"
    tag_option: Optional[tuple[str, dict]] = getattr(check, "ALLOW_TAG", None)
    extra = {tag_option[0]: tag_option[1]} if tag_option else {}
    covers = _covers_by_tag(tag_option[0]) if tag_option else (lambda entry, finding: True)
    run = check.check

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        pod = locate(args.resource_type, args.props, args.name)
        if pod is None:
            return
        findings = list(run(pod))
        if not findings:
            return
        allowed = matching_entries(args.get_config(), pod)
        for finding in findings:
            if any(covers(entry, finding) for entry in allowed):
                continue
            report(message(pod, finding, suffix), None)

    return ResourceValidationPolicy(
        name=check.POLICY,
        description=check.DESCRIPTION,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties={
            "allow": allow_schema(
                f"pods exempt from the {check.LEVEL} Pod Security check {check.ID}", **extra),
        }),
        tags=["pod-security", check.LEVEL],
        url="https://kubernetes.io/docs/concepts/security/pod-security-standards/",
    )


def as_int(value: Any) -> Any:
    """Struct numbers arrive as floats; print 8080 rather than 8080.0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def quoted(values: Iterable[Any]) -> str:
    return ", ".join(f'"{v}"' for v in values)
