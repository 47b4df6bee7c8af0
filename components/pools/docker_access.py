"""How the controller pod reaches the Docker daemon of the node it runs on (pools controller, docker-cloud).

Two ways, chosen by `docker.access` in the pool's config:

- `socket` (default): the node's /var/run/docker.sock as a hostPath of `type: Socket`, so a node
  without Docker (containerd only) fails the pod at once instead of mounting an empty directory;
  the socket's group id goes into the pod's supplementalGroups (the controller stays uid 1000).
  The pod gets label jenkins-k8s.io/docker-socket=true and the controller namespace has to
  enforce Pod Security `privileged` (warn/audit stay `restricted`): whoever holds the socket is
  root on the node.
- `tcp`: DOCKER_HOST=tcp://$(HOST_IP):2375 with HOST_IP from the downward API (status.hostIP).
  No host path, the namespace stays restricted, but the daemon must listen on the node's 2375
  without TLS: anyone who reaches that port is root on the node, and Docker Engine 27 and newer
  refuse to start that way, so `pulumi preview` warns. Only for lab clusters with older engines.

Everything returned is a ControllerNeeds fragment (volumes, mounts, env, init containers).
Volume and env entries are identical whichever pool asks, so two pools that both use the node's
daemon ask for the same things.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field

from .. import defaults, labels
from ..config_types import Model
from ..pod_security import restricted_container_context
from .base import ControllerNeeds

SOCKET_PATH = "/var/run/docker.sock"
SOCKET_VOLUME = "docker-sock"
CLI_VOLUME = "docker-cli"
CLI_DIR = "/opt/docker-cli"
# Where the pinned docker:*-cli image keeps the CLI and its plugins: buildx (so `docker build` uses
# BuildKit instead of the deprecated legacy builder) and compose (docker-library/docker @3289af8
# 29/cli/Dockerfile:99 and :145; the CLI itself is the static build, :28-58).
IMAGE_DOCKER = "/usr/local/bin/docker"
IMAGE_PLUGINS = ("/usr/local/libexec/docker/cli-plugins/docker-buildx",
                 "/usr/local/libexec/docker/cli-plugins/docker-compose")
# One of the directories the CLI always searches for plugins, whatever DOCKER_CONFIG says
# (docker/cli @f738c98 cli-plugins/manager/manager_unix.go:15-20). The copied files are mounted there
# read-only; the CLI only picks `docker-*` files (manager.go addPluginCandidatesFromDir), so the
# `docker` binary beside them is ignored.
PLUGIN_DIR = "/usr/local/libexec/docker/cli-plugins"
# The jenkins image's PATH (JAVA_HOME/bin first), with the copied docker CLI in front. Image env
# cannot be referenced from a pod's env, so it is spelled out.
CONTROLLER_PATH = (f"{CLI_DIR}:/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:"
                   "/usr/sbin:/usr/bin:/sbin:/bin")


class NodeDockerConfig(Model):
    """The node's Docker daemon, as seen from the controller pod."""

    access: Literal["socket", "tcp"] = "socket"
    """`socket` mounts the node's `/var/run/docker.sock` (hostPath of type Socket); `tcp` talks to the daemon on the node's IP."""
    # Group owning the socket on the nodes (`stat -c %g /var/run/docker.sock`); 999 on most distros.
    socket_group: Annotated[int, Field(ge=1, le=2**31 - 1)] = 999
    """Group id owning the Docker socket on the nodes (`stat -c %g /var/run/docker.sock`), added to the controller's supplemental groups."""
    tcp_port: Annotated[int, Field(ge=1, le=65535)] = defaults.DOCKER_HOST_TCP_PORT
    """Port of the node daemon when `access` is `tcp`."""

    def host_access_reason(self, pool_name: str) -> Optional[str]:
        if self.access == "socket":
            return (f"pool '{pool_name}' mounts the node's Docker socket ({SOCKET_PATH}) into the "
                    "controller pod, which is root on that node")
        return None

    def preview_warning(self, pool_name: str) -> Optional[str]:
        """tcp mode needs a daemon on plain TCP, which current Docker Engine refuses to run: Engine
        27.0 and later fail to start with a non-local TCP listener and TLS turned off (docker/cli
        @90559a6 docs/deprecated.md, "Unauthenticated TCP connections")."""
        if self.access == "tcp":
            return (f"pool '{pool_name}': docker.access tcp needs the node's Docker daemon listening on "
                    f"plain TCP {self.tcp_port}, which Docker Engine 27 and newer refuse to start with; "
                    "it works only with older engines (use access: socket or a DinD pool)")
        return None

    def plugin_uri(self) -> str:
        """The daemon's address for the Docker plugin; JCasC resolves ${HOST_IP} from the pod's env."""
        if self.access == "socket":
            return f"unix://{SOCKET_PATH}"
        return "tcp://${HOST_IP}:" + str(self.tcp_port)

    def cli_docker_host(self) -> str:
        """DOCKER_HOST for the CLI in the controller container ($(HOST_IP) is expanded by the kubelet)."""
        if self.access == "socket":
            return f"unix://{SOCKET_PATH}"
        return f"tcp://$(HOST_IP):{self.tcp_port}"


