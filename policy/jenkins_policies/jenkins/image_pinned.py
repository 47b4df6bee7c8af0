"""Every container image is pinned: a tag other than `latest`, or a digest."""
from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from ..framework import Finding, evaluate, report_findings
from ..pods import locate

POLICY = "jenkins-image-pinned"
DESCRIPTION = "Container images must be pinned to a tag other than latest, or to a digest."


def parse(image: str) -> tuple[str, str, str]:
    """`registry:5000/team/app:1.2@sha256:...` -> (repository, tag, digest)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:], digest
    return name, "", digest


def problem(image, require_digest: bool) -> str:
    if not isinstance(image, str) or not image:
        return "has no image"
    _, tag, digest = parse(image)
    if require_digest and not digest:
        return f'image "{image}" is not pinned by digest (@sha256:...)'
    if digest:
        return ""
    if not tag:
        return f'image "{image}" has no tag (it means :latest)'
    if tag == "latest":
        return f'image "{image}" uses the floating tag latest'
    return ""


def validate(args, report):
    pod = locate(args.resource_type, args.props, args.name)
    if pod is None:
        return
    require_digest = bool(args.get_config().get("requireDigest", False))

    def run(view):
        for c in view.containers():
            text = problem(c.spec.get("image"), require_digest)
            if text:
                yield Finding(c.subject, text)

    findings, undecided = evaluate(run, pod)
    report_findings(pod, findings, [], lambda entry, finding: True, POLICY, report, undecided)


policy = ResourceValidationPolicy(
    name=POLICY,
    description=DESCRIPTION,
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "requireDigest": {"type": "boolean", "default": False,
                          "description": "require @sha256 digests, not just tags"},
    }),
    tags=["jenkins", "supply-chain"],
)
