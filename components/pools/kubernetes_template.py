"""What a Kubernetes-plugin pod template may add to its pod: env (literal or from a Secret), volumes,
a workspace volume, a service account, image pull secrets, placement and the agent image.

Everything but the workspace volume goes into the template's pod YAML, which the policy pack checks
like any other pod. The plugin builds the pod by combining that YAML, as the parent, with the pod it
builds from the template's own attributes (jenkinsci/kubernetes-plugin a82d78a0,
src/main/java/org/csanchez/jenkins/plugins/kubernetes/PodTemplateBuilder.java:299). The combined
spec starts as the YAML's (`withNewSpecLike(parent.getSpec())`), so serviceAccountName,
automountServiceAccountToken, affinity, topologySpreadConstraints and priorityClassName pass
through, and nodeSelector, tolerations and imagePullSecrets are merged (PodTemplateUtils.java:
268-342). Volumes are merged by name with the built pod winning (PodTemplateUtils.java:411-416),
and the built pod always has a `workspace-volume` made from the template's `workspaceVolume`
attribute (PodTemplateBuilder.java:212): a workspace volume written in the YAML would be replaced,
so it is set through JCasC `workspaceVolume` instead (PodTemplate.java:841-844;
emptyDirWorkspaceVolume and genericEphemeralVolume: volumes/workspace/EmptyDirWorkspaceVolume.java:
55-76,115 and GenericEphemeralWorkspaceVolume.java:32-71).
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import Field, StringConstraints, model_validator

from .. import defaults
from ..config_types import DnsLabel, DnsName, Model, OptionalStorageClass, StorageSize

# Names the plugin (workspace-volume, jenkins-agent) or an image-build pool (buildkit-state) gives to volumes.
RESERVED_VOLUME_NAMES = frozenset({"workspace-volume", "jenkins-agent", "buildkit-state"})

EnvName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")]
SecretKey = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")]
AbsolutePath = Annotated[str, StringConstraints(min_length=2, max_length=1024, pattern=r"^/[^:]*[^/:]$")]
Quantity = Annotated[str, StringConstraints(pattern=r"^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$")]


def _exactly_one(model: Model, fields: tuple[str, ...]) -> None:
    given = [name for name in fields if getattr(model, name) is not None]
    if len(given) != 1:
        keys = ", ".join(type(model).model_fields[name].alias or name for name in fields)
        raise ValueError(f"set exactly one of: {keys}")


class SecretKeyRef(Model):
    secret_name: DnsName = Field(description="a Secret in the pool's namespace")
    key: SecretKey = Field(description="the key inside that Secret")


class TemplateEnvVar(Model):
    name: EnvName = Field(description="variable name")
    value: Optional[str] = Field(None, description="a literal value (never a secret: use `secret`)")
    secret: Optional[SecretKeyRef] = Field(None, description="read from a Secret in the pool's namespace")

    @model_validator(mode="after")
    def _one_source(self) -> "TemplateEnvVar":
        _exactly_one(self, ("value", "secret"))
        return self

    def as_kubernetes(self) -> dict:
        if self.secret is not None:
            return {"name": self.name, "valueFrom": {"secretKeyRef": {
                "name": self.secret.secret_name, "key": self.secret.key}}}
        return {"name": self.name, "value": self.value}


class EmptyDirSource(Model):
    memory: bool = Field(False, description="tmpfs (counts against the containers' memory)")
    size_limit: Optional[Quantity] = Field(None, description="e.g. 10Gi")

    def as_kubernetes(self) -> dict:
        source: dict = {"medium": "Memory"} if self.memory else {}
        if self.size_limit:
            source["sizeLimit"] = self.size_limit
        return source


class NamedSource(Model):
    name: DnsName = Field(description="an object in the pool's namespace")


class ClaimSource(Model):
    claim_name: DnsName = Field(description="a PersistentVolumeClaim in the pool's namespace")


class TemplateVolume(Model):
    name: DnsLabel = Field(description="volume name in the pod")
    mount_path: AbsolutePath = Field(description="where every container of the pod sees it")
    read_only: bool = Field(False, description="mount read-only")
    empty_dir: Optional[EmptyDirSource] = Field(None, description="scratch space for one build")
    config_map: Optional[NamedSource] = Field(None, description="a ConfigMap's keys as files")
    secret: Optional[NamedSource] = Field(None, description="a Secret's keys as files")
    persistent_volume_claim: Optional[ClaimSource] = Field(None, description="an existing claim, e.g. a cache")

    @model_validator(mode="after")
    def _one_source(self) -> "TemplateVolume":
        _exactly_one(self, ("empty_dir", "config_map", "secret", "persistent_volume_claim"))
        if self.name in RESERVED_VOLUME_NAMES:
            raise ValueError(f"volume name '{self.name}' is taken by the Kubernetes plugin or the builder")
        if self.mount_path.rstrip("/") == defaults.AGENT_WORKDIR.rstrip("/"):
            raise ValueError(f"{defaults.AGENT_WORKDIR} is the workspace: use workspaceVolume")
        return self

    def as_kubernetes(self) -> dict:
        if self.empty_dir is not None:
            return {"name": self.name, "emptyDir": self.empty_dir.as_kubernetes()}
        if self.config_map is not None:
            return {"name": self.name, "configMap": {"name": self.config_map.name}}
        if self.secret is not None:
            return {"name": self.name, "secret": {"secretName": self.secret.name}}
        return {"name": self.name, "persistentVolumeClaim": {
            "claimName": self.persistent_volume_claim.claim_name, "readOnly": self.read_only}}

    def mount(self) -> dict:
        return {"name": self.name, "mountPath": self.mount_path, "readOnly": self.read_only}


class WorkspaceVolumeConfig(Model):
    type: Literal["emptyDir", "ephemeral"] = Field(
        description="emptyDir: node-local scratch; ephemeral: a PersistentVolumeClaim created and deleted with "
                    "the pod (generic ephemeral volume)")
    memory: bool = Field(False, description="emptyDir only: tmpfs")
    size_limit: Optional[Quantity] = Field(None, description="emptyDir only: size limit")
    size: Optional[StorageSize] = Field(None, description="ephemeral only, required: the claim's size")
    storage_class_name: OptionalStorageClass = Field(None, description="ephemeral only: storage class")
    access_modes: Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"] = Field(
        "ReadWriteOnce", description="ephemeral only: the claim's access mode")

    @model_validator(mode="after")
    def _fields_of_type(self) -> "WorkspaceVolumeConfig":
        if self.type == "ephemeral":
            if self.size is None:
                raise ValueError("type ephemeral needs size")
            if self.memory or self.size_limit:
                raise ValueError("memory and sizeLimit apply to type emptyDir only")
        elif self.size or self.storage_class_name or "access_modes" in self.model_fields_set:
            raise ValueError("size, storageClassName and accessModes apply to type ephemeral only")
        return self

    def as_jcasc(self) -> dict:
        if self.type == "emptyDir":
            attributes: dict = {"memory": self.memory}
            if self.size_limit:
                attributes["sizeLimit"] = self.size_limit
            return {"emptyDirWorkspaceVolume": attributes}
        attributes = {"requestsSize": self.size, "accessModes": self.access_modes}
        if self.storage_class_name:
            attributes["storageClassName"] = self.storage_class_name
        return {"genericEphemeralVolume": attributes}


class TemplateServiceAccount(Model):
    name: DnsLabel = Field(description="ServiceAccount the template's pods run as, in the pool's namespace")
    create: bool = Field(True, description="create it (else it must exist)")
    annotations: dict[Annotated[str, StringConstraints(min_length=1, max_length=317)], str] = Field(
        {}, description="annotations of a created account, e.g. a cloud workload identity")
    automount_token: bool = Field(
        False, description="mount its API token into the pods (off: builds get no Kubernetes credentials)")

    @model_validator(mode="after")
    def _annotations_need_create(self) -> "TemplateServiceAccount":
        if self.annotations and not self.create:
            raise ValueError("annotations apply only to an account this pool creates (create: true)")
        return self
