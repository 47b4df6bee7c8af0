"""Swarm pool: long-lived swarm clients that dial the controller over WebSocket and register themselves.

The seed's "Using Swarm clients" setup, minus the home-built image: the pinned jenkins/agent image
(JDK 21, git) runs the client jar that an init container downloads from the controller's own `/swarm/swarm-client.jar`
(an unprotected root action of the swarm plugin). The clients log in as a dedicated local user
that holds only what swarm needs (Overall/Read, Agent/Create, Agent/Connect, Agent/Configure;
swarm-plugin docs/security.adoc) with a generated password read from a mounted file.

Workload kind: a StatefulSet. The agent's name in Jenkins is the pod's name (`-name $(POD_NAME)`
with `-disableClientsUniqueId`), so names are stable (`<pool>-0`, `<pool>-1`, ...) and a restarted
pod takes over its own node (`-deleteExistingClients`) instead of leaving a ghost behind. A
StatefulSet also guarantees at most one live pod per name, which a Deployment does not, so two
clients never fight over one node. swarm-dind needs a volumeClaimTemplate anyway; one kind, one
builder for both.

Everything that is just data is a pure function here; swarm_dind.py builds on them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Iterable, Literal, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import Field

from .. import defaults, labels, scheduling
from ..config_types import Executors, JenkinsLabel, PinnedImage, Replicas, ResourcesConfig
from ..jcasc import secret_ref
from ..network_policies import deny_ingress_policy
from ..pod_security import restricted_container_context, restricted_pod_context
from .base import AgentPool, ControllerNeeds, PoolConfig, PoolContext, SecretFile

TYPE = "swarm"

# Paths inside the client pod. HOME holds remoting's jar cache and tool config (~/.docker, ~/.gitconfig).
HOME_DIR = "/home/jenkins"
WORKSPACE_DIR = defaults.AGENT_WORKDIR  # -fsroot; swarm uses it as remoting's work dir too
CLIENT_DIR = "/opt/swarm"
CLIENT_JAR = f"{CLIENT_DIR}/swarm-client.jar"
PASSWORD_DIR = "/run/secrets/swarm"
PASSWORD_SECRET = "swarm-password"  # in the pool's namespace
PASSWORD_KEY = "password"
PASSWORD_FILE = f"{PASSWORD_DIR}/{PASSWORD_KEY}"
# Where the plugin serves the client jar, relative to the controller URL (swarm-plugin README).
CLIENT_JAR_PATH = "swarm/swarm-client.jar"

# Containers that run dockerd (swarm-dind's sidecar): they trust the CA bundle the Docker way.
DOCKERD_CONTAINERS = ("dind",)

# What the swarm user may do, and nothing more (swarm-plugin docs/security.adoc, matrix-based security).
SWARM_PERMISSIONS = ("Overall/Read", "Agent/Create", "Agent/Connect", "Agent/Configure")


class SwarmClientConfig(PoolConfig):
    """Fields of every swarm-based pool; each concrete pool adds its Literal `type`."""

    labels: Annotated[tuple[JenkinsLabel, ...], Field(min_length=1)]
    """Jenkins labels of every client (at least one)."""
    replicas: Replicas = 2
    """Number of swarm clients (1-100)."""
    executors: Executors = 2
    """Executors per client (1-64)."""
    # exclusive: only builds whose label expression matches run here (as the kubernetes pool does).
    mode: Literal["normal", "exclusive"] = "exclusive"
    """`exclusive`: only builds whose label expression matches run here; `normal`: any build may."""
    # The client container's image: any image with `java` 21 on /opt/java/openjdk/bin and the tools
    # your builds call (the default jenkins/agent has git). The jar download always uses
    # defaults.SWARM_CLIENT_IMAGE (curl).
    image: PinnedImage = Field(defaults.SWARM_CLIENT_IMAGE, description=(
        "image of the swarm client container; needs java 21 in /opt/java/openjdk/bin and whatever your "
        "builds call (the default, jenkins/agent, has git)"))
    resources: ResourcesConfig = defaults.AGENT_RESOURCES
    """Requests and limits of each client container."""
    # Connection attempts before the client exits; Kubernetes then restarts it with back-off,
    # which makes a broken pool visible (CrashLoopBackOff) instead of silently retrying.
    retry: Annotated[int, Field(ge=1, le=10000)] = 30
    """Connection attempts before a client exits and Kubernetes restarts it with back-off (1-10000)."""


class SwarmPoolConfig(SwarmClientConfig):
    type: Literal["swarm"]
    """`swarm`: a replicated workload of swarm clients that join the controller over WebSocket."""


# ---------------------------------------------------------------- pure builders (no Pulumi here)

def swarm_username(pool_name: str) -> str:
    """One Jenkins user per swarm pool, so pools never share (or revoke) each other's login."""
    return f"swarm-{pool_name}"


def password_file_name(pool_name: str) -> str:
    """File name under the controller's $SECRETS, i.e. the JCasC variable `${...}`."""
    return f"swarm-{pool_name}-password"


