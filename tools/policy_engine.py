"""Run the CrossGuard policy pack offline, the way the Pulumi engine does.

The pack is started like Pulumi's python language host starts a policy pack:
``<python> -m pulumi.policy <engine-address> <pack-dir>`` with the pack dir as cwd; it prints the
port of its Analyzer gRPC server. We serve a minimal Engine (collecting Log calls) for the
address, then speak the Analyzer protocol with the generated stubs in ``pulumi.runtime.proto``:
GetAnalyzerInfo, Configure (config reconciled as the CLI does), ConfigureStack, Analyze for every
registered resource, AnalyzeStack once.

What the engine sends (pulumi/pulumi @1b5949891b3c, after v3.259.0):
- Analyze goes to *every* registered resource, custom or not: components with their inputs,
  providers with theirs, the root `pulumi:pulumi:Stack` (pkg/resource/deploy/step_generator.go
  continueStepsFromImport :1401-1469, no goal.Custom guard), with the inputs after the provider's
  Check (:1300-1360), and the resource's provider with *its* inputs (:1423-1431, :3476-3484).
- AnalyzeStack gets every resource of the deployment with its *outputs* (:3518-3520).
- Properties are marshalled with KeepUnknowns and KeepSecrets (pkg/resource/plugin/
  analyzer_plugin.go:306-307, :350-351, :771-772): unknowns arrive as the sentinel string,
  secrets wrapped (pulumi-policy unwraps them, deserialize.py:52-74 @v1.21.0).
- The pack process gets the stack's config, project, stack, organization and dry-run flag in
  its environment (sdk/python/cmd/pulumi-language-python/main.go:1648-1676, from the engine's
  ConfigureStack, pkg/resource/plugin/analyzer_plugin.go:228-249; the config is the decrypted
  stack config, pkg/engine/update.go:1102-1115).

Config reconciliation mirrors pulumi/pulumi pkg/resource/analyzer/config.go: each policy starts
with its configSchema defaults and its default enforcement level; then the pack's initialConfig,
then the file are applied ("all" first sets every policy's enforcement level, then each named
entry sets its level and merges its properties key by key); finally each policy's properties
are validated against its schema. On top of what the CLI checks, unknown policy names and
unknown option keys are refused (a typo must not silently drop an exemption or a rule).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from .harness import CLUSTER_SCOPED, UNKNOWN, wrap_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACK_DIR = REPO_ROOT / "policy"

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
_START_TIMEOUT = 60.0
# Analyze calls in flight at once. The engine analyzes one resource at a time: its executor
# handles one registration event at a time (pkg/resource/deploy/deployment_executor.go:278-316
# @1b5949891b3c), each one's steps calling analyzeAll (step_generator.go:1469, :3450), and
# AnalyzeStack comes once every resource is done. A few calls in flight keep the pack's worker
# threads busy; thousands at once (a large manifest check) had the pack's gRPC server cancel some
# of them now and then (seen here from ~1,600 calls in flight, grpcio 1.85.3).
_IN_FLIGHT = 16


class PolicyConfigError(Exception):
    """A --policy-pack-config problem, phrased as the one line the user sees."""


class PolicyPackError(Exception):
    """The pack failed to start or crashed."""


@dataclass(frozen=True)
class PolicyResource:
    urn: str
    type: str
    name: str
    properties: dict                      # Analyze: inputs after Check; secrets may be wrapped in place
    secret_keys: tuple[str, ...] = ()     # top-level property keys whose value is secret
    parent: str = ""
    protect: bool = False
    custom: bool = True
    dependencies: tuple[str, ...] = ()
    provider: str = ""                    # a provider reference, `<provider urn>::<id>`
    outputs: Optional[dict] = None        # AnalyzeStack: the resource's outputs (None: same as properties)
    additional_secret_outputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyViolation:
    policy_name: str
    enforcement_level: str                # "mandatory" | "advisory" ("remediate" reports as mandatory)
    message: str
    urn: str
    resource_name: str
    resource_type: str


# ---- config: parse and reconcile like the CLI ------------------------------------------------

@dataclass
class _Entry:
    level: Optional[str] = None
    properties: Optional[dict] = None


def _parse_config_file(path: Path) -> dict[str, _Entry]:
    """`{"all": "mandatory", "<policy>": "advisory" | {"enforcementLevel": ..., <options>}}`."""
    where = f"policy config {path}"
    try:
        text = path.read_text()
    except OSError as e:
        raise PolicyConfigError(f"{where}: cannot read: {e.strerror}") from None
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise PolicyConfigError(f"{where}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    if not isinstance(raw, dict):
        raise PolicyConfigError(f"{where}: must be a JSON object of policy name -> level or options")
    result = {}
    for name, value in raw.items():
        if isinstance(value, str):
            if value not in LEVELS:
                raise PolicyConfigError(f'{where}: policy "{name}": "{value}" is not a valid enforcement '
                                        f"level (one of {', '.join(LEVELS)})")
            result[name] = _Entry(level=value)
        elif isinstance(value, dict):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
            if level is not None and level not in LEVELS:
                raise PolicyConfigError(f'{where}: policy "{name}", key "enforcementLevel": {json.dumps(level)} '
                                        f"is not a valid enforcement level (one of {', '.join(LEVELS)})")
            if level is None and not props:
                continue  # the CLI drops empty entries
            result[name] = _Entry(level=level, properties=props or None)
        else:
            raise PolicyConfigError(f'{where}: policy "{name}": {json.dumps(value)} is not a valid value; '
                                    "must be an enforcement level or an object")
    return result


def _apply(result: dict[str, _Entry], config: Mapping[str, _Entry]) -> None:
    everything = config.get("all")
    if everything is not None and everything.level:
        for entry in result.values():
            entry.level = everything.level
    for name, given in config.items():
        entry = result.setdefault(name, _Entry())
        if given.level:
            entry.level = given.level
        if given.properties:
            entry.properties = {**(entry.properties or {}), **given.properties}


def _schema_path(error) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def reconcile_config(policies: list[dict], initial: Mapping[str, _Entry],
                     file_config: Mapping[str, _Entry], source: str) -> dict[str, _Entry]:
    """Defaults <- pack initialConfig <- file, then validation. `policies` come from GetAnalyzerInfo."""
    import jsonschema  # only the harness needs it, never the pack

    known = {p["name"] for p in policies}
    for name in file_config:
        if name != "all" and name not in known:
            raise PolicyConfigError(f'{source}: unknown policy "{name}" (the pack has: '
                                    f"{', '.join(sorted(known))})")
    result: dict[str, _Entry] = {}
    for p in policies:
        props = {k: v["default"] for k, v in p["schema"].get("properties", {}).items()
                 if isinstance(v, dict) and "default" in v}
        result[p["name"]] = _Entry(level=p["level"], properties=props or None)
    _apply(result, initial)
    _apply(result, file_config)

    for p in policies:
        schema_props = p["schema"].get("properties", {})
        props = result[p["name"]].properties or {}
        for key in props:
            if key not in schema_props:
                options = ", ".join(sorted(schema_props)) or "none"
                raise PolicyConfigError(f'{source}: policy "{p["name"]}": unknown option "{key}" '
                                        f"(options: {options})")
        schema = {"type": "object", "properties": schema_props}
        if p["schema"].get("required"):
            schema["required"] = p["schema"]["required"]
        validator = jsonschema.Draft7Validator(schema)
        errors = sorted(validator.iter_errors(props), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            key = _schema_path(e) or "(options)"
            raise PolicyConfigError(f'{source}: policy "{p["name"]}", key "{key}": {_short(e)}')
    return result


def _short(error) -> str:
    if error.validator in ("anyOf", "oneOf"):
        return "does not match the schema (an allow entry needs namespaces and/or podLabels)" \
            if "namespaces" in json.dumps(error.schema) else "does not match any allowed form"
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."


# ---- wire format -------------------------------------------------------------------------------

def _struct(values: Mapping[str, Any], secret_keys: Iterable[str] = ()):
    from google.protobuf import struct_pb2

    secrets = set(secret_keys)
    plain = {k: (wrap_secret(v) if k in secrets else v) for k, v in values.items()}
    struct = struct_pb2.Struct()
    struct.update(_jsonable(plain))
    return struct


def _jsonable(value: Any) -> Any:
    """YAML can hand us dates and tuples; the engine's property values are JSON-like, and an
    unknown value travels as the sentinel string (harness.UNKNOWN)."""
    from pulumi.output import Unknown

    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# ---- the engine side ---------------------------------------------------------------------------

def _engine_server(logs: list):
    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

    class Engine(engine_pb2_grpc.EngineServicer):
        def Log(self, request, context):
            logs.append((engine_pb2.LogSeverity.Name(request.severity), request.message, request.urn))
            return empty_pb2.Empty()

        def GetRootResource(self, request, context):
            return engine_pb2.GetRootResourceResponse()

        def SetRootResource(self, request, context):
            return engine_pb2.SetRootResourceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(Engine(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def _pack_python(pack_dir: Path) -> str:
    """The interpreter the CLI runs a local pack with: <pack>/<runtime.options.virtualenv>/bin/python.
    The Python language host execs exactly that and never creates the virtualenv for a local pack
    (pulumi/pulumi v3.259.0 sdk/python/cmd/pulumi-language-python/main.go:233-247 parseOptions,
    :1528-1641 RunPlugin; sdk/python/toolchain/pip.go:178-193 Command), so a missing one fails here
    as it fails there."""
    import yaml

    options = ((yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {})
               .get("runtime", {}) or {}).get("options", {}) or {}
    venv = options.get("virtualenv")
    if not isinstance(venv, str) or not venv:
        raise PolicyPackError(f"{pack_dir / 'PulumiPolicy.yaml'}: runtime.options.virtualenv is not set; "
                              "the pack runs from its own virtualenv (scripts/prepare-policy-pack.sh makes it)")
    python = pack_dir / venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        raise PolicyPackError(f"the policy pack's virtualenv {pack_dir / venv} does not exist (the Pulumi CLI "
                              "would not start the pack either): run scripts/prepare-policy-pack.sh")
    return str(python)


class PolicyPackSession:
    """One running pack: start it, configure it, analyze, shut it down (a context manager)."""

    def __init__(self, pack_dir: Path = DEFAULT_PACK_DIR, stack: str = "offline",
                 project: str = "jenkins-k8s", config: Optional[Mapping[str, str]] = None,
                 secret_keys: Iterable[str] = (), dry_run: bool = True):
        """`config`: the stack config as the CLI hands it to programs (`jenkins:pools` -> JSON
        text); `dry_run`: True for `pulumi preview`, False for `pulumi up`."""
        self.pack_dir = Path(pack_dir).resolve()
        self.stack, self.project = stack, project
        self.config = dict(config or {})
        self.secret_keys = list(secret_keys)
        self.dry_run = dry_run
        self.logs: list[tuple[str, str, str]] = []
        self.process: Optional[subprocess.Popen] = None
        self._stderr: list[str] = []
        self._engine = None
        self._channel = None
        self.stub = None
        self.info = None
        self.last_pid: Optional[int] = None

    # -- lifecycle
    def __enter__(self) -> "PolicyPackSession":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self._engine, address = _engine_server(self.logs)
        env = dict(os.environ)
        # pulumi-language-python main.go:1661-1672 (maybeAppendEnv skips empty values).
        env.update({"PULUMI_ORGANIZATION": "organization", "PULUMI_PROJECT": self.project,
                    "PULUMI_STACK": self.stack, "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
                    "PULUMI_CONFIG": json.dumps(self.config), "PYTHONUNBUFFERED": "1"})
        self.process = subprocess.Popen(
            [_pack_python(self.pack_dir), "-m", "pulumi.policy", address, str(self.pack_dir)],
            cwd=self.pack_dir, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        port = self._read_port()
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
        grpc.channel_ready_future(self._channel).result(timeout=_START_TIMEOUT)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _drain_stderr(self) -> None:
        assert self.process and self.process.stderr
        for line in iter(self.process.stderr.readline, b""):
            self._stderr.append(line.decode(errors="replace"))

    def _read_port(self) -> int:
        assert self.process and self.process.stdout
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(_START_TIMEOUT)
        line = result[0].strip() if result else b""
        if not line.isdigit():
            self.process.poll()
            reader.join(2)
            detail = "".join(self._stderr).strip().splitlines()
            tail = detail[-1] if detail else "no output"
            raise PolicyPackError(f"policy pack {self.pack_dir} did not start: {tail}")
        return int(line)

    def close(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            # The pack keeps no state worth a graceful stop (SIGINT costs ~0.25 s of its
            # server's shutdown grace); its whole process group goes at once.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        if proc is not None:
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        self.last_pid = proc.pid if proc is not None else None
        # After the pack is gone: closing a channel to a live server waits ~0.2 s for its goodbye.
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._engine is not None:
            self._engine.stop(None)
            self._engine = None

    # -- protocol
    def get_info(self):
        from google.protobuf import empty_pb2, json_format

        info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        self.info = info
        policies = []
        from pulumi.runtime.proto import analyzer_pb2
        for p in info.policies:
            schema = json_format.MessageToDict(p.configSchema) if p.HasField("configSchema") else {}
            policies.append({
                "name": p.name,
                "level": analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel).lower(),
                "type": analyzer_pb2.PolicyType.Name(p.policy_type),
                "schema": schema,
            })
        initial = {}
        for name, cfg in info.initialConfig.items():
            props = json_format.MessageToDict(cfg.properties) if cfg.HasField("properties") else None
            initial[name] = _Entry(level=analyzer_pb2.EnforcementLevel.Name(cfg.enforcementLevel).lower(),
                                   properties=props or None)
        return policies, initial

    def configure(self, config_file: Optional[Path]) -> dict[str, _Entry]:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2

        policies, initial = self.get_info()
        source = f"policy config {config_file}" if config_file else "policy pack defaults"
        file_config = _parse_config_file(Path(config_file)) if config_file else {}
        config = reconcile_config(policies, initial, file_config, source)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in config.items():
            level = analyzer_pb2.EnforcementLevel.Value((entry.level or "advisory").upper())
            pc = request.policyConfig[name]
            pc.enforcementLevel = level
            if entry.properties:
                pc.properties.update(_jsonable(entry.properties))
        self.stub.Configure(request)
        try:
            self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack, project=self.project, organization="organization", dry_run=self.dry_run,
                config=self.config, config_secret_keys=self.secret_keys))
        except grpc.RpcError as e:  # older SDKs: the engine tolerates UNIMPLEMENTED too
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
        return config

    @staticmethod
    def _options(r: PolicyResource):
        """analyzer_plugin.go:737-764 (marshalResourceOptions): custom timeouts always present."""
        from pulumi.runtime.proto import analyzer_pb2
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=r.protect, parent=r.parent, additionalSecretOutputs=list(r.additional_secret_outputs),
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts())

    @staticmethod
    def _provider(r: PolicyResource, providers: Mapping[str, PolicyResource]):
        """A provider reference is `<provider urn>::<id>`; the URN has four `::` parts. The engine
        sends the provider resource with its inputs (step_generator.go:1423-1431)."""
        from pulumi.runtime.proto import analyzer_pb2
        if not r.provider:
            return None
        parts = r.provider.split("::")
        if len(parts) < 4:
            return None
        urn = "::".join(parts[:4])
        known = providers.get(urn)
        properties = _struct(known.properties, known.secret_keys) if known else _struct({})
        # The resource's own type, not the URN's parent-qualified one (`...$pulumi:providers:x`).
        type_ = known.type if known else parts[2].rsplit("$", 1)[-1]
        return analyzer_pb2.AnalyzerProviderResource(type=type_, urn=urn, name=parts[3], properties=properties)

    def check(self, resources: list[PolicyResource], config_file: Optional[Path]) -> list[PolicyViolation]:
        """Configure from `config_file`, analyze every resource and the stack. A running session
        can check several stacks, each with its own config."""
        return self.start_check(resources, config_file)()

    def start_check(self, resources: list[PolicyResource],
                    config_file: Optional[Path]) -> Callable[[], list[PolicyViolation]]:
        """`check`, split: the requests go out now and the pack works on them in its own process;
        the returned function waits for the verdicts. The caller can do other work in between."""
        urns = [r.urn for r in resources]
        if len(set(urns)) != len(urns):
            raise ValueError("resources must have unique URNs")
        by_urn = {r.urn: r for r in resources}
        self.configure(Path(config_file) if config_file else None)
        pending = self.start_analyze(resources)
        return lambda: [_violation(d, urn, by_urn) for d, urn in pending()]

    def analyze(self, resources: list[PolicyResource]) -> list[tuple[Any, str]]:
        """(diagnostic, urn) pairs; a resource's diagnostics belong to it, as in the engine."""
        return self.start_analyze(resources)()

    def start_analyze(self, resources: list[PolicyResource]) -> Callable[[], list[tuple[Any, str]]]:
        """`analyze`, split: a thread sends the requests, at most _IN_FLIGHT Analyze calls at a time,
        then AnalyzeStack; the returned function waits for it and gives the diagnostics."""
        from pulumi.runtime.proto import analyzer_pb2

        requests = []
        stack_resources = []
        providers = {r.urn: r for r in resources if r.type.startswith("pulumi:providers:")}
        for r in resources:
            properties = _struct(r.properties, r.secret_keys)
            options, provider = self._options(r), self._provider(r, providers)
            requests.append(analyzer_pb2.AnalyzeRequest(type=r.type, urn=r.urn, name=r.name, properties=properties,
                                                        options=options, provider=provider))
            outputs = properties if r.outputs is None else _struct(r.outputs, r.secret_keys)
            stack_resources.append(analyzer_pb2.AnalyzerResource(
                type=r.type, urn=r.urn, name=r.name, properties=outputs, options=options,
                provider=provider, parent=r.parent, dependencies=list(r.dependencies)))
        stack_request = analyzer_pb2.AnalyzeStackRequest(resources=stack_resources)
        stub = self.stub
        responses: list = []
        failed: list[BaseException] = []

        def send() -> None:
            slots = threading.BoundedSemaphore(_IN_FLIGHT)
            calls = []
            try:
                for request in requests:
                    slots.acquire()
                    call = stub.Analyze.future(request)
                    call.add_done_callback(lambda _: slots.release())
                    calls.append(call)
                responses.extend(call.result() for call in calls)
                responses.append(stub.AnalyzeStack(stack_request))
            except BaseException as e:  # re-raised on the caller's thread
                failed.append(e)

        sender = threading.Thread(target=send, name="policy-pack-analyze", daemon=True)
        sender.start()

        def collect() -> list[tuple[Any, str]]:
            sender.join()
            if failed:
                raise failed[0]
            urns = [r.urn for r in resources] + [""]
            return [(d, d.urn or urn) for response, urn in zip(responses, urns) for d in response.diagnostics]
        return collect


