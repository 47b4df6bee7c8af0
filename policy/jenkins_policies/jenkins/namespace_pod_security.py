"""Stack policy: every namespace that runs pods (including the Kubernetes-plugin agent pods a JCasC
ConfigMap describes) carries a Pod Security Admission enforce label no weaker than `level`,
unless an allow entry grants that namespace a weaker level.

Pods in a namespace the stack does not declare are reported too (`requireDeclared`): nothing in
the stack vouches for that namespace's admission level.

In a preview a namespace name or label can be unknown. Each namespace is decided on its own:
what is known is reported, and what an unknown keeps undecided is left to the engine's
"can't run policy ... during preview" advisory (raised after the reports), never silently passed.
"""
from __future__ import annotations

from fnmatch import fnmatchcase

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, StackValidationPolicy

from ..framework import STRING_LIST
from ..pods import Unknown, agent_pods, kind_of, peek, running_namespace

POLICY = "jenkins-namespace-pod-security"
DESCRIPTION = "Namespaces that run pods must enforce a Pod Security level no weaker than required."
ENFORCE = "pod-security.kubernetes.io/enforce"
RANK = {"privileged": 0, "baseline": 1, "restricted": 2}
LEVEL = {"type": "string", "enum": list(RANK)}


def floor_for(namespace, config):
    """The weakest enforce level this namespace may have, and why."""
    floor, reason = config.get("level", "restricted"), ""
    for entry in config.get("allow", []):
        if any(fnmatchcase(namespace, p) for p in entry.get("namespaces", [])):
            if RANK[entry["level"]] < RANK[floor]:
                floor, reason = entry["level"], entry.get("reason", "")
    return floor, reason


def validate(args, report):
    config = args.get_config()
    declared = {}     # namespace name -> (urn, enforce level, possibly Unknown)
    unnamed = None    # a declared Namespace whose name is unknown
    running = {}      # namespace name -> first pod-carrying resource (urn, ref)
    undecided = None  # the first unknown that kept a namespace from being decided
    for r in args.resources:
        if kind_of(r.resource_type) == "Namespace":
            name = peek(r.props, "metadata", "name") or r.name
            if isinstance(name, Unknown):
                unnamed = unnamed or name
                continue
            declared[name] = (r.urn, peek(r.props, "metadata", "labels", ENFORCE))
            continue
        located = running_namespace(r.resource_type, r.props, r.name)
        if located is None:
            for pod in agent_pods(r.resource_type, r.props, r.name):
                running.setdefault(pod.namespace, (r.urn, pod.ref))
            continue
        namespace, ref = located
        if isinstance(namespace, Unknown):
            undecided = undecided or namespace.error  # which namespace's label applies is unknown
            continue
        running.setdefault(namespace, (r.urn, ref))
    for namespace, (pod_urn, pod_ref) in sorted(running.items()):
        floor, _ = floor_for(namespace, config)
        if namespace not in declared:
            if not config.get("requireDeclared", True):
                continue
            if unnamed is not None:  # it may be the Namespace whose name is unknown
                undecided = undecided or unnamed.error
                continue
            report(f'Namespace {namespace}: runs pods ({pod_ref}) but is not declared in the stack, '
                   f'so its {ENFORCE} label cannot be checked (needs >= {floor}) ({POLICY})', pod_urn)
            continue
        urn, level = declared[namespace]
        if isinstance(level, Unknown):
            undecided = undecided or level.error
        elif level not in RANK:
            report(f'Namespace {namespace}: metadata.labels["{ENFORCE}"] is missing or invalid '
                   f'({level!r}); it must be at least "{floor}" ({POLICY})', urn)
        elif RANK[level] < RANK[floor]:
            report(f'Namespace {namespace}: metadata.labels["{ENFORCE}"]="{level}" is weaker than '
                   f'the required "{floor}" ({POLICY})', urn)
    if undecided is not None:
        raise undecided


policy = StackValidationPolicy(
    name=POLICY,
    description=DESCRIPTION,
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "level": {**LEVEL, "default": "restricted",
                  "description": "the weakest enforce level a namespace with pods may have"},
        "requireDeclared": {"type": "boolean", "default": True,
                            "description": "report pods in namespaces the stack does not declare"},
        "allow": {
            "type": "array", "default": [],
            "description": "namespaces granted a weaker enforce level",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["namespaces", "level"],
                "properties": {
                    "namespaces": {**STRING_LIST, "minItems": 1,
                                   "description": "namespace names or globs (fnmatch)"},
                    "level": LEVEL,
                    "reason": {"type": "string"},
                },
            },
        },
    }),
    tags=["jenkins", "pod-security"],
)
