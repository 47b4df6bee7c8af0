"""Find the pod spec inside any pod-carrying Kubernetes resource and walk its containers.

The pack receives resource inputs as read-only mappings, so everything here reads through
``Mapping``/``Sequence`` and never assumes ``dict``/``list``.

Values unknown until apply (a preview) raise ``UnknownValueError`` when read: pulumi-policy
v1.21.0 wraps the properties in proxies that raise on the unknown sentinel
(sdk/python/lib/pulumi_policy/proxy.py:83-120), and turns an escaped error into one advisory
"can't run policy ... during preview" for that policy and resource (policy.py:1012-1022; for a
stack policy, for the whole stack, :1098-1108). So a read that decides a verdict may raise; a
read only for context (namespace, names for messages, labels for allow-lists) goes through
``peek``, which returns an ``Unknown`` marker instead, and the caller decides what an unknown
means for its verdict.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Optional, Union

import yaml
from pulumi_policy.proxy import UnknownValueError

EMPTY: Mapping = {}


class Unknown(NamedTuple):
    """A value unknown until apply, read by ``peek``; ``error`` is what reading it raised."""
    error: UnknownValueError

    def __str__(self) -> str:
        return "(unknown)"


def peek(obj: Any, *keys: str) -> Any:
    """Like ``get``, but an unknown value (or one under an unknown parent) comes back as an
    ``Unknown`` instead of raising."""
    for key in keys:
        if isinstance(obj, Unknown):
            return obj
        if not isinstance(obj, Mapping):
            return None
        try:
            obj = obj.get(key)
        except UnknownValueError as e:
            return Unknown(e)
    return obj


def text(value: Any, fallback: str = "") -> str:
    """A name for a message: the value, `(unknown)`, or the fallback."""
    return str(value) if isinstance(value, (str, Unknown)) and str(value) else fallback

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


ContainerSlot = tuple[str, int]   # ("containers", 0): one container, by its field and index


class Pod(NamedTuple):
    """A located pod: who carries it, where its spec lives, and its metadata."""
    kind: str            # the carrying resource's kind (Deployment, CronJob, Pod, ...)
    namespace: Union[str, Unknown]
    name: Union[str, Unknown]
    spec_path: str       # e.g. "spec.template.spec", for messages about pod-level fields
    meta_path: str       # e.g. "spec.template.metadata"
    metadata: Union[Mapping, Unknown]    # the pod template's metadata (labels, annotations)
    spec: Mapping
    # A view of the pod for checking one part at a time (see framework.evaluate): None is the
    # whole pod, () the pod-level fields without containers, a slot that one container.
    only: Optional[Union[tuple, ContainerSlot]] = None

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    def _meta(self, key: str) -> Mapping:
        if isinstance(self.metadata, Unknown):
            raise self.metadata.error
        return mapping(self.metadata.get(key))

    @property
    def labels(self) -> Mapping:
        """Raises when the labels are unknown; allow-lists read them with ``label`` instead."""
        return self._meta("labels")

    def label(self, key: str) -> Any:
        """One pod label, ``Unknown`` when it (or the labels, or the metadata) is unknown."""
        return peek(self.metadata, "labels", key)

    @property
    def annotations(self) -> Mapping:
        """Raises when the whole annotation map is unknown; reading one unknown value raises too,
        so read only the annotations a check needs."""
        return self._meta("annotations")

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
        """Init containers (incl. native sidecars), containers, then ephemeral containers (in a
        view: none, or the one container of its slot)."""
        if self.only == ():
            return
        for field, kind in CONTAINER_FIELDS:
            if self.only is not None and self.only[0] != field:
                continue
            listed = items(self.spec.get(field))
            indexes = range(len(listed)) if self.only is None else (self.only[1],)
            for i in indexes:
                c = listed[i]  # reads (and so raises for) only the containers in view
                if isinstance(c, Mapping):
                    yield Container(kind, text(peek(c, "name"), "?"), c)

    def views(self) -> tuple[list["Pod"], Optional[UnknownValueError]]:
        """The pod-level view and one view per container; an unknown container list leaves its
        containers out, with the error that says so."""
        views, error = [self._replace(only=())], None
        for field, _ in CONTAINER_FIELDS:
            try:
                count = len(items(self.spec.get(field)))
            except UnknownValueError as e:
                error = error or e
                continue
            views += [self._replace(only=(field, i)) for i in range(count)]
        return views, error

    def volumes(self) -> Iterator[Mapping]:
        for v in items(self.spec.get("volumes")):
            if isinstance(v, Mapping):
                yield v


def resource_namespace(props: Mapping, default: str = "default") -> Union[str, Unknown]:
    ns = peek(props, "metadata", "namespace")
    return ns if isinstance(ns, Unknown) or (isinstance(ns, str) and ns) else default


def resource_name(props: Mapping, fallback: str) -> Union[str, Unknown]:
    name = peek(props, "metadata", "name")
    return name if isinstance(name, Unknown) or (isinstance(name, str) and name) else fallback


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
    metadata = peek(template, "metadata")
    return Pod(
        kind=kind,
        namespace=resource_namespace(props),
        name=resource_name(props, fallback_name),
        spec_path=f"{prefix}.spec" if prefix else "spec",
        meta_path=f"{prefix}.metadata" if prefix else "metadata",
        metadata=metadata if isinstance(metadata, Unknown) else mapping(metadata),
        spec=spec,
    )


def running_namespace(resource_type: str, props: Mapping, fallback_name: str = "") -> Optional[tuple[Any, str]]:
    """(namespace, ref) of a pod-carrying resource, None for others; never raises: the namespace
    may be ``Unknown``, and a pod template that is unknown as a whole still runs pods."""
    kind = kind_of(resource_type)
    path = _TEMPLATE_PATHS.get(kind)
    if path is None:
        return None
    template = peek(props, *path) if path else props
    spec = template if isinstance(template, Unknown) else peek(template, "spec")
    if not isinstance(spec, (Mapping, Unknown)):
        return None
    namespace, name = resource_namespace(props), resource_name(props, fallback_name)
    return namespace, f"{kind} {namespace}/{name}"


AGENT_POD_KIND = "Kubernetes-plugin pod template"
# Every enabled policy reads the same JCasC ConfigMap: libyaml's parser (PyYAML's binary wheels carry
# it) makes that a small part of a check instead of most of it; the same safe constructors build the
# documents.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def agent_pods(resource_type: str, props: Mapping, fallback_name: str = "") -> list[Pod]:
    """The pods Jenkins will create, read from a JCasC ConfigMap: each `jenkins.clouds[].kubernetes`
    template's `yaml`, in the template's namespace (else the cloud's). The cluster admits them at
    build time; checking them here finds a template its namespace would refuse before it is deployed.
    A ConfigMap whose data is still unknown (preview) yields none."""
    if kind_of(resource_type) != "ConfigMap":
        return []
    data = peek(props, "data")
    if not isinstance(data, Mapping):
        return []
    found = []
    owner = f"{text(resource_namespace(props))}/{text(resource_name(props, fallback_name))}"
    for key in list(data.keys()):
        value = peek(data, key)
        if not (isinstance(value, str) and str(key).endswith((".yaml", ".yml"))):
            continue
        try:
            document = yaml.load(value, Loader=_YAML_LOADER)
        except yaml.YAMLError:
            continue
        for cloud in items(get(document, "jenkins", "clouds")):
            kubernetes = mapping(get(cloud, "kubernetes"))
            for template in items(kubernetes.get("templates")):
                pod = _template_pod(owner, kubernetes, mapping(template))
                if pod is not None:
                    found.append(pod)
    return found


def _template_pod(owner: str, cloud: Mapping, template: Mapping) -> Optional[Pod]:
    try:
        body = yaml.load(template.get("yaml") or "", Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return None
    spec = get(body, "spec")
    if not isinstance(spec, Mapping):
        return None
    namespace = template.get("namespace") or cloud.get("namespace") or "default"
    return Pod(
        kind=AGENT_POD_KIND,
        namespace=str(namespace),
        name=f'{cloud.get("name", "?")}/{template.get("name", "?")} (in ConfigMap {owner})',
        spec_path="spec",
        meta_path="metadata",
        metadata=mapping(get(body, "metadata")),
        spec=spec,
    )