def _violation(d, urn: str, by_urn: Mapping[str, PolicyResource]) -> PolicyViolation:
    from pulumi.runtime.proto import analyzer_pb2

    text = d.message
    if d.description and text.startswith(d.description):
        text = text[len(d.description):].lstrip("\n") or text
    r = by_urn.get(urn)
    return PolicyViolation(
        policy_name=d.policyName,
        enforcement_level=analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel).lower(),
        message=text,
        urn=urn,
        resource_name=r.name if r else "",
        resource_type=r.type if r else "",
    )


def run_policy_pack(resources: list[PolicyResource], config_file: Optional[Path],
                    pack_dir: Path = DEFAULT_PACK_DIR, **session_options) -> list[PolicyViolation]:
    """Start the pack once, configure it from `config_file`, analyze every resource and the
    stack, stop it. Raises PolicyConfigError (one line) when the config is refused.
    `session_options` go to PolicyPackSession (stack, project, config, dry_run)."""
    with PolicyPackSession(pack_dir, **session_options) as session:
        return session.check(resources, config_file)


# ---- Kubernetes manifests ----------------------------------------------------------------------

# The Kubernetes provider marks these inputs secret; the engine sends them as secrets.
SECRET_FIELDS = {"Secret": ("data", "stringData")}


def type_token(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


def manifests_to_resources(paths: list[Path], stack: str = "offline",
                           project: str = "jenkins-k8s") -> list[tuple[Path, PolicyResource]]:
    """Multi-document Kubernetes YAML (and `kind: List`) -> resources as the engine would see
    them. Namespaced objects without a namespace get "default"."""
    import yaml

    out: list[tuple[Path, PolicyResource]] = []
    seen: dict[str, int] = {}
    for path in paths:
        path = Path(path)
        with path.open() as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        stack_docs = list(docs)
        while stack_docs:
            doc = stack_docs.pop(0)
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                raise ValueError(f"{path}: every document needs apiVersion and kind")
            if doc["kind"] == "List":
                stack_docs[:0] = list(doc.get("items") or [])
                continue
            doc = json.loads(json.dumps(_jsonable(doc)))  # a private, JSON-like copy
            kind = doc["kind"]
            metadata = doc.setdefault("metadata", {}) or {}
            doc["metadata"] = metadata
            if kind not in CLUSTER_SCOPED and not metadata.get("namespace"):
                metadata["namespace"] = "default"
            name = metadata.get("name") or metadata.get("generateName") or f"{kind.lower()}"
            logical = f"{metadata['namespace']}/{name}" if kind not in CLUSTER_SCOPED else name
            token = type_token(doc["apiVersion"], kind)
            key = f"{token}::{logical}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                logical = f"{logical}#{seen[key]}"
            urn = f"urn:pulumi:{stack}::{project}::{token}::{logical}"
            out.append((path, PolicyResource(urn=urn, type=token, name=logical, properties=doc,
                                             secret_keys=tuple(k for k in SECRET_FIELDS.get(kind, ())
                                                               if k in doc))))
    return out


# ---- CLI ------------------------------------------------------------------------------------------

def check_manifests_main(argv: list[str]) -> int:
    """python -m tools.check --policy-config FILE [--format text|json] MANIFEST.yaml..."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.check",
        description="Run the policy pack over Kubernetes manifests, as `pulumi preview --policy-pack` would.")
    parser.add_argument("--policy-config", type=Path, default=None,
                        help="a --policy-pack-config file, e.g. policy/config/prod.json")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--pack-dir", type=Path, default=DEFAULT_PACK_DIR)
    parser.add_argument("manifests", nargs="+", type=Path)
    args = parser.parse_args(argv)

    try:
        located = manifests_to_resources(args.manifests)
        violations = run_policy_pack([r for _, r in located], args.policy_config, args.pack_dir)
    except (PolicyConfigError, PolicyPackError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # yaml errors and the like: still one line
        print(f"error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
        return 2

    by_urn: dict[str, list[PolicyViolation]] = {}
    for v in violations:
        by_urn.setdefault(v.urn, []).append(v)
    entries = []
    for path, r in located:
        meta = r.properties.get("metadata") or {}
        entries.append({
            "file": str(path), "kind": r.properties.get("kind"),
            "namespace": meta.get("namespace"), "name": meta.get("name") or r.name,
            "violations": [{"policy": v.policy_name, "level": v.enforcement_level, "message": v.message}
                           for v in by_urn.pop(r.urn, [])],
        })
    for urn, orphans in by_urn.items():  # stack-level findings with no resource
        entries.append({"file": None, "kind": None, "namespace": None, "name": urn or "(stack)",
                        "violations": [{"policy": v.policy_name, "level": v.enforcement_level,
                                        "message": v.message} for v in orphans]})
    mandatory = sum(v["level"] == "mandatory" for e in entries for v in e["violations"])
    total = sum(len(e["violations"]) for e in entries)

    if args.format == "json":
        print(json.dumps(entries, indent=2))
    else:
        for e in entries:
            for v in e["violations"]:
                print(f"{e['file']}: [{v['level']}] {v['policy']}: {v['message']}")
        flagged = sum(1 for e in entries if e["violations"])
        print(f"{total} violation(s), {mandatory} mandatory, in {flagged} of {len(located)} resource(s) "
              f"from {len(args.manifests)} file(s)")
    return 1 if mandatory else 0


if __name__ == "__main__":
    sys.exit(check_manifests_main(sys.argv[1:]))
