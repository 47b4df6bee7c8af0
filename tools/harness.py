"""Run the real Pulumi program under Pulumi's mock runtime and record everything it registers.

The mocks stand in for the engine and the providers, and do what those would do to what the
program hands them: outputs listed in additionalSecretOutputs come back secret, generated values
(passwords, keys, certificates) get deterministic stand-ins, and Kubernetes objects get the
provider's auto-name and default namespace when the program leaves them unset.
"""
from __future__ import annotations

import asyncio
import atexit
import copy
import hashlib
import threading
import json
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The engine wire format's secret signature (sdk/go/common/resource/properties.go).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"
DEFAULT_NAMESPACE = "default"

# Kinds the Kubernetes provider never puts in a namespace.
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
    "CustomResourceDefinition", "PriorityClass", "RuntimeClass", "IngressClass", "CSIDriver",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "VolumeAttachment",
})


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def wrap_secret(value: Any) -> dict:
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


def _walk(value: Any, on_secret) -> Any:
    if is_secret(value):
        return on_secret(value["value"])
    if isinstance(value, dict):
        return {k: _walk(v, on_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, on_secret) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format has only doubles
    return value


def unwrap(value: Any) -> Any:
    return _walk(value, lambda inner: _walk(inner, lambda x: x))


def _redact_leaves(value: Any) -> Any:
    """Keep a secret's shape (a Secret's stringData stays a mapping), hide every value in it."""
    if isinstance(value, dict) and not is_secret(value):
        return {k: _redact_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_leaves(v) for v in value]
    return REDACTED


def redact(value: Any) -> Any:
    return _walk(value, _redact_leaves)


def secret_paths(value: Any, path: str = "") -> list[str]:
    if is_secret(value):
        return [path or "."]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secret_paths(v, f"{path}[{i}]")]
    return []


@dataclass
class Record:
    """One registered resource, as the engine would have seen it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    retain_on_delete: bool
    depends_on: list[str]
    provider: str
    raw_inputs: dict  # secret values still wrapped
    aliases: list[dict] = field(default_factory=list)  # alias specs: {"type": ..., "name": ...} as the engine gets them

    @property
    def inputs(self) -> dict:
        return unwrap(self.raw_inputs)

    @property
    def secret_inputs(self) -> list[str]:
        return secret_paths(self.raw_inputs)

    @property
    def is_kubernetes_object(self) -> bool:
        return self.custom and self.type.startswith("kubernetes:") and "apiVersion" in self.raw_inputs

    def manifest(self, redacted: bool = True) -> dict:
        body = redact(self.raw_inputs) if redacted else unwrap(self.raw_inputs)
        return canonical(body)

    def as_json(self) -> dict:
        return {
            "urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent,
            "custom": self.custom, "protect": self.protect, "retainOnDelete": self.retain_on_delete,
            "dependsOn": self.depends_on, "provider": self.provider,
            "inputs": redact(self.raw_inputs), "secretInputs": self.secret_inputs,
            **({"aliases": self.aliases} if self.aliases else {}),
        }


KIND_ORDER = ["Namespace", "NetworkPolicy", "ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim",
              "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "StatefulSet", "Deployment",
              "DaemonSet", "Job", "CronJob", "Ingress"]


def _apply_order(record: Record) -> tuple:
    kind = record.raw_inputs.get("kind", "")
    metadata = record.raw_inputs.get("metadata", {})
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (rank, kind, str(metadata.get("namespace", "")), str(metadata.get("name", "")), record.urn)


def canonical(value: Any, top: bool = True) -> Any:
    """Sorted keys (apiVersion, kind, metadata first) so renders compare line by line."""
    if isinstance(value, dict):
        head = [k for k in ("apiVersion", "kind", "metadata") if top and k in value]
        rest = sorted(k for k in value if k not in head)
        return {k: canonical(value[k], False) for k in head + rest}
    if isinstance(value, list):
        return [canonical(v, False) for v in value]
    return value


@dataclass
class Synthesis:
    stack: str
    records: list[Record] = field(default_factory=list)
    outputs: dict = field(default_factory=dict)  # stack outputs, secrets still wrapped
    warnings: list[str] = field(default_factory=list)
    error: Optional[str] = None
    generated_secrets: list[str] = field(default_factory=list)  # every value the mocks generated as secret

    @property
    def ok(self) -> bool:
        return self.error is None

    def kubernetes_objects(self) -> list[Record]:
        """In the order a reader (and `kubectl apply`) wants: namespaces first, then by kind and name."""
        return sorted((r for r in self.records if r.is_kubernetes_object), key=_apply_order)

    def manifests(self, redacted: bool = True) -> list[dict]:
        return [r.manifest(redacted) for r in self.kubernetes_objects()]

    def find(self, type_suffix: str, name: str) -> Record:
        for record in self.records:
            if record.type.endswith(type_suffix) and record.name == name:
                return record
        raise KeyError(f"{type_suffix} {name}")


def stack_file(stack: str, project_dir: Path = ROOT) -> Path:
    return project_dir / "stacks" / f"Pulumi.{stack}.yaml"


def read_stack_config(stack: str, project_dir: Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as the CLI hands it to a program: strings, objects as JSON."""
    path = stack_file(stack, project_dir)
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in path.parent.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack '{stack}': {path} does not exist (stacks: {', '.join(known)})")
    return config_as_cli_passes_it(stack_file_config(path))


