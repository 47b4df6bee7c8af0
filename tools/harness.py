"""Run the real Pulumi program under Pulumi's mock runtime and record everything it registers.

The mocks stand in for the engine and the providers, and do what those would do to what the
program hands them: outputs listed in additionalSecretOutputs come back secret, generated values
(passwords, keys, certificates) get deterministic stand-ins, and Kubernetes objects get the
provider's auto-name and default namespace when the program leaves them unset.

Two modes, as the CLI has: `up` (preview=False, every value known) and `preview` (preview=True:
the SDK runs with dry_run, values the providers compute are unknown until apply, and so is
everything the program derives from them). Unknown values are kept as the engine's wire
sentinel `UNKNOWN` in every record.
"""
from __future__ import annotations

import asyncio
import atexit
import base64
import concurrent.futures
import contextvars
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
# The engine's wire form of an unknown value: pulumi/pulumi sdk/go/common/resource/plugin/rpc.go:73
# (UnknownStringValue, @1b5949891b3c); the SDK's rpc.UNKNOWN and pulumi-policy v1.21.0
# sdk/python/lib/pulumi_policy/proxy.py:32 (UNKNOWN_STRING_VALUE) use the same string. The engine
# sends unknowns to a policy pack as this string (Analyze/AnalyzeStack marshal with
# KeepUnknowns: true, pkg/resource/plugin/analyzer_plugin.go:306-307,350-351).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_DISPLAY = "(unknown)"

# Kinds the Kubernetes provider never puts in a namespace.
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass",
    "CustomResourceDefinition", "PriorityClass", "RuntimeClass", "IngressClass", "CSIDriver",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "VolumeAttachment",
})


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def unknown_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of the unknown leaves (a secret's unknown value counts at the secret's path)."""
    if is_secret(value):
        return unknown_paths(value["value"], path)
    if is_unknown(value):
        return [path or "."]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in unknown_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in unknown_paths(v, f"{path}[{i}]")]
    return []


def unknown_count(n: int) -> str:
    return f"{n} value{'' if n == 1 else 's'} unknown until apply"


def show_unknowns(value: Any) -> Any:
    """For people: every unknown leaf printed as `(unknown)`."""
    if is_unknown(value):
        return UNKNOWN_DISPLAY
    if isinstance(value, dict):
        return {k: show_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [show_unknowns(v) for v in value]
    return value


def _sentinel_for_unknowns(value: Any) -> Any:
    """The SDK deserializes the wire sentinel into `pulumi.output.Unknown` objects during a dry
    run; the records keep the wire form, which is what the engine hands on."""
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _sentinel_for_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sentinel_for_unknowns(v) for v in value]
    return value


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
    """Keep a secret's shape (a Secret's stringData stays a mapping), hide every value in it.
    An unknown stays unknown: it reveals nothing, and the schema check must see it as unknown."""
    if isinstance(value, dict) and not is_secret(value):
        return {k: _redact_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_leaves(v) for v in value]
    return UNKNOWN if is_unknown(value) else REDACTED


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
    raw_inputs: dict  # what the program sent, secret values still wrapped
    aliases: list[dict] = field(default_factory=list)  # alias specs: {"type": ..., "name": ...} as the engine gets them
    # What the engine hands a policy pack, secrets wrapped: Analyze gets the inputs after the
    # provider's Check, AnalyzeStack the outputs (see policy_engine).
    checked_inputs: Optional[dict] = None
    outputs: dict = field(default_factory=dict)
    additional_secret_outputs: list[str] = field(default_factory=list)
    # The provider reference the engine resolves for Analyze: the program's, or the default
    # provider the engine registered for it.
    analyzer_provider: str = ""

    @property
    def inputs(self) -> dict:
        return unwrap(self.raw_inputs)

    @property
    def secret_inputs(self) -> list[str]:
        return secret_paths(self.raw_inputs)

    @property
    def is_kubernetes_object(self) -> bool:
        return self.custom and self.type.startswith("kubernetes:") and "apiVersion" in self.raw_inputs

    @property
    def unknown_inputs(self) -> list[str]:
        return unknown_paths(self.raw_inputs)

    def manifest(self, redacted: bool = True) -> dict:
        """The object as the program wrote it; unknown leaves stay the UNKNOWN sentinel."""
        body = redact(self.raw_inputs) if redacted else unwrap(self.raw_inputs)
        return canonical(body)

    def as_json(self) -> dict:
        out = {
            "urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent,
            "custom": self.custom, "protect": self.protect, "retainOnDelete": self.retain_on_delete,
            "dependsOn": self.depends_on, "provider": self.provider,
            "inputs": show_unknowns(redact(self.raw_inputs)), "secretInputs": self.secret_inputs,
            **({"aliases": self.aliases} if self.aliases else {}),
        }
        if self.unknown_inputs:  # only in preview: keeps `up` renders (and their diffs) as they were
            out["unknownInputs"] = self.unknown_inputs
        return out


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
    preview: bool = False
    records: list[Record] = field(default_factory=list)  # what the program registered
    # Registered too, and analyzed by the engine, but not program resources to render or diff:
    root: Optional[Record] = None                     # pulumi:pulumi:Stack
    default_providers: list[Record] = field(default_factory=list)
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

    def analyzed_records(self) -> list[Record]:
        """Everything the engine sends to a policy pack, in registration order: the root stack,
        default providers, then the program's resources."""
        return [r for r in [self.root, *self.default_providers] if r is not None] + self.records

    def unknown_values(self) -> int:
        return sum(len(r.unknown_inputs) for r in self.kubernetes_objects())


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


