"""No hostPath to the host's Docker socket (or a directory holding it), unless allow-listed.

Mounting the socket hands the pod root on the node; dev may grant it to the controller pod
labelled jenkins-k8s.io/docker-socket=true, nothing else may have it.
"""
from __future__ import annotations

import posixpath
from fnmatch import fnmatchcase

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from ..framework import STRING_LIST, Finding, allow_schema, evaluate, matching_entries, report_findings
from ..pods import get, locate, peek

POLICY = "jenkins-no-docker-socket"
DESCRIPTION = "Pods must not mount the host's Docker socket through a hostPath volume."
DEFAULT_PATHS = ["/var/run/docker.sock", "/run/docker.sock", "*/docker.sock"]


def socket_mounts(pod, patterns):
    literal = [p for p in patterns if not any(ch in p for ch in "*?[")]
    for volume in pod.volumes():
        raw = get(volume, "hostPath", "path")
        if not isinstance(raw, str) or not raw:
            continue
        path = posixpath.normpath(raw)
        hit = any(fnmatchcase(path, p) for p in patterns)
        # A parent directory (/var/run, /run, /) exposes the socket just the same.
        parent = any(p == path or p.startswith(path.rstrip("/") + "/") for p in literal)
        if hit or parent:
            yield Finding("", f'{pod.spec_path}.volumes["{peek(volume, "name")}"].hostPath '
                              f'(path "{raw}") exposes the Docker socket')


def validate(args, report):
    pod = locate(args.resource_type, args.props, args.name)
    if pod is None:
        return
    config = args.get_config()
    patterns = list(config.get("socketPaths") or DEFAULT_PATHS)
    findings, undecided = evaluate(lambda view: socket_mounts(view, patterns), pod)
    entries = matching_entries(config, pod) if findings else []
    report_findings(pod, findings, entries, lambda entry, finding: True, POLICY, report, undecided)


policy = ResourceValidationPolicy(
    name=POLICY,
    description=DESCRIPTION,
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "socketPaths": {**STRING_LIST, "minItems": 1, "default": DEFAULT_PATHS,
                        "description": "host paths (fnmatch globs) that are a Docker socket"},
        "allow": allow_schema("pods that may mount the Docker socket"),
    }),
    tags=["jenkins", "docker"],
)
