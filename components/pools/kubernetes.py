"""Kubernetes-plugin pool: one pod per build, restricted Pod Security, WebSocket back to the controller."""
from __future__ import annotations

from typing import Annotated, Literal, Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from .. import defaults, labels, scheduling
from ..jcasc import to_yaml
from ..network_policies import deny_ingress_policy
from ..config_types import DnsLabel, DnsName, JenkinsLabel, Model, PinnedImage, ResourcesConfig
from ..pod_security import restricted_container_context, restricted_pod_context
from ..scheduling import SchedulingConfig
from ..site import Site
from .base import AgentPool, ControllerNeeds, PoolConfig, PoolContext
from .kubernetes_template import TemplateEnvVar, TemplateServiceAccount, TemplateVolume, WorkspaceVolumeConfig

TYPE = "kubernetes"


class PodContainerConfig(Model):
    name: DnsLabel
    """Container name (a DNS label); `jnlp` is the agent container the plugin adds."""
    image: PinnedImage
    """Container image, pinned."""
    command: tuple[str, ...] = ("sleep",)
    """Container command; the default keeps the container running for build steps."""
    args: tuple[str, ...] = ("infinity",)
    """Arguments to `command`."""
    resources: ResourcesConfig = defaults.AGENT_RESOURCES
    """Requests and limits of this container."""


class PodTemplateConfig(Model):
    name: DnsLabel
    """Template name, unique in the pool."""
    labels: Annotated[tuple[JenkinsLabel, ...], Field(min_length=1)]
    """Jenkins labels that select this template (at least one)."""
    # Tool containers beside the `jnlp` agent container; they always run restricted. Image builds
    # need more than that: use a pool with `builder` instead.
    containers: tuple[PodContainerConfig, ...] = ()
    """Tool containers beside the `jnlp` agent container; they always run restricted (image builds need a pool with `builder`)."""
    agent_resources: ResourcesConfig = defaults.AGENT_RESOURCES
    """Requests and limits of the `jnlp` agent container."""
    builder_resources: ResourcesConfig = Field(defaults.BUILDER_RESOURCES, description=(
        "requests/limits of the builder container, in pools with `builder`"))
    instance_cap: Annotated[int, Field(ge=1, le=1000)] = 10
    """Most agent pods of this template at once (1-1000)."""
    idle_minutes: Annotated[int, Field(ge=0, le=1440)] = 0
    """Minutes an idle agent pod is kept for the next build; 0 gives one build per pod."""
    jnlp_image: Optional[PinnedImage] = Field(None, description=(
        "image of the `jnlp` agent container (default: the pinned jenkins/inbound-agent): an inbound-agent "
        "image, which the pod runs as uid 1000"))
    env: tuple[TemplateEnvVar, ...] = Field((), description=(
        "environment of every container in the pod: `{name, value}` or `{name, secret: {secretName, key}}`"))
    volumes: tuple[TemplateVolume, ...] = Field((), description=(
        "volumes mounted into every container: `{name, mountPath, readOnly, <one source>}` with source "
        "emptyDir, configMap, secret or persistentVolumeClaim"))
    workspace_volume: Optional[WorkspaceVolumeConfig] = Field(None, description=(
        "the build workspace (default: an emptyDir): `{type: emptyDir, memory, sizeLimit}` or "
        "`{type: ephemeral, size, storageClassName, accessModes}`"))
    service_account: Optional[TemplateServiceAccount] = Field(None, description=(
        "the pods' own ServiceAccount (default: the namespace's `default`, without a token)"))
    image_pull_secrets: tuple[DnsName, ...] = Field((), description=(
        "Secrets in the pool's namespace used to pull this template's images"))
    scheduling: Optional[SchedulingConfig] = Field(None, description=(
        "placement of this template's pods; replaces the pool's `scheduling` as a whole"))

    @model_validator(mode="after")
    def _unique_names(self) -> "PodTemplateConfig":
        names = [v.name for v in self.volumes]
        if len(set(names)) != len(names):
            raise ValueError("volumes: names must be unique")
        paths = [v.mount_path for v in self.volumes]
        if len(set(paths)) != len(paths):
            raise ValueError("volumes: mountPaths must be unique")
        variables = [e.name for e in self.env]
        if len(set(variables)) != len(variables):
            raise ValueError("env: names must be unique")
        return self