# Secure keys whose plain value has a shape the program checks: offline the ciphertext cannot be
# read, so the program gets a placeholder of that shape (and the check says nothing of the real value).
SHAPED_SECRET_PLACEHOLDERS = {
    "jenkins:imagePullDockerConfig": json.dumps({"auths": {"offline.invalid": {"auth": "b2ZmbGluZTpwbGFjZWhvbGRlcg=="}}}),
}


def _decrypt_offline(value: Any, where: str, found: list[str]) -> Any:
    """A `secure:` value anywhere in a config value becomes a placeholder, as the engine would
    decrypt it (the ciphertext cannot be read without the stack's key); `found` collects where."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        found.append(where)
        return SHAPED_SECRET_PLACEHOLDERS.get(where, "offline-placeholder-for-" + where)
    if isinstance(value, dict):
        return {k: _decrypt_offline(v, f"{where}.{k}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypt_offline(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    return value


def config_as_cli_passes_it(config: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Values as the engine hands them over, decrypted; a key is listed as secret when its value or
    anything nested in it is `secure:` (pulumi/pulumi 1b594989 sdk/go/common/resource/config/object.go:51-72,
    map.go:105-113)."""
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        found: list[str] = []
        value = _decrypt_offline(value, key, found)
        if found:
            secret_keys.append(key)
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


def _provider_outputs(type_: str, name: str, inputs: dict, preview: bool = False) -> dict:
    """What each provider would return beyond its inputs (deterministic stand-ins). In a preview
    a new resource's computed outputs are unknown: the engine previews a create by calling the
    provider's Create with Preview set and the checked inputs (pulumi/pulumi
    pkg/resource/deploy/step.go:366-373, @1b5949891b3c), and the values pulumi-random and
    pulumi-tls generate (result, keys, certificates) are computed attributes that exist only
    after a real create."""
    computed = _computed_outputs(type_, name, inputs)
    return {key: UNKNOWN for key in computed} if preview else computed


def _computed_outputs(type_: str, name: str, inputs: dict) -> dict:
    seed = f"{type_}::{name}"
    if type_ in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
        length = inputs.get("length", 32)
        value = _fake(seed, int(length) if isinstance(length, (int, float)) else 32)
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
    if not isinstance(metadata, dict):  # unknown as a whole: nothing to default
        return inputs
    if not metadata.get("name"):
        metadata["name"] = f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    if inputs["kind"] not in CLUSTER_SCOPED and not inputs["kind"].endswith("List") and not metadata.get("namespace"):
        metadata["namespace"] = DEFAULT_NAMESPACE
    return inputs


def _contains_unknown(value: Any) -> bool:
    return bool(unknown_paths(value))


