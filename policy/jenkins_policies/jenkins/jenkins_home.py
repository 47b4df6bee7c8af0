"""Stack policy: the JENKINS_HOME PersistentVolumeClaim is `protect`ed.

The Analyzer protocol carries the `protect` resource option but not `retainOnDelete`
(pulumi/pulumi proto/pulumi/analyzer.proto:137-154 AnalyzerResourceOptions, and
pkg/resource/plugin/analyzer_plugin.go:737-764, @1b5949891b3c), so the pack can check only
protect (the program sets both; retainOnDelete is covered by the program's own tests). A PVC is JENKINS_HOME when its labels match `selector` (matchLabels semantics).
"""
from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationPolicy

from ..pods import Unknown, kind_of, mapping, peek, resource_name, resource_namespace

POLICY = "jenkins-home-protected"
DESCRIPTION = "The JENKINS_HOME PersistentVolumeClaim must be protected against deletion."
DEFAULT_SELECTOR = {"app.kubernetes.io/component": "jenkins-home"}


def validate(args, report):
    config = args.get_config()
    if not config.get("requireProtect", True):
        return
    selector = mapping(config.get("selector") or DEFAULT_SELECTOR)
    undecided = None
    for r in args.resources:
        # protect is always known: only claims that are not protected need their labels read,
        # and an unknown label leaves just that claim undecided, not the whole stack.
        if kind_of(r.resource_type) != "PersistentVolumeClaim" or r.opts.protect:
            continue
        labels = [peek(r.props, "metadata", "labels", k) for k in selector]
        if any(not isinstance(label, Unknown) and label != wanted
               for label, wanted in zip(labels, selector.values())):
            continue
        unknown = next((label for label in labels if isinstance(label, Unknown)), None)
        if unknown is not None:
            undecided = undecided or unknown.error
            continue
        ref = f"PersistentVolumeClaim {resource_namespace(r.props)}/{resource_name(r.props, r.name)}"
        report(f"{ref}: JENKINS_HOME must be created with protect=True "
               f"(and retainOnDelete=True, which policies cannot see) ({POLICY})", r.urn)
    if undecided is not None:  # reported next to the findings above as "can't run ... during preview"
        raise undecided


policy = StackValidationPolicy(
    name=POLICY,
    description=DESCRIPTION,
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "requireProtect": {"type": "boolean", "default": True,
                           "description": "require the protect option on JENKINS_HOME"},
        "selector": {"type": "object", "minProperties": 1, "default": DEFAULT_SELECTOR,
                     "additionalProperties": {"type": "string"},
                     "description": "labels (all of them) that identify the JENKINS_HOME PVC"},
    }),
    tags=["jenkins", "data"],
)
