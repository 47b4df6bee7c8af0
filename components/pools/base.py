"""What every agent pool shares: its config base, the context it is built in, what it hands back."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator

from ..config_types import Model, PoolName
from ..scheduling import SchedulingConfig
from ..endpoints import Endpoints
from ..site import Site
from ..site_objects import register_site_objects
from .. import labels


class PoolConfig(Model):
    """Fields every pool has; each pool type adds its own and a Literal `type`."""

    name: PoolName
    """Pool name, unique in the stack: lower case, at most 20 characters; part of the pool's namespace and object names."""
    scheduling: Optional[SchedulingConfig] = Field(None, description=(
        "where the pool's pods may run (nodeSelector, tolerations, affinity, topologySpreadConstraints, "
        "priorityClassName); kubernetes pools pass it to every template that sets none of its own"))

    # Set by pool types whose agents are not Kubernetes pods: why `scheduling` cannot apply to them.
    UNPLACEABLE: ClassVar[Optional[str]] = None

    @field_validator("scheduling")
    @classmethod
    def _placeable(cls, value):
        if value is not None and cls.UNPLACEABLE:
            raise ValueError(cls.UNPLACEABLE)
        return value

    def controller_host_access(self) -> Optional[str]:
        """Why the controller pod must mount a host path for this pool, or None (the norm)."""
        return None


@dataclass(frozen=True)
class SecretFile:
    """One key of a Secret in the controller's namespace, mounted as a file JCasC reads via ${file_name}."""

    secret_name: str
    key: str
    file_name: str


@dataclass(frozen=True)
class ControllerNeeds:
    """What a pool asks of the controller, as plain data the controller merges."""

    plugins: tuple[str, ...] = ()
    jcasc: Mapping[str, Any] = field(default_factory=dict)
    executors: int = 0
    labels: tuple[str, ...] = ()
    env: tuple[Mapping[str, Any], ...] = ()
    volumes: tuple[Mapping[str, Any], ...] = ()
    volume_mounts: tuple[Mapping[str, Any], ...] = ()
    init_containers: tuple[Mapping[str, Any], ...] = ()
    secret_files: tuple[SecretFile, ...] = ()
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    supplemental_groups: tuple[int, ...] = ()
    # Namespaces whose pods connect back to the controller (8080: HTTP and WebSocket).
    agent_namespaces: tuple[str, ...] = ()
    # Set when the controller pod itself must mount a host path: why, for the preview warning.
    host_access_reason: Optional[str] = None


def combine(*parts: ControllerNeeds, **fields) -> ControllerNeeds:
    """One ControllerNeeds from fragments (sequences joined, pod labels merged), plus `fields`."""
    joined = {name: tuple(item for part in parts for item in getattr(part, name))
              for name in ("plugins", "labels", "env", "volumes", "volume_mounts", "init_containers",
                           "secret_files", "supplemental_groups", "agent_namespaces")}
    joined["pod_labels"] = {k: v for part in parts for k, v in part.pod_labels.items()}
    return ControllerNeeds(**{**joined, **fields})


@dataclass(frozen=True)
class PoolContext:
    """Everything a pool may use; nothing here depends on the controller's resources."""

    endpoints: Endpoints
    environment: str
    k8s_provider: k8s.Provider
    controller_namespace: pulumi.Output  # the Namespace's name, so Secrets wait for it
    network_policies: bool = True
    # The egress NetworkPolicy spec every pool namespace gets; None when network policies are off.
    agent_egress: Optional[Mapping[str, Any]] = None
    # Registry prefix, pull secrets, CA bundle, proxy: every pod spec and image passes through it.
    site: Site = Site()


# One type token for every pool type: a child's URN holds its parent's type, so with a token per
# pool type, switching a pool's type under the same name gave every object a new URN, and the engine
# creates a new URN's object before deleting the old one, which fails on the same Kubernetes name.
# With one token, objects that keep kind, name and logical name keep their URN and are updated.
POOL_TYPE_TOKEN = "jenkins:index:AgentPool"
# The per-type tokens pools were registered with before: as aliases, a stack deployed with them
# (whatever the type then) finds its objects again. The engine tries the URN first, then each alias
# (pulumi/pulumi 1b594989, pkg/resource/deploy/step_generator.go:676-712), and children inherit the
# alias their parent matched (step_generator.go:638-649).
LEGACY_TYPE_TOKENS = tuple(f"jenkins:index:{name}" for name in (
    "KubernetesPool", "ControllerExecutorsPool", "DockerCloudPool", "DockerCloudDindPool", "SwarmPool",
    "SwarmDindPool"))


class AgentPool(pulumi.ComponentResource):
    """Base of every pool component: one type token for all pool types, `needs` filled by the subclass."""

    needs: ControllerNeeds
    namespace: str
    agent_labels: tuple[str, ...]
    # The site's objects in the pool's namespace (pull Secret, CA ConfigMap): workloads wait for them.
    site_objects: list = []

    def __init__(self, config: PoolConfig, context: PoolContext, opts: Optional[pulumi.ResourceOptions] = None):
        aliases = [pulumi.Alias(type_=token) for token in LEGACY_TYPE_TOKENS]
        super().__init__(POOL_TYPE_TOKEN, config.name, None,
                         pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases)))
        self.config = config
        self.context = context

    def child_name(self, suffix: str) -> str:
        """Logical names carry the pool name: URNs hold the parent's type, not its name."""
        return f"{self.config.name}-{suffix}"

    def child_opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.context.k8s_provider, **kwargs)

    def pool_labels(self, component: str) -> dict[str, str]:
        return {**labels.common(component, self.config.name), labels.POOL: self.config.name}

    def create_namespace(self, enforce: str) -> pulumi.Output:
        """A namespace of the pool's own, labelled with the Pod Security level its pods need, whose
        pods may open connections only where the agent egress policy allows; sets `self.namespace`
        (plain text, for outputs) and returns the Output (for dependencies)."""
        name = self.namespace = self.context.endpoints.pool_namespace(self.config.name)
        namespace = k8s.core.v1.Namespace(
            self.child_name("namespace"),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=name,
                labels={**self.pool_labels("agents"), **labels.pod_security(enforce)},
            ),
            opts=self.child_opts(),
        )
        if self.context.agent_egress is not None:
            self.register_network_policy("egress", namespace.metadata.name, dict(self.context.agent_egress))
        self.site_objects = register_site_objects(self.context.site, self.config.name, namespace.metadata.name,
                                                  self.pool_labels("site"), self.child_opts())
        return namespace.metadata.name

    def register_network_policy(self, name: str, namespace: pulumi.Input[str], spec: dict) -> None:
        """A NetworkPolicy `<pool>-<name>` in the pool's namespace (callers check network_policies)."""
        k8s.networking.v1.NetworkPolicy(
            self.child_name(name),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{self.config.name}-{name}", namespace=namespace,
                                                labels=self.pool_labels("network-policy")),
            spec=spec,
            opts=self.child_opts(),
        )

    def outputs(self) -> dict:
        return {"type": self.TYPE, "namespace": self.namespace, "labels": list(self.agent_labels)}

    def finish(self) -> None:
        self.register_outputs(self.outputs())