def kubernetes_check(inputs: dict) -> dict:
    """The inputs a Kubernetes object has after pulumi-kubernetes' Check, secrets wrapped.

    pulumi/pulumi-kubernetes @94977969d641 (after v4.32.0), provider/pkg/provider/provider.go:
    Check calls normalizeInputs (:1231), which normalizes only objects without unknown values
    (:2983-2990); for a Secret that folds stringData into base64 `data` (stringData overwrites
    data keys, clients/unstructured.go:117-155). annotateSecrets (:1378, :3467-3481) then marks
    a Secret's whole `data` and `stringData` secret. (The typed round-trip of other kinds is
    left out: it only re-spells values the program already writes canonically.)
    """
    if inputs.get("kind") != "Secret" or inputs.get("apiVersion") != "v1":
        return inputs
    checked = dict(inputs)
    string_data = unwrap(checked.get("stringData"))
    if isinstance(string_data, dict) and string_data and not _contains_unknown(inputs) \
            and all(isinstance(v, str) for v in string_data.values()):
        data = unwrap(checked.get("data"))
        data = dict(data) if isinstance(data, dict) else {}
        data.update({k: base64.b64encode(v.encode()).decode() for k, v in string_data.items()})
        checked["data"] = data
        del checked["stringData"]
    for key in ("data", "stringData"):
        if key in checked and not is_secret(checked[key]):
            checked[key] = wrap_secret(unwrap(checked[key]))
    return checked


def _provider_package(type_: str) -> str:
    return type_.split(":", 1)[0]


def _default_provider_name(version: str) -> str:
    """pulumi/pulumi pkg/resource/deploy/providers/provider.go:107-138 (ProviderRequest.DefaultName,
    @1b5949891b3c): "default" then _major_minor_patch."""
    core = version.split("+", 1)[0].split("-", 1)[0]
    parts = (core.split(".") + ["0", "0"])[:3]
    return "default_" + "_".join(parts)


# The language host runs the program from the top level of a fresh interpreter
# (sdk/python/cmd/pulumi-language-python-exec:186-232, @1b5949891b3c), so the SDK's per-resource
# stack trace (runtime/resource.py `_get_stack_trace`, which reads and stats every frame's file)
# walks a few frames. Called from deep inside a test runner it would walk dozens per resource, a
# third of a render; one long-lived thread gives the program the host's shallow stack.
_PROGRAM_THREAD = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pulumi-program")


def synthesize(stack: str, project_dir: Path = ROOT, config: Optional[dict[str, str]] = None,
               secret_keys: Optional[list[str]] = None, project: str = "jenkins-k8s",
               preview: bool = False) -> Synthesis:
    """Run `project_dir/__main__.py` for `stack` under mocks; config defaults to the stack file's.
    `preview` runs it as `pulumi preview` of a new stack would: provider-computed values unknown."""
    context = contextvars.copy_context()  # the caller's context (a test's settings), as a thread can't inherit it
    return _PROGRAM_THREAD.submit(context.run, _synthesize, stack, project_dir, config, secret_keys, project,
                                  preview).result()


