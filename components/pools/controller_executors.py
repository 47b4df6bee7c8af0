"""Builds on the controller itself: executors and labels, optionally with the node's Docker daemon.

The seed's "onmaster" setup. Only for small installations: builds share the controller's JVM host,
its PVC and (with Docker) the node's daemon.

Docker (`docker:` in config, on by default, `docker: null` turns it off): the CLI is copied from
a pinned docker:*-cli image by an init container into an emptyDir on PATH, so the controller
container keeps a read-only root filesystem, drops ALL capabilities and runs as uid 1000. The
daemon is the node's, through its socket or its TCP port (see docker_access.py).

Docker Pipeline's `docker.image(...).inside { }` bind-mounts the workspace into the build container
*by path*, and the path is resolved by the daemon on the node's filesystem. The workspace here is
JENKINS_HOME/workspace on the controller's PVC, mounted into the pod by the kubelet at a path the
node's daemon does not see as /var/jenkins_home. So `inside` (and any `docker run -v $WORKSPACE:...`)
gets an empty directory from the node instead of the checkout. The program deliberately mounts no
hostPath for the workspace (a hostPath JENKINS_HOME would defeat the PVC and need a root chown);
plain `docker build`/`docker push` (build context sent over the API) work. For `inside`, use a
swarm-dind pool (its daemon shares the workspace at the same path) or docker-cloud-dind; kubernetes
pools have no Docker daemon. See docs/topologies/controller.md.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

import pulumi
from pydantic import Field

from ..config_types import Executors, JenkinsLabel
from . import docker_access
from .base import AgentPool, ControllerNeeds, PoolConfig, PoolContext, combine
from .docker_access import NodeDockerConfig

TYPE = "controller"


class ControllerPoolConfig(PoolConfig):
    type: Literal["controller"]
    """`controller`: builds run on executors of the controller itself."""
    UNPLACEABLE = "builds run in the controller pod: place it with controller.scheduling"
    executors: Executors = 2
    """Number of executors on the controller (1-64)."""
    labels: Annotated[tuple[JenkinsLabel, ...], Field(min_length=1)]
    """Jenkins labels of the controller node (at least one)."""
    # The node's Docker daemon for builds on the controller; null = no Docker.
    docker: Optional[NodeDockerConfig] = NodeDockerConfig()
    """The node's Docker daemon for builds on the controller; `null` gives builds no Docker."""

    def controller_host_access(self) -> Optional[str]:
        return self.docker.host_access_reason(self.name) if self.docker else None


def controller_needs(config: ControllerPoolConfig) -> ControllerNeeds:
    """Pure: what the controller pod needs to run this pool's builds."""
    if config.docker is None:
        return ControllerNeeds(executors=config.executors, labels=config.labels)
    return combine(
        docker_access.daemon_access(config.docker),
        docker_access.cli_for_controller(config.docker),
        plugins=("docker-workflow",),
        executors=config.executors,
        labels=config.labels,
        host_access_reason=config.controller_host_access(),
    )


class ControllerExecutorsPool(AgentPool):
    """Registers no workloads of its own: everything it needs lives in the controller pod."""

    TYPE = TYPE

    def __init__(self, config: ControllerPoolConfig, context: PoolContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(config, context, opts)
        self.namespace = context.endpoints.namespace
        self.agent_labels = tuple(config.labels)
        self.needs = controller_needs(config)
        if config.docker and (warning := config.docker.preview_warning(config.name)):
            pulumi.log.warn(warning, resource=self)
        self.finish()