class KubernetesPoolConfig(PoolConfig):
    type: Literal["kubernetes"]
    """`kubernetes`: the Kubernetes plugin starts one pod per build in the pool's namespace."""
    container_cap: Annotated[int, Field(ge=1, le=1000)] = 10
    """Most agent pods of this pool at once (1-1000)."""
    templates: Annotated[tuple[PodTemplateConfig, ...], Field(min_length=1)]
    """Pod templates (at least one)."""
    builder: Optional[Literal["buildkit-rootless"]] = Field(None, description=(
        "make this an image-build pool: every pod gets a `buildkit` container (rootless BuildKit, "
        "`buildctl-daemonless.sh build ...`) with the Unconfined seccomp and AppArmor profiles it needs, "
        "so the pool's own namespace enforces Pod Security `privileged`; keep other pools without it"))

    @field_validator("templates")
    @classmethod
    def _unique_templates(cls, templates: tuple) -> tuple:
        names = [t.name for t in templates]
        if len(set(names)) != len(names):
            raise ValueError("template names must be unique")
        created: dict[str, TemplateServiceAccount] = {}
        for template in templates:
            account = template.service_account
            if account is not None and account.create:
                if created.setdefault(account.name, account) != account:
                    raise ValueError(f"service account '{account.name}' is created by two templates with "
                                     "different settings")
        return templates

    @model_validator(mode="after")
    def _builder_container_name_is_free(self) -> "KubernetesPoolConfig":
        if self.builder and any(c.name == BUILDKIT_CONTAINER for t in self.templates for c in t.containers):
            raise ValueError(f"builder: a template already has a container named '{BUILDKIT_CONTAINER}'")
        return self

    def created_service_accounts(self) -> list[TemplateServiceAccount]:
        accounts = {t.service_account.name: t.service_account for t in self.templates
                    if t.service_account is not None and t.service_account.create}
        return list(accounts.values())


# Only what the plugin does with agent pods, and only in the pool's own namespace (jenkinsci/
# kubernetes-plugin a82d78a0, src/main/java/org/csanchez/jenkins/plugins/kubernetes/): pods
# get/create (KubernetesLauncher.java:160-164), watch and list through an informer
# (pod/retention/Reaper.java:221, KubernetesCloud.java:1440-1443), logs (KubernetesLauncher.java:376-381,
# KubernetesComputer.java:180), events list (KubernetesComputer.java:126-130), exec
# (pipeline/ContainerExecDecorator.java:478-520). Its sample Role (src/main/kubernetes/
# service-account.yml:28-30) also grants `secrets: get`, but no code under src/main calls the
# secrets API (SecretsMasker reads values by exec), so none is granted here.
AGENT_POD_RULES = (
    {"apiGroups": [""], "resources": ["pods"],
     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]},
)


# Rootless BuildKit as upstream runs it on Kubernetes (moby/buildkit v0.32.2
# examples/kubernetes/pod.rootless.yaml:10-11,28-47; image facts in its Dockerfile:491-508):
# - rootlesskit and runc call unshare and mount, which RuntimeDefault seccomp and AppArmor refuse
#   (docs/rootless.md:88-91): both profiles Unconfined, which Pod Security baseline already forbids;
# - newuidmap (shadow-uidmap) gains its ids through setuid, so no_new_privs stays off and the runtime's
#   default capabilities stay (nothing dropped, nothing added), as in upstream's example;
# - `--oci-worker-no-process-sandbox`: Kubernetes has no systempaths=unconfined for a fresh /proc per
#   RUN step (docs/rootless.md:98-105); buildctl-daemonless.sh passes BUILDKITD_FLAGS to buildkitd
#   (examples/buildctl-daemonless/buildctl-daemonless.sh:14,33);
# - its state directory on an emptyDir (pod.rootless.yaml:38-47).
# Everything else about the pod stays restricted.
BUILDKIT_CONTAINER = "buildkit"
BUILDKIT_UID = 1000
BUILDKIT_STATE_DIR = "/home/user/.local/share/buildkit"
BUILDER_LABEL = "jenkins-k8s.io/builder"


