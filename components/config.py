"""The one typed model of everything under the `jenkins:` config namespace, and its loader."""
from __future__ import annotations

import json
import typing
from typing import Annotated, Any, Literal, Optional, Union

import pulumi
from pydantic import Field, ValidationError, field_validator, model_validator

from . import defaults
from .config_types import (
    DnsLabel, DnsName, JenkinsLabel, Model, OptionalStorageClass, PinnedImage, ResourcesConfig, StorageSize,
)
from .pools import POOL_CONFIGS, POOL_TYPES

NAMESPACE = "jenkins"


class StorageConfig(Model):
    size: StorageSize = defaults.CONTROLLER_STORAGE
    storage_class_name: OptionalStorageClass = None
    # protect + retainOnDelete on JENKINS_HOME (and its namespace): `pulumi destroy` keeps the data.
    protect: bool = True


class ControllerConfig(Model):
    image: PinnedImage = defaults.JENKINS_IMAGE
    resources: ResourcesConfig = defaults.CONTROLLER_RESOURCES
    storage: StorageConfig = StorageConfig()
    admin_user: DnsLabel = "admin"
    system_message: Annotated[str, Field(max_length=500)] = "Jenkins, managed by Pulumi: change it in the stack config."
    java_opts: tuple[Annotated[str, Field(pattern=r"^-\S+$")], ...] = ()
    # Extra plugins beyond what the pools need: id -> exact version.
    extra_plugins: dict[Annotated[str, Field(pattern=r"^[a-zA-Z0-9_.-]+$")],
                        Annotated[str, Field(pattern=r"^[0-9][A-Za-z0-9._-]*$")]] = {}


class IngressConfig(Model):
    host: DnsName
    class_name: Optional[DnsLabel] = None
    tls_secret_name: Optional[DnsName] = None
    # Namespace of the ingress controller: the only one let through to 8080 besides agents.
    controller_namespace: DnsLabel = "ingress-nginx"


class ExposureConfig(Model):
    ingress: Optional[IngressConfig] = None
    # Namespaces (besides agents and the ingress controller) whose pods may reach the web UI/API.
    allow_from_namespaces: tuple[DnsLabel, ...] = ()


class KubernetesProviderConfig(Model):
    context: Optional[Annotated[str, Field(min_length=1)]] = None
    # Render manifests to this directory instead of applying them: `pulumi up` with no cluster.
    render_yaml_to_directory: Optional[Annotated[str, Field(min_length=1)]] = None

    @model_validator(mode="after")
    def _one_target(self) -> "KubernetesProviderConfig":
        if self.context and self.render_yaml_to_directory:
            raise ValueError("set either context or renderYamlToDirectory, not both")
        return self


PoolUnion = Annotated[Union[tuple(POOL_CONFIGS)], Field(discriminator="type")]


class StackConfig(Model):
    environment: DnsLabel
    namespace: Annotated[str, Field(min_length=1, max_length=42, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    controller: ControllerConfig = ControllerConfig()
    exposure: ExposureConfig = ExposureConfig()
    kubernetes: KubernetesProviderConfig = KubernetesProviderConfig()
    network_policies: bool = True
    pools: tuple[PoolUnion, ...] = ()

    @field_validator("pools")
    @classmethod
    def _pools_consistent(cls, pools: tuple) -> tuple:
        seen: set[str] = set()
        for pool in pools:
            if pool.name in seen:
                raise ValueError(f"pool name '{pool.name}' is used twice; pool names must be unique")
            seen.add(pool.name)
        on_controller = [p.name for p in pools if p.type == "controller"]
        if len(on_controller) > 1:
            raise ValueError(f"at most one pool of type controller, got {', '.join(on_controller)}")
        return pools

    @property
    def pool_types(self) -> set[str]:
        return {pool.type for pool in self.pools}


class ConfigError(Exception):
    """A stack config problem, already phrased as the one line the user sees."""


def _location(loc: tuple) -> str:
    """('pools', 0, 'kubernetes', 'templates', 1, 'label') -> 'pools[0].templates[1].label'."""
    out = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(previous, int) and part in POOL_TYPE_NAMES:
            pass  # the discriminator tag pydantic inserts; the user never wrote it
        elif part.startswith("function-after") or part.startswith("function-wrap"):
            pass
        else:
            out += ("." if out else "") + part
        previous = part
    return out


def _model_in(annotation: Any) -> Optional[type]:
    """The model class inside Optional[...], tuple[...], Annotated[...]; None for scalars and unions."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    models = {m for arg in typing.get_args(annotation) if (m := _model_in(arg)) is not None}
    return models.pop() if len(models) == 1 else None


def _allowed_keys(loc: tuple) -> list[str]:
    cls: Optional[type] = StackConfig
    for part in loc[:-1]:
        if cls is None:
            return []
        if isinstance(part, int):
            continue
        if part in POOL_TYPES:
            cls = POOL_TYPES[part][0]
            continue
        fields = {field.alias or name: field for name, field in cls.model_fields.items()}
        cls = _model_in(fields[part].annotation) if part in fields else None
    if cls is None:
        return []
    return sorted(field.alias or name for name, field in cls.model_fields.items())


def _describe(error: dict) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(error["loc"]))
        return f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "string_pattern_mismatch":
        return f"'{error['input']}' is not allowed (must match {error['ctx']['pattern']})"
    return message


def format_errors(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = _location(tuple(item["loc"]))
        parts.append(f"{NAMESPACE}:{where}: {_describe(item)}" if where else f"{NAMESPACE}: {_describe(item)}")
    return "; ".join(parts).replace("\n", " ")


POOL_TYPE_NAMES = set(POOL_TYPES)
_ALLOWED_KEYS = sorted(field.alias or name for name, field in StackConfig.model_fields.items())


def _raw_namespace(all_config: dict[str, Any]) -> dict[str, Any]:
    """Collect `jenkins:*` keys; object values arrive as JSON text, scalars as strings."""
    raw: dict[str, Any] = {}
    for full_key, value in all_config.items():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        key = key.removeprefix("config:")
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{NAMESPACE}:{key}: not valid JSON ({exc.msg})") from None
        raw[key] = value
    return raw


def parse_stack_config(raw: dict[str, Any]) -> StackConfig:
    """Validate a `jenkins:` namespace given as {key: value}; raise ConfigError with one line."""
    unknown = sorted(set(raw) - set(_ALLOWED_KEYS))
    problems = [f"{NAMESPACE}:{key}: unknown key (allowed: {', '.join(_ALLOWED_KEYS)})" for key in unknown]
    try:
        config = StackConfig.model_validate({k: v for k, v in raw.items() if k not in unknown})
    except ValidationError as exc:
        problems.append(format_errors(exc))  # every fault at once, not only the first one found
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def load_stack_config() -> StackConfig:
    """Read the running stack's config; a bad value stops the program before any resource exists."""
    from pulumi.runtime import config as runtime_config

    all_config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    try:
        return parse_stack_config(_raw_namespace(all_config))
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
