"""Find the pod spec inside any pod-carrying Kubernetes resource and walk its containers.

The pack receives resource inputs as read-only mappings (pulumi_policy wraps dicts and lists in
proxies that raise on unknown values), so everything here reads through ``Mapping``/``Sequence``
and never assumes ``dict``/``list``.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Optional

EMPTY: Mapping = {}

# Kind -> path (keys) from the resource to the pod template (an object with metadata + spec).
# A bare Pod is its own template. `*Patch` resources (server-side apply) share their kind's path.
_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}

CONTAINER_FIELDS = (
    ("initContainers", "initContainer"),
    ("containers", "container"),
    ("ephemeralContainers", "ephemeralContainer"),
)


def kind_of(resource_type: str) -> str:
    """`kubernetes:apps/v1:DeploymentPatch` -> `Deployment`; other providers -> ''."""
    if not resource_type.startswith("kubernetes:"):
        return ""
    kind = resource_type.rsplit(":", 1)[-1]
    return kind[:-5] if kind.endswith("Patch") else kind


def get(obj: Any, *keys: str) -> Any:
    """Nested lookup that treats anything missing (or not a mapping) as None."""
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def mapping(obj: Any) -> Mapping:
    return obj if isinstance(obj, Mapping) else EMPTY


def items(obj: Any) -> Sequence:
    return obj if isinstance(obj, Sequence) and not isinstance(obj, str) else ()


class Container(NamedTuple):
    kind: str          # container | initContainer | ephemeralContainer
    name: str
    spec: Mapping

    @property
    def subject(self) -> str:
        return f'{self.kind} "{self.name}"'

    @property
    def security_context(self) -> Mapping:
        return mapping(self.spec.get("securityContext"))


class Pod(NamedTuple):
    """A located pod: who carries it, where its spec lives, and its metadata."""
    kind: str            # the carrying resource's kind (Deployment, CronJob, Pod, ...)
    namespace: str
    name: str
    spec_path: str       # e.g. "spec.template.spec", for messages about pod-level fields
    meta_path: str       # e.g. "spec.template.metadata"
    metadata: Mapping    # the pod template's metadata (labels, annotations)
    spec: Mapping

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def labels(self) -> Mapping:
        return mapping(self.metadata.get("labels"))

    @property
    def annotations(self) -> Mapping:
        return mapping(self.metadata.get("annotations"))

    @property
    def security_context(self) -> Mapping:
        return mapping(self.spec.get("securityContext"))

    @property
    def is_windows(self) -> bool:
        return get(self.spec, "os", "name") == "windows"

    @property
    def host_users_off(self) -> bool:
        """hostUsers: false (a user-namespaced pod) relaxes some checks since PSA v1.35."""
        return self.spec.get("hostUsers") is False

    def containers(self) -> Iterator[Container]:
        """Init containers (incl. native sidecars), containers, then ephemeral containers."""
        for field, kind in CONTAINER_FIELDS:
            for c in items(self.spec.get(field)):
                if isinstance(c, Mapping):
                    yield Container(kind, str(c.get("name") or "?"), c)

    def volumes(self) -> Iterator[Mapping]:
        for v in items(self.spec.get("volumes")):
            if isinstance(v, Mapping):
                yield v


def resource_namespace(props: Mapping, default: str = "default") -> str:
    ns = get(props, "metadata", "namespace")
    return ns if isinstance(ns, str) and ns else default


def resource_name(props: Mapping, fallback: str) -> str:
    name = get(props, "metadata", "name")
    return name if isinstance(name, str) and name else fallback


def locate(resource_type: str, props: Mapping, fallback_name: str = "") -> Optional[Pod]:
    """The pod carried by this resource, or None for resources that carry no pod."""
    kind = kind_of(resource_type)
    path = _TEMPLATE_PATHS.get(kind)
    if path is None:
        return None
    template = get(props, *path) if path else props
    if not isinstance(template, Mapping):
        return None
    spec = template.get("spec")
    if not isinstance(spec, Mapping):
        return None
    prefix = ".".join(path)
    return Pod(
        kind=kind,
        namespace=resource_namespace(props),
        name=resource_name(props, fallback_name),
        spec_path=f"{prefix}.spec" if prefix else "spec",
        meta_path=f"{prefix}.metadata" if prefix else "metadata",
        metadata=mapping(template.get("metadata")),
        spec=spec,
    )