def buildkit_container_context() -> dict:
    return {
        "allowPrivilegeEscalation": True,
        "runAsNonRoot": True,
        "runAsUser": BUILDKIT_UID,
        "runAsGroup": BUILDKIT_UID,
        "seccompProfile": {"type": "Unconfined"},
        "appArmorProfile": {"type": "Unconfined"},
    }


def buildkit_container(resources: ResourcesConfig) -> dict:
    return {
        "name": BUILDKIT_CONTAINER,
        "image": defaults.ROOTLESS_BUILDER_IMAGE,
        # Kept alive for `container('buildkit') { sh 'buildctl-daemonless.sh build ...' }`; the image is
        # Alpine (Dockerfile:491), whose busybox `sleep` takes a day suffix (mirror/busybox
        # coreutils/sleep.c, FEATURE_FANCY_SLEEP), as in the Kubernetes plugin's own busybox tests.
        "command": ["sleep"],
        "args": ["99d"],
        "env": [{"name": "BUILDKITD_FLAGS", "value": "--oci-worker-no-process-sandbox"}],
        "resources": resources.as_kubernetes(),
        "securityContext": buildkit_container_context(),
        "volumeMounts": [{"name": "buildkit-state", "mountPath": BUILDKIT_STATE_DIR}],
    }


def agent_pod_yaml(template: PodTemplateConfig, pool_name: str, builder: Optional[str] = None,
                   pool_scheduling: Optional[SchedulingConfig] = None, site: Site = Site()) -> str:
    """The pod every build of this template runs in, restricted from the pod down to each container;
    with `builder`, plus the builder container and the one relaxation it needs."""
    containers = [{
        "name": "jnlp",
        "image": template.jnlp_image or defaults.INBOUND_AGENT_IMAGE,
        "resources": template.agent_resources.as_kubernetes(),
        "securityContext": restricted_container_context(read_only_root=False),
    }]
    for container in template.containers:
        containers.append({
            "name": container.name,
            "image": container.image,
            "command": list(container.command),
            "args": list(container.args),
            "resources": container.resources.as_kubernetes(),
            "securityContext": restricted_container_context(read_only_root=False),
        })
    pod_labels = {labels.POOL: pool_name}
    spec: dict = {
        "automountServiceAccountToken": False,
        "securityContext": restricted_pod_context(),
        "containers": containers,
    }
    if builder == "buildkit-rootless":
        pod_labels[BUILDER_LABEL] = builder
        containers.append(buildkit_container(template.builder_resources))
        spec["volumes"] = [{"name": "buildkit-state", "emptyDir": {}}]
    # Template env and volumes reach every container, the builder's too.
    for container in containers:
        if template.env:
            container["env"] = [*container.get("env", []), *(v.as_kubernetes() for v in template.env)]
        if template.volumes:
            container["volumeMounts"] = [*container.get("volumeMounts", []),
                                         *(v.mount() for v in template.volumes)]
    if template.volumes:
        spec["volumes"] = [*spec.get("volumes", []), *(v.as_kubernetes() for v in template.volumes)]
    account = template.service_account
    if account is not None:
        spec["serviceAccountName"] = account.name
        spec["automountServiceAccountToken"] = account.automount_token
    if template.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in template.image_pull_secrets]
    spec = scheduling.apply(spec, template.scheduling or pool_scheduling, own_labels=pod_labels)
    # The pinned inbound agent image's JDK builds the truststore (already pulled for jnlp unless jnlpImage is set).
    spec = site.pod_spec(spec, truststore_image=defaults.INBOUND_AGENT_IMAGE)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": pod_labels}, "spec": spec}
    return to_yaml(pod)


