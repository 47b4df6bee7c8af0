"""Docker-plugin pool on the node's daemon: each build gets a fresh agent container beside the controller.

The seed's setup, without its hand-made SSH credentials: the `ssh` connector uses the plugin's
injectSSHKey (the key is derived from the controller's instance identity and written into the
container by the plugin), `attach` needs no network at all, `inbound` connects back over WebSocket.

The daemon is the one on the node the controller runs on (docker_access.py): the controller pod
mounts the socket (or uses the node's TCP port). Agent containers are not Kubernetes pods: the
scheduler, resource quotas, Pod Security and NetworkPolicies do not see them.

JCasC shapes follow jenkinsci/docker-plugin (DockerCloud, DockerAPI, DockerTemplate,
DockerTemplateBase, connectors `attach`, `ssh` + `injectSSHKey`, `jnlp`) and docker-commons
(DockerServerEndpoint `uri`/`credentialsId`). The builders here are shared with docker-cloud-dind.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

import pulumi
from pydantic import Field, model_validator

from .. import defaults
from ..config_types import DnsLabel, JenkinsLabel, Model, PinnedImage
from . import docker_access
from ..site import Site
from .base import AgentPool, ControllerNeeds, PoolConfig, PoolContext, combine
from .docker_access import NodeDockerConfig

TYPE = "docker-cloud"
REMOTE_FS = defaults.AGENT_WORKDIR

# Connector -> default image. `attach` execs java in a container kept waiting on /bin/sh, so the
# image must have no agent entrypoint (jenkins/agent); `inbound` runs jenkins/inbound-agent's
# entrypoint; `ssh` needs sshd (jenkins/ssh-agent).
DEFAULT_IMAGES = {
    "attach": defaults.AGENT_IMAGE,
    "inbound": defaults.INBOUND_AGENT_IMAGE,
    "ssh": defaults.SSH_AGENT_IMAGE,
}

# jenkins/ssh-agent removes its host keys at build time and its entrypoint (setup-sshd) creates
# them only when it starts sshd itself; the plugin's own injectSSHKey command would bypass that.
# setup-sshd treats a first argument starting with `ssh-` as a public key to authorise (this one is
# not a valid key, so it authorises nothing), then runs `ssh-keygen -A` and `sshd -D -e <rest>`.
# The rest is the plugin's own AuthorizedKeysCommand, which serves the key injectSSHKey writes.
SSH_AGENT_COMMAND = ("ssh-authorized-by-docker-plugin -p 22 "
                     "-o AuthorizedKeysCommand=/root/authorized_key -o AuthorizedKeysCommandUser=root")

# Inbound agents: WebSocket to the controller's HTTP port (no 50000 needed). `^${...}` keeps JCasC
# from resolving the plugin's own variables.
INBOUND_ARGUMENTS = "\n".join([
    "-url", "^${JENKINS_URL}", "-secret", "^${JNLP_SECRET}", "-name", "^${NODE_NAME}",
    "-webSocket", "-workDir", REMOTE_FS,
])


class DockerTemplateConfig(Model):
    name: DnsLabel
    """Template name, unique in the pool."""
    labels: Annotated[tuple[JenkinsLabel, ...], Field(min_length=1)]
    """Jenkins labels that select this template (at least one)."""
    connector: Literal["attach", "ssh", "inbound"] = "attach"
    """How the agent container connects: `attach` (the Docker API), `ssh` (an injected key per agent) or `inbound` (WebSocket to the controller)."""
    # Defaults to the pinned JDK 21 agent image that fits the connector.
    image: Optional[PinnedImage] = None
    """Agent image, pinned; unset uses the pinned JDK 21 agent image that fits the connector."""
    instance_cap: Annotated[int, Field(ge=1, le=1000)] = 5
    """Most agent containers of this template at once (1-1000)."""
    # Minutes a new agent container may wait idle for its first build before it is removed. It
    # never serves a second build: the plugin's DockerOnceRetentionStrategy removes the container
    # after its first task, and turns values below 1 into 10 (jenkinsci/docker-plugin
    # 1324.v2fb_b_df97fe1d, src/main/java/com/nirima/jenkins/plugins/docker/strategy/
    # DockerOnceRetentionStrategy.java:52, :99-102, :175, :192-215), so 0 is refused.
    idle_minutes: Annotated[int, Field(ge=1, le=1440)] = 10
    """Minutes a new agent container may wait idle for its first build before it is removed; each container serves one build."""
    memory_limit_mb: Annotated[int, Field(ge=64, le=1024 * 1024)] = 2048
    """Memory limit of each agent container, in MB (64 to 1048576)."""
    cpus: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?$")] = "1"
    """CPU limit of each agent container, as a number of CPUs (`1`, `0.5`)."""
    pull_strategy: Literal["PULL_ALWAYS", "PULL_LATEST", "PULL_NEVER"] = "PULL_LATEST"
    """When the Docker plugin pulls the image: `PULL_ALWAYS`, `PULL_LATEST` or `PULL_NEVER`."""

    @property
    def effective_image(self) -> str:
        return self.image or DEFAULT_IMAGES[self.connector]


def _unique_names(templates) -> None:
    names = [t.name for t in templates]
    if len(set(names)) != len(names):
        raise ValueError("template names must be unique")


class DockerCloudPoolConfig(PoolConfig):
    type: Literal["docker-cloud"]
    """`docker-cloud`: the Docker plugin starts agent containers on the node's Docker daemon."""
    UNPLACEABLE = ("docker-cloud agents are containers the node's Docker daemon starts, not pods: "
                   "Kubernetes does not place them (they run on the controller's node; place the "
                   "controller with controller.scheduling)")
    docker: NodeDockerConfig = NodeDockerConfig()
    """How the controller reaches the node's Docker daemon."""
    container_cap: Annotated[int, Field(ge=1, le=1000)] = 10
    """Most agent containers of this pool at once (1-1000)."""
    templates: Annotated[tuple[DockerTemplateConfig, ...], Field(min_length=1)]
    """Agent container templates (at least one)."""
    # Where inbound agents reach the controller. Containers on the node's daemon run outside any
    # pod and resolve names with the node's resolver, not the cluster's: the in-cluster Service
    # name cannot be assumed to resolve there, so inbound templates need this URL spelled out.
    inbound_url: Optional[Annotated[str, Field(pattern=r"^https?://[^\s]+/$")]] = None
    """Jenkins URL (ending in `/`) that `inbound` agents connect to; required when a template uses the `inbound` connector, since containers on the node's daemon cannot resolve in-cluster Service names."""

    @model_validator(mode="after")
    def _unique_templates(self) -> "DockerCloudPoolConfig":
        _unique_names(self.templates)
        inbound = [t.name for t in self.templates if t.connector == "inbound"]
        if inbound and self.inbound_url is None:
            raise ValueError(
                f"inboundUrl is required when a template uses connector inbound ({', '.join(inbound)}): "
                "containers on the node's daemon cannot resolve the controller's in-cluster Service name")
        return self

    def controller_host_access(self) -> Optional[str]:
        return self.docker.host_access_reason(self.name)