def client_jar_url(controller_url: str) -> str:
    return controller_url.rstrip("/") + "/" + CLIENT_JAR_PATH


def client_args(*, url: str, username: str, password_file: str, labels: Sequence[str], executors: int,
                mode: str, fsroot: str, retry: int) -> list[str]:
    """swarm-client options (client/.../Options.java); `$(POD_NAME)` is expanded by the kubelet."""
    return [
        "-webSocket",
        "-url", url,
        "-username", username,
        "-passwordFile", password_file,
        "-name", "$(POD_NAME)",
        "-disableClientsUniqueId",
        "-deleteExistingClients",
        "-labels", " ".join(labels),
        "-executors", str(executors),
        "-mode", mode,
        "-fsroot", fsroot,
        "-retry", str(retry),
    ]


def jcasc_user(username: str, password_ref: str) -> dict:
    """A local user with only swarm's permissions; merges into the controller's base document."""
    return {"jenkins": {
        "securityRealm": {"local": {"users": [{"id": username, "password": password_ref}]}},
        "authorizationStrategy": {"globalMatrix": {"entries": [
            {"user": {"name": username, "permissions": list(SWARM_PERMISSIONS)}},
        ]}},
    }}


def download_container(jar_url: str) -> dict:
    """Fetches the client jar that matches the controller's plugin; retries until the controller is up."""
    return {
        "name": "download-swarm-client",
        "image": defaults.SWARM_CLIENT_IMAGE,
        "command": [
            "curl", "--fail", "--silent", "--show-error", "--location",
            "--retry", "60", "--retry-delay", "5", "--retry-all-errors", "--connect-timeout", "10",
            "--output", CLIENT_JAR, jar_url,
        ],
        "resources": defaults.HELPER_RESOURCES.as_kubernetes(),
        "securityContext": restricted_container_context(),
        "volumeMounts": [{"name": "swarm-client", "mountPath": CLIENT_DIR}],
    }


def client_container(config: SwarmClientConfig, *, url: str, extra_env: Iterable[dict] = (),
                     extra_mounts: Iterable[dict] = ()) -> dict:
    """The swarm client itself: restricted, read-only root, writable only where it must be."""
    return {
        "name": "swarm-client",
        "image": config.image,
        "command": ["java", "-jar", CLIENT_JAR],
        "args": client_args(
            url=url, username=swarm_username(config.name), password_file=PASSWORD_FILE,
            labels=config.labels, executors=config.executors, mode=config.mode,
            fsroot=WORKSPACE_DIR, retry=config.retry,
        ),
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "HOME", "value": HOME_DIR},
            *extra_env,
        ],
        "workingDir": HOME_DIR,
        "resources": config.resources.as_kubernetes(),
        "securityContext": restricted_container_context(),
        "volumeMounts": [
            {"name": "swarm-client", "mountPath": CLIENT_DIR, "readOnly": True},
            {"name": "swarm-password", "mountPath": PASSWORD_DIR, "readOnly": True},
            {"name": "home", "mountPath": HOME_DIR},
            {"name": "workspace", "mountPath": WORKSPACE_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
            *extra_mounts,
        ],
    }