HOST_IP_ENV = {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}


def daemon_access(config: NodeDockerConfig) -> ControllerNeeds:
    """Volumes, mounts, env, supplemental groups and pod labels for talking to the node's daemon.

    HOST_IP is always set: the Docker plugin's ssh connector needs the node's address to reach
    the port an agent container publishes there, and in tcp mode it is the daemon's address.
    """
    if config.access == "socket":
        return ControllerNeeds(
            volumes=({"name": SOCKET_VOLUME, "hostPath": {"path": SOCKET_PATH, "type": "Socket"}},),
            volume_mounts=({"name": SOCKET_VOLUME, "mountPath": SOCKET_PATH},),
            env=(HOST_IP_ENV,),
            supplemental_groups=(config.socket_group,),
            pod_labels={labels.DOCKER_SOCKET: "true"},
        )
    return ControllerNeeds(env=(HOST_IP_ENV,))


def copy_cli_container(name: str, volume: str = CLI_VOLUME) -> dict:
    """Copies the docker CLI and its buildx and compose plugins out of the pinned docker:*-cli image
    into `volume` (an emptyDir); restricted like any helper."""
    return {
        "name": name,
        "image": defaults.DOCKER_CLI_IMAGE,
        "command": ["cp", IMAGE_DOCKER, *IMAGE_PLUGINS, f"{CLI_DIR}/"],
        "resources": defaults.HELPER_RESOURCES.as_kubernetes(),
        "securityContext": restricted_container_context(),
        "volumeMounts": [{"name": volume, "mountPath": CLI_DIR}],
    }


def cli_mounts(volume: str = CLI_VOLUME) -> tuple[dict, ...]:
    """The copied files, read-only: on PATH (CLI_DIR) and in the CLI's plugin directory."""
    return ({"name": volume, "mountPath": CLI_DIR, "readOnly": True},
            {"name": volume, "mountPath": PLUGIN_DIR, "readOnly": True})


def cli_for_controller(config: NodeDockerConfig) -> ControllerNeeds:
    """The docker CLI (with buildx and compose) in the controller container: copied from a pinned
    docker:*-cli image by an init container into an emptyDir that goes first on PATH and into the
    CLI's plugin directory; DOCKER_HOST points at the daemon."""
    return ControllerNeeds(
        volumes=({"name": CLI_VOLUME, "emptyDir": {}},),
        volume_mounts=cli_mounts(),
        init_containers=(copy_cli_container("copy-docker-cli"),),
        env=(
            {"name": "PATH", "value": CONTROLLER_PATH},
            {"name": "DOCKER_HOST", "value": config.cli_docker_host()},
        ),
    )
