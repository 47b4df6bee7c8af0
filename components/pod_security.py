"""Security contexts as data: the restricted Pod Security profile and the one privileged exception."""
from __future__ import annotations

from .defaults import JENKINS_UID


def restricted_pod_context(uid: int = JENKINS_UID, supplemental_groups: tuple[int, ...] = ()) -> dict:
    context = {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if supplemental_groups:
        context["supplementalGroups"] = list(supplemental_groups)
    return context


def restricted_container_context(read_only_root: bool = True) -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def dind_container_context() -> dict:
    """Docker-in-Docker needs a privileged container: the only place this program sets it.

    dockerd runs as root:root, as in the docker:*-dind image (no USER in
    docker-library/docker @3289af8 29/dind/Dockerfile nor 29/cli/Dockerfile): the group is reset too, so a
    pod-level runAsGroup (1000 in swarm-dind pods) never becomes the group of the files dockerd creates.
    """
    return {"privileged": True, "runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False}
