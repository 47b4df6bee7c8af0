"""Every container and init container (incl. native sidecars) declares requests and limits.

Ephemeral containers are skipped: Kubernetes forbids resources on them.
"""
from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from ..framework import Finding, evaluate, quoted, report_findings
from ..pods import get, locate, mapping

POLICY = "jenkins-container-resources"
DESCRIPTION = "Containers must declare resource requests and limits."
RESOURCE_NAMES = {"type": "array", "uniqueItems": True,
                  "items": {"type": "string", "enum": ["cpu", "memory", "ephemeral-storage"]}}


def validate(args, report):
    pod = locate(args.resource_type, args.props, args.name)
    if pod is None:
        return
    config = args.get_config()
    wanted = {"requests": list(config.get("requests", ["cpu", "memory"])),
              "limits": list(config.get("limits", ["memory"]))}

    def run(view):
        for c in view.containers():
            if c.kind == "ephemeralContainer":
                continue
            for section, names in wanted.items():
                declared = mapping(get(c.spec, "resources", section))
                missing = [n for n in names if declared.get(n) in (None, "")]
                if missing:
                    yield Finding(c.subject, f"resources.{section} must set {quoted(missing)}")

    findings, undecided = evaluate(run, pod)
    report_findings(pod, findings, [], lambda entry, finding: True, POLICY, report, undecided)


policy = ResourceValidationPolicy(
    name=POLICY,
    description=DESCRIPTION,
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "requests": {**RESOURCE_NAMES, "default": ["cpu", "memory"],
                     "description": "resources every container must request"},
        # Memory limits stop one build from taking the node; CPU limits only throttle the JVM.
        "limits": {**RESOURCE_NAMES, "default": ["memory"],
                   "description": "resources every container must limit"},
    }),
    tags=["jenkins", "reliability"],
)