def connector_jcasc(template: DockerTemplateConfig, jenkins_url: str) -> dict:
    if template.connector == "attach":
        return {"attach": {"user": "jenkins"}}
    if template.connector == "ssh":
        return {"ssh": {"port": 22, "sshKeyStrategy": {"injectSSHKey": {"user": "jenkins"}}}}
    return {"jnlp": {"jenkinsUrl": jenkins_url, "user": str(defaults.JENKINS_UID),
                     "entryPointArgumentsString": INBOUND_ARGUMENTS}}


def template_jcasc(template: DockerTemplateConfig, pool_name: str, jenkins_url: str, site: Site = Site()) -> dict:
    base = {
        "image": site.image(template.effective_image),
        "memoryLimit": template.memory_limit_mb,
        "cpus": template.cpus,
        "extraDockerLabelsString": f"jenkins-k8s.io/pool={pool_name}",
    }
    if site.proxy is not None:
        # The agent container is no pod: only the proxy reaches it (env, and the JVM's properties),
        # not the CA bundle, which would need a volume on the daemon's side.
        env = [*site.proxy.env(), {"name": "JAVA_TOOL_OPTIONS", "value": " ".join(site.proxy.java_options())}]
        base["environmentsString"] = "\n".join(f"{e['name']}={e['value']}" for e in env)
    if template.connector == "ssh" and template.effective_image.startswith("jenkins/ssh-agent:"):
        base["dockerCommand"] = SSH_AGENT_COMMAND
    return {
        "name": template.name,
        "labelString": " ".join(template.labels),
        "instanceCapStr": str(template.instance_cap),
        "remoteFs": REMOTE_FS,
        "mode": "EXCLUSIVE",
        "pullStrategy": template.pull_strategy,
        "removeVolumes": True,
        "retentionStrategy": {"idleMinutes": template.idle_minutes},
        "dockerTemplateBase": base,
        "connector": connector_jcasc(template, jenkins_url),
    }


def cloud_jcasc(*, name: str, uri: str, templates, container_cap: int, pool_name: str, jenkins_url: str,
                credentials_id: Optional[str] = None, hostname: Optional[str] = None, site: Site = Site()) -> dict:
    """One `jenkins.clouds[].docker` entry."""
    docker_host = {"uri": uri}
    if credentials_id:
        docker_host["credentialsId"] = credentials_id
    api = {"dockerHost": docker_host, "connectTimeout": 60, "readTimeout": 60}
    if hostname:
        api["hostname"] = hostname
    return {"docker": {
        "name": name,
        "containerCap": container_cap,
        "exposeDockerHost": False,
        "dockerApi": api,
        "templates": [template_jcasc(t, pool_name, jenkins_url, site) for t in templates],
    }}


def controller_needs(config: DockerCloudPoolConfig, jenkins_url: str, site: Site = Site()) -> ControllerNeeds:
    cloud = cloud_jcasc(
        name=config.name, uri=config.docker.plugin_uri(), templates=config.templates,
        container_cap=config.container_cap, pool_name=config.name,
        # Only inbound templates use it, and those require inbound_url (validated above).
        jenkins_url=config.inbound_url or jenkins_url,
        # ssh: the plugin connects to the port the container publishes on the node's address.
        hostname="${HOST_IP}",
        site=site,
    )
    uses_ssh = any(t.connector == "ssh" for t in config.templates)
    return combine(
        docker_access.daemon_access(config.docker),
        plugins=("docker-plugin", "docker-workflow", *(("ssh-slaves",) if uses_ssh else ())),
        jcasc={"jenkins": {"clouds": [cloud]}},
        host_access_reason=config.controller_host_access(),
    )


class DockerCloudPool(AgentPool):
    """Registers no Kubernetes workloads: the Docker plugin creates agent containers on the node's daemon."""

    TYPE = TYPE

    def __init__(self, config: DockerCloudPoolConfig, context: PoolContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(config, context, opts)
        self.namespace = context.endpoints.namespace
        self.agent_labels = tuple(label for t in config.templates for label in t.labels)
        self.needs = controller_needs(config, context.endpoints.internal_url, context.site)
        if warning := config.docker.preview_warning(config.name):
            pulumi.log.warn(warning, resource=self)
        self.finish()