def template_jcasc(template: PodTemplateConfig, config: "KubernetesPoolConfig", namespace: str,
                   site: Site = Site()) -> dict:
    entry = {
        "name": template.name,
        "label": " ".join(template.labels),
        "namespace": namespace,
        "nodeUsageMode": "EXCLUSIVE",
        "instanceCap": template.instance_cap,
        "idleMinutes": template.idle_minutes,
        "yamlMergeStrategy": "override",
        "yaml": agent_pod_yaml(template, config.name, config.builder, config.scheduling, site),
    }
    if template.workspace_volume is not None:
        entry["workspaceVolume"] = template.workspace_volume.as_jcasc()
    return entry


def cloud_jcasc(config: KubernetesPoolConfig, namespace: str, jenkins_url: str, site: Site = Site()) -> dict:
    templates = [template_jcasc(template, config, namespace, site) for template in config.templates]
    return {"jenkins": {"clouds": [{"kubernetes": {
        "name": config.name,
        "namespace": namespace,
        "jenkinsUrl": jenkins_url,
        "webSocket": True,
        # The plugin's own restricted profile, on top of the explicit pod YAML below. It fills every
        # unset allowPrivilegeEscalation/capabilities/seccompProfile with the restricted value
        # (jenkinsci/kubernetes-plugin RestrictedPssSecurityContextInjector.secure), so an
        # image-build pool, whose YAML already sets every field, turns it off.
        "restrictedPssSecurityContext": config.builder is None,
        "containerCapStr": str(config.container_cap),
        "podLabels": [{"key": "jenkins-k8s.io/pool", "value": config.name}],
        "templates": templates,
    }}]}}


class KubernetesPool(AgentPool):
    TYPE = TYPE

    def __init__(self, config: KubernetesPoolConfig, context: PoolContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(config, context, opts)
        endpoints = context.endpoints
        # Pod Security admits a namespace's pods as a whole: Unconfined profiles need `privileged`.
        namespace = self.create_namespace("restricted" if config.builder is None else "privileged")
        role = k8s.rbac.v1.Role(
            self.child_name("agent-pods"),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="jenkins-agent-pods", namespace=namespace, labels=self.pool_labels("rbac")),
            rules=[dict(rule) for rule in AGENT_POD_RULES],
            opts=self.child_opts(),
        )
        k8s.rbac.v1.RoleBinding(
            self.child_name("agent-pods"),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="jenkins-agent-pods", namespace=namespace, labels=self.pool_labels("rbac")),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role",
                                              name=role.metadata.name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=endpoints.service_account,
                                              namespace=endpoints.namespace)],
            opts=self.child_opts(),
        )
        for account in config.created_service_accounts():
            # No token unless a template asks for one (the pod's own automountServiceAccountToken wins).
            k8s.core.v1.ServiceAccount(
                self.child_name(f"sa-{account.name}"),
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=account.name, namespace=namespace, labels=self.pool_labels("agents"),
                    annotations=dict(account.annotations) or None),
                automount_service_account_token=False,
                opts=self.child_opts(),
            )
        if context.network_policies:
            # The plugin reaches its pods through the API server (exec, logs) and the agents dial
            # out over WebSocket: nothing needs to open a connection to a build pod.
            self.register_network_policy("deny-ingress", namespace, deny_ingress_policy({}))
        self.agent_labels = tuple(label for t in config.templates for label in t.labels)
        self.needs = ControllerNeeds(
            plugins=("kubernetes",),
            jcasc=cloud_jcasc(config, self.namespace, endpoints.internal_url, context.site),
            agent_namespaces=(self.namespace,),
        )
        self.finish()