def _synthesize(stack: str, project_dir: Path, config: Optional[dict[str, str]], secret_keys: Optional[list[str]],
                project: str, preview: bool) -> Synthesis:
    import pulumi
    from google.protobuf import empty_pb2
    from pulumi.runtime import mocks, rpc, settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.sync_await import _sync_await

    if config is None:
        config, secret_keys = read_stack_config(stack, project_dir)
    synthesis = Synthesis(stack=stack, preview=preview)
    by_urn: dict[str, Record] = {}
    default_providers: dict[tuple[str, str], str] = {}  # (package, version) -> provider reference

    class Providers(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            # args.inputs are the checked inputs (RegisterResource below). A Kubernetes create
            # returns them: in a preview pulumi-kubernetes echoes its inputs when any is unknown
            # or no cluster can dry-run it (provider.go:1728-1735); applied, the live object
            # differs from them only by server-side defaults and status, which need a cluster.
            return f"{args.name}-id", {**args.inputs,
                                       **_provider_outputs(args.typ, args.name, args.inputs, preview)}

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

        def _default_provider(self, type_: str, version: str) -> str:
            """The engine registers a default provider for a custom resource that names none, with
            the package's stack config and the SDK's plugin version as its inputs
            (pkg/resource/deploy/default_providers.go:139-196, @1b5949891b3c)."""
            package = _provider_package(type_)
            key = (package, version)
            if key not in default_providers:
                urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::" \
                      f"{_default_provider_name(version) if version else 'default'}"
                inputs = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(package + ":")}
                if version:
                    inputs["version"] = version
                synthesis.default_providers.append(Record(
                    urn=urn, type=f"pulumi:providers:{package}", name=urn.rsplit("::", 1)[1], parent="",
                    custom=True, protect=False, retain_on_delete=False, depends_on=[], provider="",
                    raw_inputs=inputs, checked_inputs=inputs, outputs=inputs))
                # A provider not yet created has the unknown ID in a preview (providers/registry.go:81).
                default_providers[key] = f"{urn}::{UNKNOWN if preview else 'default-provider-id'}"
            return default_providers[key]

        def RegisterResource(self, request):
            # The SDK mock's RegisterResource, done once here: it would deserialize and
            # serialize every resource a second time.
            urn = self.make_urn(request.parent, request.type, request.name)
            if request.type == "pulumi:pulumi:Stack":
                synthesis.root = by_urn[urn] = Record(
                    urn=urn, type=request.type, name=request.name, parent="", custom=False, protect=False,
                    retain_on_delete=False, depends_on=[], provider="", raw_inputs={}, checked_inputs={})
                return resource_pb2.RegisterResourceResponse(urn=urn)
            _event_loop_for_this_thread()  # deserializing resource references needs one on this thread
            program_inputs = _sentinel_for_unknowns(rpc.deserialize_properties(request.object))
            inputs = _kubernetes_defaults(request.name, program_inputs)
            checked = inputs
            provider_ref = request.provider
            if request.type.startswith("pulumi:providers:"):
                if request.version:  # pkg/resource/deploy/source_eval.go:2669-2675 (SetProviderVersion)
                    checked = {**inputs, "version": request.version}
            elif request.custom and not provider_ref:
                provider_ref = self._default_provider(request.type, request.version)
            if request.type.startswith("kubernetes:") and request.custom:
                checked = kubernetes_check(inputs)
            resource_id, state = providers.new_resource(pulumi.runtime.MockResourceArgs(
                typ=request.type, name=request.name, inputs=checked, provider=request.provider,
                resource_id=request.importId, custom=request.custom or False))
            for key in request.additionalSecretOutputs:  # the engine marks these secret
                if key in state and not is_secret(state[key]):
                    state[key] = wrap_secret(state[key])
                    synthesis.generated_secrets.extend(
                        s for s in _leaf_strings(unwrap(state[key])) if not is_unknown(s))
            self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
            record = by_urn[urn] = Record(
                urn=urn, type=request.type, name=request.name, parent=request.parent,
                custom=request.custom, protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete), depends_on=sorted(request.dependencies),
                provider=request.provider, raw_inputs=inputs, checked_inputs=checked,
                aliases=[{k: v for k, v in (("type", a.spec.type), ("name", a.spec.name), ("urn", a.urn)) if v}
                         for a in request.aliases],
                outputs=state if request.custom else {},
                additional_secret_outputs=list(request.additionalSecretOutputs), analyzer_provider=provider_ref,
            )
            synthesis.records.append(record)
            obj = _sync_await(rpc.serialize_properties(state, {}))
            return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj)

        def RegisterResourceOutputs(self, request):
            outputs = _sentinel_for_unknowns(rpc.deserialize_properties(request.outputs))
            if request.urn in by_urn:  # a component's (or the stack's) outputs: what AnalyzeStack sees
                by_urn[request.urn].outputs = outputs
            if request.urn.endswith("pulumi:pulumi:Stack::" + f"{project}-{stack}"):
                synthesis.outputs = outputs
            return super().RegisterResourceOutputs(request)

    monitor = Monitor(providers)
    settings.reset_options()
    pulumi.runtime.set_all_config({k: v for k, v in config.items()}, list(secret_keys or []))
    settings.configure(mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures),
        engine=Engine(), project=project, stack=stack, dry_run=preview, organization="organization",
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
