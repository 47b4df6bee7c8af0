"""Glue between small check functions and pulumi_policy: allow-lists, messages, schemas."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from fnmatch import fnmatchcase
from types import ModuleType
from typing import Any, NamedTuple, Optional, Union

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from pulumi_policy.proxy import UnknownValueError

from .pods import Pod, Unknown, agent_pods, items, locate, mapping


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


Match = Union[bool, UnknownValueError]   # an UnknownValueError: the match depends on an unknown


def entry_matches(entry: Mapping, pod: Pod) -> Match:
    """Does the allow entry cover this pod? False as soon as one known criterion fails; else the
    error of an unknown namespace or label it needs; else True."""
    undecided: Optional[UnknownValueError] = None
    namespaces = items(entry.get("namespaces"))
    if namespaces:
        if isinstance(pod.namespace, Unknown):
            undecided = pod.namespace.error
        elif not any(fnmatchcase(pod.namespace, str(p)) for p in namespaces):
            return False
    for key, wanted in mapping(entry.get("podLabels")).items():
        actual = pod.label(key)
        if isinstance(actual, Unknown):
            undecided = undecided or actual.error
        elif actual != wanted:
            return False
    return undecided or True


def container_name(subject: str) -> Optional[str]:
    """'container "buildkit"' -> 'buildkit'; '' (a pod-level finding) -> None."""
    return subject.split('"')[1] if subject.count('"') >= 2 else None


def covers_container(entry: Mapping, finding: Finding) -> bool:
    """An entry with `containers` exempts only findings on those containers, never pod-level ones."""
    limited = items(entry.get("containers"))
    return not limited or container_name(finding.subject) in limited


def matching_entries(config: Mapping, pod: Pod) -> list[tuple[Mapping, Match]]:
    """The allow entries that cover the pod or might (their match is an UnknownValueError)."""
    found = [(e, entry_matches(e, pod)) for e in items(config.get("allow")) if isinstance(e, Mapping)]
    return [(e, match) for e, match in found if match is not False]


def exempt(entries: list[tuple[Mapping, Match]], covers=lambda entry: True) -> Match:
    """True if a covering entry matches, an UnknownValueError if only unknowns stand between the
    pod and an exemption, else False."""
    undecided = None
    for entry, match in entries:
        if not covers(entry):
            continue
        if match is True:
            return True
        undecided = undecided or match
    return undecided or False


def evaluate(run: Callable[[Pod], Iterable[Finding]], pod: Pod) -> tuple[list[Finding], Optional[UnknownValueError]]:
    """The findings of `run` on the pod, and the first unknown that kept it from deciding.

    When an unknown stops the run, the pod is checked again one part at a time (pod-level fields,
    then each container alone), so an unknown in one container neither hides what is known about
    the others nor turns the whole check into "can't run during preview"."""
    findings: list[Finding] = []
    try:
        for finding in run(pod):
            findings.append(finding)
        return findings, None
    except UnknownValueError as e:
        first = e
    views, undecided = pod.views()
    for view in views:
        try:
            for finding in run(view):
                if finding not in findings:
                    findings.append(finding)
        except UnknownValueError as e:
            undecided = undecided or e
    return findings, undecided or first


def report_findings(pod: Pod, findings: Iterable[Finding], entries, covers, suffix: str,
                    report: ReportViolation, undecided: Optional[UnknownValueError] = None) -> None:
    """Report every finding no allow entry exempts, then raise what stayed undecided: the engine
    turns that into one advisory "can't run policy ... during preview" next to the mandatory
    violations already reported (pulumi-policy v1.21.0 policy.py:1005-1022)."""
    for finding in findings:
        verdict = exempt(entries, lambda entry: covers(entry, finding))
        if verdict is True:
            continue
        if isinstance(verdict, UnknownValueError):
            undecided = undecided or verdict
            continue
        report(message(pod, finding, suffix), None)
    if undecided is not None:
        raise undecided


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
    extra["containers"] = {**STRING_LIST, "minItems": 1,
                           "description": "container names: the entry exempts only these containers"}
    by_tag = _covers_by_tag(tag_option[0]) if tag_option else (lambda entry, finding: True)
    run = check.check

    def covers(entry: Mapping, finding: Finding) -> bool:
        return by_tag(entry, finding) and covers_container(entry, finding)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        pod = locate(args.resource_type, args.props, args.name)
        # A resource carries one pod, or (a JCasC ConfigMap) the plain, known agent pod templates.
        for pod in [pod] if pod is not None else agent_pods(args.resource_type, args.props, args.name):
            findings, undecided = evaluate(run, pod)
            entries = matching_entries(args.get_config(), pod) if findings else []
            report_findings(pod, findings, entries, covers, suffix, report, undecided)

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