def pod_spec(config: SwarmClientConfig, *, url: str, password_secret: str = PASSWORD_SECRET,
             init_containers: Iterable[dict] = (), extra_env: Iterable[dict] = (),
             extra_mounts: Iterable[dict] = (), extra_volumes: Iterable[dict] = ()) -> dict:
    """The client pod; `init_containers` run after the jar download (a native sidecar goes last)."""
    return {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": restricted_pod_context(),
        "initContainers": [download_container(client_jar_url(url)), *init_containers],
        "containers": [client_container(config, url=url, extra_env=extra_env, extra_mounts=extra_mounts)],
        "volumes": [
            {"name": "swarm-client", "emptyDir": {}},
            {"name": "swarm-password", "secret": {
                "secretName": password_secret, "defaultMode": 0o440,
                "items": [{"key": PASSWORD_KEY, "path": PASSWORD_KEY}]}},
            {"name": "home", "emptyDir": {}},
            {"name": "workspace", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
            *extra_volumes,
        ],
    }


def selector_labels(pool_name: str) -> dict[str, str]:
    return {labels.NAME: "jenkins", labels.COMPONENT: "swarm-agent", labels.INSTANCE: pool_name}


def statefulset_spec(config: SwarmClientConfig, *, spec: dict, pod_labels: dict,
                     volume_claim_templates: Sequence[dict] = ()) -> dict:
    body: dict[str, Any] = {
        "serviceName": config.name,
        "replicas": config.replicas,
        # Agents are interchangeable: start and stop them all at once, not one by one.
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": selector_labels(config.name)},
        "template": {"metadata": {"labels": pod_labels},
                     "spec": scheduling.apply(spec, config.scheduling, own_labels=selector_labels(config.name))},
    }
    if volume_claim_templates:
        body["volumeClaimTemplates"] = list(volume_claim_templates)
        # Scaling down keeps the claims (a cache comes back warm); deleting the pool removes them.
        body["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete", "whenScaled": "Retain"}
    return body


# ---------------------------------------------------------------- resources, shared by swarm pools

@dataclass(frozen=True)
class SwarmLogin:
    """Where the generated password went: a Secret in the pool namespace, a file for JCasC."""

    pool_secret: k8s.core.v1.Secret
    secret_file: SecretFile
    username: str


def register_login(pool: AgentPool, namespace: pulumi.Input[str]) -> SwarmLogin:
    """A generated password, published twice: once for the clients, once for the controller."""
    name = pool.config.name
    password = random.RandomPassword(
        pool.child_name("swarm-password"),
        length=32,
        special=False,  # read verbatim by JCasC (trimmed) and the client; length carries the strength
        opts=pulumi.ResourceOptions(parent=pool),
    )
    secret_opts = dict(additional_secret_outputs=["data", "stringData"])
    client_secret = k8s.core.v1.Secret(
        pool.child_name("client-password"),
        metadata=k8s.meta.v1.ObjectMetaArgs(name=PASSWORD_SECRET, namespace=namespace,
                                            labels=pool.pool_labels("credentials")),
        type="Opaque",
        string_data={PASSWORD_KEY: password.result},
        opts=pool.child_opts(**secret_opts),
    )
    controller_secret_name = f"swarm-{name}"
    k8s.core.v1.Secret(
        pool.child_name("controller-password"),
        metadata=k8s.meta.v1.ObjectMetaArgs(name=controller_secret_name,
                                            namespace=pool.context.controller_namespace,
                                            labels=pool.pool_labels("credentials")),
        type="Opaque",
        string_data={PASSWORD_KEY: password.result},
        opts=pool.child_opts(**secret_opts),
    )
    return SwarmLogin(
        pool_secret=client_secret,
        secret_file=SecretFile(controller_secret_name, PASSWORD_KEY, password_file_name(name)),
        username=swarm_username(name),
    )


def register_workload(pool: AgentPool, namespace: pulumi.Input[str], *, spec: dict, pod_labels: dict,
                      depends_on: Sequence[pulumi.Resource] = (),
                      volume_claim_templates: Sequence[dict] = (),
                      disruption_budget: Optional[scheduling.DisruptionBudgetConfig] = None) -> None:
    """Headless Service (the StatefulSet's required governing Service), StatefulSet, deny-ingress policy,
    and a PodDisruptionBudget when one is asked for."""
    config = pool.config
    # The swarm client image's JDK builds the truststore: the client image is any JDK image.
    spec = pool.context.site.pod_spec(spec, truststore_image=defaults.SWARM_CLIENT_IMAGE,
                                      dockerd_containers=DOCKERD_CONTAINERS)
    service = k8s.core.v1.Service(
        pool.child_name("agents"),
        metadata=k8s.meta.v1.ObjectMetaArgs(name=config.name, namespace=namespace,
                                            labels=pool.pool_labels("swarm-agent")),
        spec={"clusterIP": "None", "selector": selector_labels(config.name)},
        opts=pool.child_opts(),
    )
    k8s.apps.v1.StatefulSet(
        pool.child_name("agents"),
        metadata=k8s.meta.v1.ObjectMetaArgs(name=config.name, namespace=namespace,
                                            labels=pool.pool_labels("swarm-agent")),
        spec=statefulset_spec(config, spec=spec, pod_labels=pod_labels,
                              volume_claim_templates=volume_claim_templates),
        opts=pool.child_opts(depends_on=[service, *depends_on, *pool.site_objects]),
    )
    budget = scheduling.disruption_budget_spec(disruption_budget, selector_labels(config.name))
    if budget is not None:
        k8s.policy.v1.PodDisruptionBudget(
            pool.child_name("disruption-budget"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=config.name, namespace=namespace,
                                                labels=pool.pool_labels("swarm-agent")),
            spec=budget,
            opts=pool.child_opts(),
        )
    if not pool.context.network_policies:
        return
    # Swarm clients dial out; nothing needs to reach them.
    pool.register_network_policy("deny-ingress", namespace, deny_ingress_policy(selector_labels(config.name)))


def controller_needs(login: SwarmLogin, namespace: str, plugins: tuple[str, ...] = ("swarm",)) -> ControllerNeeds:
    """The swarm user (JCasC), its password file, the plugins, and the namespace allowed to connect."""
    return ControllerNeeds(
        plugins=plugins,
        jcasc=jcasc_user(login.username, secret_ref(login.secret_file.file_name)),
        secret_files=(login.secret_file,),
        agent_namespaces=(namespace,),
    )


class SwarmPool(AgentPool):
    TYPE = TYPE

    def __init__(self, config: SwarmPoolConfig, context: PoolContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(config, context, opts)
        namespace = self.create_namespace("restricted")
        login = register_login(self, namespace)
        register_workload(self, namespace, spec=pod_spec(config, url=context.endpoints.internal_url),
                          pod_labels=self.pool_labels("swarm-agent"), depends_on=[login.pool_secret])
        self.agent_labels = tuple(config.labels)
        self.needs = controller_needs(login, self.namespace)
        self.finish()