class StackFileError(ValueError):
    """A stack file that is not YAML, or not shaped like one: `file:line:column: problem`."""


def stack_file_config(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file; a YAML syntax error is one line with its position."""
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        raise StackFileError(f"{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{shown}: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict) or not isinstance(document.get("config") or {}, dict):
        raise StackFileError(f"{shown}: must be a mapping with a `config:` mapping inside")
    return document.get("config") or {}


def config_as_cli_passes_it(config: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.append(key)
            value = "offline-placeholder-for-" + key  # ciphertext cannot be read without the stack
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            values[key] = json.dumps(value)
        else:
            values[key] = str(value)
    return values, secret_keys


_LOOPS: list[asyncio.AbstractEventLoop] = []
_LOOPS_LOCK = threading.Lock()


def _event_loop_for_this_thread() -> asyncio.AbstractEventLoop:
    """This thread's event loop, closed at exit. The SDK's mocks make one per RPC worker thread and
    never close it; collected only at interpreter shutdown, after its self-pipe socket, such a loop
    prints "Exception ignored in BaseEventLoop.__del__ ... Invalid file descriptor: -1"."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()  # on the main thread, made if missing
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    with _LOOPS_LOCK:
        if not _LOOPS:
            atexit.register(_close_loops)
        if loop not in _LOOPS:
            _LOOPS.append(loop)
    return loop


def _close_loops() -> None:
    for loop in _LOOPS:
        if not loop.is_running() and not loop.is_closed():
            loop.close()


def _fake(seed: str, length: int = 32) -> str:
    return "mock" + hashlib.sha256(seed.encode()).hexdigest()[: max(length - 4, 8)]


def _pem(label: str, seed: str) -> str:
    return f"-----BEGIN {label}-----\n{_fake(seed, 64)}\n-----END {label}-----\n"


def _provider_outputs(type_: str, name: str, inputs: dict) -> dict:
    """What each provider would return beyond its inputs (deterministic stand-ins)."""
    seed = f"{type_}::{name}"
    if type_ in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
        value = _fake(seed, int(inputs.get("length", 32)))
        return {"result": value, "bcryptHash": "$2a$10$" + _fake(seed + "bcrypt", 53)}
    if type_ == "tls:index/privateKey:PrivateKey":
        return {"privateKeyPem": _pem("PRIVATE KEY", seed), "privateKeyOpenssh": _pem("OPENSSH PRIVATE KEY", seed),
                "publicKeyPem": _pem("PUBLIC KEY", seed + "pub"),
                "publicKeyOpenssh": "ssh-ed25519 " + _fake(seed + "ssh", 68) + "\n"}
    if type_ in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
        return {"certPem": _pem("CERTIFICATE", seed)}
    if type_ == "tls:index/certRequest:CertRequest":
        return {"certRequestPem": _pem("CERTIFICATE REQUEST", seed)}
    return {}


def _kubernetes_defaults(name: str, inputs: dict) -> dict:
    """The provider auto-names objects without metadata.name and defaults their namespace."""
    if "apiVersion" not in inputs or "kind" not in inputs:
        return inputs
    inputs = copy.deepcopy(inputs)
    metadata = inputs.setdefault("metadata", {})
    if not metadata.get("name"):
        metadata["name"] = f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    if inputs["kind"] not in CLUSTER_SCOPED and not inputs["kind"].endswith("List") and not metadata.get("namespace"):
        metadata["namespace"] = DEFAULT_NAMESPACE
    return inputs


def synthesize(stack: str, project_dir: Path = ROOT, config: Optional[dict[str, str]] = None,
               secret_keys: Optional[list[str]] = None, project: str = "jenkins-k8s") -> Synthesis:
    """Run `project_dir/__main__.py` for `stack` under mocks; config defaults to the stack file's."""
    import pulumi
    from google.protobuf import empty_pb2
    from pulumi.runtime import mocks, rpc, settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.sync_await import _sync_await

    if config is None:
        config, secret_keys = read_stack_config(stack, project_dir)
    synthesis = Synthesis(stack=stack)

    class Providers(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            # args.inputs already carry the Kubernetes provider's defaults (RegisterResource below).
            return f"{args.name}-id", {**args.inputs, **_provider_outputs(args.typ, args.name, args.inputs)}

        def call(self, args: pulumi.runtime.MockCallArgs):
            return {}, None

    providers = Providers()

    class Engine:
        def Log(self, request):
            from pulumi.runtime.proto import engine_pb2
            if request.severity == engine_pb2.WARNING:
                synthesis.warnings.append(request.message)

    class Monitor(mocks.MockMonitor):
        def make_urn(self, parent: str, type_: str, name: str) -> str:
            # The engine qualifies a child's type with its parent's whole type chain
            # (the SDK's mock keeps only the last link).
            parent_type = parent.split("::")[2] if parent else ""
            if parent_type and parent_type != "pulumi:pulumi:Stack":  # the root stack is left out
                type_ = parent_type + "$" + type_
            return f"urn:pulumi:{stack}::{project}::{type_}::{name}"

        def RegisterResource(self, request):
            # The SDK mock's RegisterResource, done once here: it would deserialize and
            # serialize every resource a second time.
            urn = self.make_urn(request.parent, request.type, request.name)
            if request.type == "pulumi:pulumi:Stack":
                return resource_pb2.RegisterResourceResponse(urn=urn)
            _event_loop_for_this_thread()  # deserializing resource references needs one on this thread
            inputs = _kubernetes_defaults(request.name, rpc.deserialize_properties(request.object))
            resource_id, state = providers.new_resource(pulumi.runtime.MockResourceArgs(
                typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
                resource_id=request.importId, custom=request.custom or False))
            for key in request.additionalSecretOutputs:  # the engine marks these secret
                if key in state and not is_secret(state[key]):
                    state[key] = wrap_secret(state[key])
                    synthesis.generated_secrets.extend(_leaf_strings(unwrap(state[key])))
            self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
            synthesis.records.append(Record(
                urn=urn, type=request.type, name=request.name, parent=request.parent,
                custom=request.custom, protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete), depends_on=list(request.dependencies),
                provider=request.provider, raw_inputs=inputs,
                aliases=[{k: v for k, v in (("type", a.spec.type), ("name", a.spec.name), ("urn", a.urn)) if v}
                         for a in request.aliases],
            ))
            obj = _sync_await(rpc.serialize_properties(state, {}))
            return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

        def RegisterResourceOutputs(self, request):
            if request.urn.endswith("pulumi:pulumi:Stack::" + f"{project}-{stack}"):
                synthesis.outputs = rpc.deserialize_properties(request.outputs)
            return super().RegisterResourceOutputs(request)

    monitor = Monitor(providers)
    settings.reset_options()
    pulumi.runtime.set_all_config({k: v for k, v in config.items()}, list(secret_keys or []))
    settings.configure(mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
        engine=Engine(), project=project, stack=stack, dry_run=False, organization="organization",
        callbacks=None,
    ))
    settings.ROOT.set(None)

    program = project_dir / "__main__.py"
    added_path = str(project_dir) not in sys.path
    if added_path:
        sys.path.insert(0, str(project_dir))
    _event_loop_for_this_thread()
    try:
        _sync_await(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
    except pulumi.RunError as exc:
        synthesis.error = str(exc)
    finally:
        if added_path:
            sys.path.remove(str(project_dir))
    return synthesis


def _leaf_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaf_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaf_strings(v)]
    return []


def known_stacks(project_dir: Path = ROOT) -> list[str]:
    order = {"dev": 0, "staging": 1, "prod": 2}
    names = [p.name[len("Pulumi."):-len(".yaml")] for p in (project_dir / "stacks").glob("Pulumi.*.yaml")]
    return sorted(names, key=lambda n: (order.get(n, 9), n))
