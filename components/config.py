"""The one typed model of everything under the `jenkins:` config namespace, and its loader."""
from __future__ import annotations

import json
import typing
from typing import Annotated, Any, Literal, Optional, Union

import pulumi
from pydantic import Field, ValidationError, field_validator, model_validator

from . import defaults
from .config_network import AgentEgressConfig, ExposureConfig
from .config_site import CaBundleConfig, ImagesConfig, ProxyConfig, docker_config_problem
from .config_types import (
    DnsLabel, DnsName, Model, OptionalStorageClass, PinnedImage, ResourcesConfig, StorageSize,
)
from .jcasc_fragments import secret_literals
from .credential_config import CREDENTIAL_TYPE_NAMES, CREDENTIAL_TYPES, CredentialConfig
from .plugin_lock import extra_plugin_problem, load_lock
from .scheduling import DisruptionBudgetConfig, SchedulingConfig
from .pools import POOL_CONFIGS, POOL_TYPES
from .pools.docker_cloud_dind import credential_id as dind_credential_id
from .secret_values import plain_text_problems, secret_config_keys
from .security_config import REALM_TAGS, REALM_TYPES, SecurityConfig
from .site import ImageOutsideRegistry, mirrored

NAMESPACE = "jenkins"
SECRET_ONLY_KEYS = ("imagePullDockerConfig",)


class ConfigError(Exception):
    """A stack config problem, already phrased as the one line the user sees."""


def _configured_images(data: Any, where: str = ""):
    """(key path, image) for every `image`/`*Image` string the user configured."""
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{where}.{key}" if where else key
            if isinstance(value, str) and (key == "image" or key.endswith("Image")):
                yield path, value
            else:
                yield from _configured_images(value, path)
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            yield from _configured_images(value, f"{where}[{index}]")


class RestoreConfig(Model):
    volume_snapshot_name: DnsName = Field(description=(
        "VolumeSnapshot in the controller's namespace that a new JENKINS_HOME claim starts from "
        "(the claim's dataSource). Only for a stack whose claim does not exist yet."))


class StorageConfig(Model):
    size: StorageSize = Field(defaults.CONTROLLER_STORAGE, description="Size of the JENKINS_HOME claim the program creates.")
    storage_class_name: OptionalStorageClass = Field(None, description="Storage class of the claim the program creates; unset: the cluster default.")
    # protect + retainOnDelete on JENKINS_HOME (and its namespace): `pulumi destroy` keeps the data.
    protect: bool = Field(True, description="protect and retainOnDelete on the JENKINS_HOME claim and the controller's namespace.")
    existing_claim: Optional[DnsName] = Field(None, description=(
        "Mount this existing claim (in the controller's namespace) as JENKINS_HOME instead of creating one; "
        "the program never creates, changes or deletes it."))
    restore_from: Optional[RestoreConfig] = Field(None, description="Create the JENKINS_HOME claim from a VolumeSnapshot.")

    @model_validator(mode="after")
    def _one_source(self) -> "StorageConfig":
        if self.existing_claim is not None:
            conflicting = sorted({"size", "storage_class_name", "restore_from"} & self.model_fields_set)
            if conflicting:
                names = ", ".join(type(self).model_fields[name].alias or name for name in conflicting)
                raise ValueError(f"existingClaim mounts a claim the program does not create; remove {names}")
        return self


class BackupConfig(Model):
    schedule: Annotated[str, Field(pattern=r"^[0-9*/,-]+( [0-9A-Za-z*/,-]+){4}$", description=(
        "Cron schedule (five fields, the CronJob's own syntax) of the JENKINS_HOME snapshots."))]
    volume_snapshot_class_name: DnsName = Field(description="VolumeSnapshotClass each snapshot is taken with.")
    retention: Annotated[int, Field(ge=1, le=100, description="How many snapshots the job keeps; older ones are deleted.")] = 7
    image: PinnedImage = Field(defaults.KUBECTL_IMAGE, description="Pinned image with bash and kubectl that runs the job.")


class PluginSupplyConfig(Model):
    # download: an init container installs the stack's locked plugin list onto JENKINS_HOME (only
    # when the list changed). image: the controller image already holds exactly that list in
    # /usr/share/jenkins/ref/plugins (built from the lock, see README); it is checked, not fetched.
    source: Literal["download", "image"] = "download"
    """`download`: an init container installs the stack's locked plugin list onto `JENKINS_HOME` when the list changed; `image`: the controller image already holds exactly that list in `/usr/share/jenkins/ref/plugins`, which is checked, not fetched."""


class ControllerConfig(Model):
    image: PinnedImage = defaults.JENKINS_IMAGE
    """The controller's image, pinned to a tag other than `latest` or to a digest."""
    resources: ResourcesConfig = defaults.CONTROLLER_RESOURCES
    """Requests and limits of the controller container."""
    storage: StorageConfig = StorageConfig()
    """The `JENKINS_HOME` volume."""
    admin_user: DnsLabel = "admin"
    """User name of the Jenkins administrator; the password is generated and kept in a Kubernetes Secret."""
    system_message: Annotated[str, Field(max_length=500)] = "Jenkins, managed by Pulumi: change it in the stack config."
    """Message Jenkins shows on its home page (at most 500 characters)."""
    java_opts: tuple[Annotated[str, Field(pattern=r"^-\S+$")], ...] = ()
    """Extra JVM options for the controller, one option per item, each starting with `-`."""
    plugins: PluginSupplyConfig = PluginSupplyConfig()
    """Where the controller's plugins come from."""
    # Extra plugins beyond what the pools need: id -> version, which must be the locked one.
    extra_plugins: dict[Annotated[str, Field(pattern=r"^[a-zA-Z0-9_.-]+$")],
                        Annotated[str, Field(pattern=r"^[0-9][A-Za-z0-9._-]*$")]] = {}
    """Plugins to install besides those the pools need, as plugin id -> version; each must be in the plugin lock at the locked version."""
    backup: Optional[BackupConfig] = Field(None, description="Scheduled VolumeSnapshots of JENKINS_HOME.")
    scheduling: SchedulingConfig = Field(SchedulingConfig(), description=(
        "where the controller pod may run: nodeSelector, tolerations, affinity, topologySpreadConstraints, "
        "priorityClassName"))
    disruption_budget: DisruptionBudgetConfig = Field(DisruptionBudgetConfig(), description=(
        "PodDisruptionBudget of the controller pod; the default (maxUnavailable 0) blocks node drains "
        "until it is disabled or the pod deleted by hand, so a drain never kills running builds"))


class KubernetesProviderConfig(Model):
    context: Optional[Annotated[str, Field(min_length=1)]] = None
    """kubeconfig context to deploy to; unset uses the current context."""
    # Render manifests to this directory instead of applying them: `pulumi up` with no cluster.
    render_yaml_to_directory: Optional[Annotated[str, Field(min_length=1)]] = None
    """Write manifests to this directory instead of applying them, so `pulumi up` needs no cluster."""

    @model_validator(mode="after")
    def _one_target(self) -> "KubernetesProviderConfig":
        if self.context and self.render_yaml_to_directory:
            raise ValueError("set either context or renderYamlToDirectory, not both")
        return self


FragmentName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]


class JcascFragmentConfig(Model):
    config: dict[str, Any] = Field(
        min_length=1,
        description="A JCasC document (roots such as jenkins, unclassified, credentials, jobs) merged "
                    "into the generated one: mappings merge, lists append, and a key the program (or "
                    "another fragment) already sets to a different value is refused. Secret-looking "
                    "keys (password, token, secret, privateKey, ...) take only a ${name} reference.")
    unverified: bool = Field(
        False,
        description="Let through keys that components/upstream/jcasc.yaml does not list (the preview "
                    "cannot prove the pinned Jenkins accepts them; a wrong one stops Jenkins at boot). "
                    "Keys it lists are checked either way.")

    @field_validator("config")
    @classmethod
    def _no_secret_literals(cls, config: dict) -> dict:
        found = list(secret_literals(config))
        if found:
            raise ValueError(f"{found[0]} looks like a secret and holds a literal; give it as a ${{name}} "
                             f"reference to a secret the controller mounts, never the value itself")
        return config


JobName = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
# Git remote URLs: scheme URLs or scp-like `user@host:path`. No quotes, backslashes, `$`, spaces or
# braces: the value is written into a job-dsl script, and JCasC resolves `${...}` in that script.
GitRemote = Annotated[str, Field(max_length=500,
                                 pattern=r"^(https?://|ssh://|git://|[A-Za-z0-9._-]+@)[A-Za-z0-9._~:/@%+=,-]+$")]


class SeedJobConfig(Model):
    name: JobName = Field(description="Name of the multibranch Pipeline job (and of its branch source's id).")
    repository: GitRemote = Field(
        description="Git remote URL (https://..., ssh://..., or user@host:path). Credentials never go "
                    "in the URL: use credentialsId.")
    branch: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9._/*-]+( [A-Za-z0-9._/*-]+)*$")] = Field(
        "main", description="Branches to build: a name, or wildcard patterns separated by spaces (e.g. 'main release-*').")
    script_path: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")] = Field(
        "Jenkinsfile", description="Path of the Pipeline script in the repository.")
    credentials_id: Optional[Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]] = Field(
        None, description="Id of a Jenkins credential used to clone the repository (see jenkins:credentials); "
                          "none for a public repository.")
    scan_interval: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}[mhd]$")] = Field(
        "1h", description="How often branches are re-scanned when no webhook arrives (e.g. 15m, 1h, 1d; "
                          "Jenkins keeps it between 1 minute and 30 days).")

    # Before the pattern check, whose message would repeat the value (and so the secret).
    @field_validator("repository", mode="before")
    @classmethod
    def _no_password_in_url(cls, url: Any) -> Any:
        if not isinstance(url, str):
            return url
        scheme, sep, rest = url.partition("://")
        userinfo = rest.split("/", 1)[0].rpartition("@")[0] if sep else ""
        if ":" in userinfo:
            raise ValueError("must not hold a password or token (user:secret@host); use credentialsId")
        return url


class ServiceMonitorConfig(Model):
    interval: Annotated[str, Field(pattern=r"^[1-9][0-9]*(s|m)$", description="Scrape interval.")] = "30s"
    labels: dict[Annotated[str, Field(pattern=r"^([a-z0-9.-]+/)?[A-Za-z0-9._-]{1,63}$")],
                 Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{0,63}$")]] = Field(
        {}, description="Labels on the ServiceMonitor, for the Prometheus that selects it.")


class MetricsConfig(Model):
    monitoring_namespace: DnsLabel = Field(description="The only namespace whose pods may scrape the controller's 8080.")
    service_monitor: Optional[ServiceMonitorConfig] = Field(None, description=(
        "Register a monitoring.coreos.com/v1 ServiceMonitor (its CRD must exist in the cluster)."))


PoolUnion = Annotated[Union[tuple(POOL_CONFIGS)], Field(discriminator="type")]


def repeated(values) -> list[str]:
    """The values that occur more than once, sorted (for "... is used twice" errors)."""
    seen: list[str] = list(values)
    return sorted({value for value in seen if seen.count(value) > 1})


class StackConfig(Model):
    environment: DnsLabel
    """Environment name: selects the policy config `policy/config/<environment>.json`."""
    namespace: Annotated[str, Field(min_length=1, max_length=42, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    """The controller's namespace; each pool gets `<namespace>-<pool name>`. At most 42 characters, so pool namespaces stay within 63."""
    controller: ControllerConfig = ControllerConfig()
    """The Jenkins controller."""
    exposure: ExposureConfig = ExposureConfig()
    """How clients reach the web UI."""
    kubernetes: KubernetesProviderConfig = KubernetesProviderConfig()
    """Where resources go: a kubeconfig context or a directory of rendered manifests."""
    network_policies: bool = True
    """Create NetworkPolicies that let only agents, the ingress controller and `allowFromNamespaces` reach the controller."""
    agent_egress: Optional[AgentEgressConfig] = Field(
        None, validate_default=True,
        description="Egress limits for every pool namespace (defaults: DNS, the controller, the internet "
                    "outside private ranges); needs networkPolicies.")
    metrics: Optional[MetricsConfig] = Field(None, description="The Prometheus plugin and who may scrape it.")
    pools: tuple[PoolUnion, ...] = ()
    """Agent pools; each item has a `name` and a `type` that selects its other keys."""
    jcasc: dict[FragmentName, JcascFragmentConfig] = Field(
        {}, description="Named JCasC fragments merged, in order, after what the program generates.")
    jobs: tuple[SeedJobConfig, ...] = Field(
        (), description="Multibranch Pipeline jobs a new or restored controller creates at boot (job-dsl via JCasC).")

    @field_validator("jobs")
    @classmethod
    def _job_names_unique(cls, jobs: tuple) -> tuple:
        twice = repeated(job.name for job in jobs)
        if twice:
            raise ValueError(f"job name '{twice[0]}' is used twice; job names must be unique")
        return jobs
    credentials: tuple[CredentialConfig, ...] = Field(
        (), description="Credentials for builds, in Jenkins' system store; secret parts from secure config or Secrets.")
    security: SecurityConfig = Field(SecurityConfig(), description="Sign-in realm and authorization.")

    @field_validator("credentials")
    @classmethod
    def _credential_ids_unique(cls, credentials: tuple) -> tuple:
        twice = repeated(credential.id for credential in credentials)
        if twice:
            raise ValueError(f"credential id {', '.join(repr(i) for i in twice)} is used twice; ids must be unique")
        return credentials

    images: ImagesConfig = Field(
        ImagesConfig(), description="Registry prefix, pull secrets and plugin mirror for restricted networks.")
    image_pull_docker_config: Optional[dict[str, Any]] = Field(
        None, repr=False, description="A Docker config JSON ({\"auths\": ...}) set with `pulumi config set --secret`; the program "
                          "creates a kubernetes.io/dockerconfigjson Secret from it in every namespace that runs pods "
                          "and adds it to their imagePullSecrets.")
    ca_bundle: Optional[CaBundleConfig] = Field(
        None, description="Extra CAs trusted by the controller, jenkins-plugin-cli, the agents' JVMs and dockerd "
                          "(for the images.registry host).")
    proxy: Optional[ProxyConfig] = Field(
        None, description="HTTP(S) proxy for the controller, plugin downloads, agents and Docker daemons.")

    @field_validator("image_pull_docker_config")
    @classmethod
    def _docker_config(cls, value):
        if value is not None and (problem := docker_config_problem(value)):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _job_credentials_are_managed(self) -> "StackConfig":
        # JCasC replaces the system credential store at every boot, so a seed job can only rely on
        # a credential this config declares (see `jenkins:credentials`).
        known = {credential.id for credential in self.credentials}
        problems = [f"{NAMESPACE}:jobs[{i}].credentialsId: no credential '{job.credentials_id}' in "
                    f"{NAMESPACE}:credentials (declared: {', '.join(sorted(known)) or 'none'})"
                    for i, job in enumerate(self.jobs) if job.credentials_id and job.credentials_id not in known]
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _images_under_registry(self) -> "StackConfig":
        registry = self.images.registry
        if registry is None:
            return self
        problems = []
        for where, ref in _configured_images(self.model_dump(by_alias=True, exclude={"image_pull_docker_config"})):
            try:
                mirrored(ref, registry)
            except ImageOutsideRegistry as exc:
                problems.append(f"{NAMESPACE}:{where}: {exc}")
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    @field_validator("agent_egress")
    @classmethod
    def _egress_needs_policies(cls, value, info):
        if value is not None and info.data.get("network_policies") is False:
            raise ValueError("has no effect with networkPolicies: false (which turns every NetworkPolicy off)")
        return value

    @property
    def effective_agent_egress(self) -> AgentEgressConfig:
        return self.agent_egress or AgentEgressConfig()

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



def _location(loc: tuple) -> str:
    """('pools', 0, 'kubernetes', 'templates', 1, 'label') -> 'pools[0].templates[1].label'."""
    out = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _is_pool_tag(previous, part) or _is_wrapper(part):
            pass  # the discriminator tag and validator wrappers pydantic inserts; the user never wrote them
        else:
            out += ("." if out else "") + part
        previous = part
    return out


def _is_pool_tag(previous: Any, part: Any) -> bool:
    """A discriminator tag pydantic inserts: a pool or credential type after a list index, a realm type."""
    if isinstance(previous, int):
        return part in POOL_TYPE_NAMES or part in CREDENTIAL_TAGS
    return previous == "realm" and part in REALM_TAGS


def _is_wrapper(part: Any) -> bool:
    return isinstance(part, str) and part.startswith(("function-after", "function-wrap", "function-before"))


def _model_in(annotation: Any) -> Optional[type]:
    """The model class inside Optional[...], tuple[...], Annotated[...]; None for scalars and unions."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    models = {m for arg in typing.get_args(annotation) if (m := _model_in(arg)) is not None}
    return models.pop() if len(models) == 1 else None


def _keys_of(cls: type) -> list[str]:
    return sorted(field.alias or name for name, field in cls.model_fields.items())


def _model_at(loc: tuple) -> Optional[type]:
    """The model whose keys are allowed at `loc`, following field names (not pool type names,
    which pydantic inserts only after a list index)."""
    cls: Optional[type] = StackConfig
    previous: Any = None
    for part in loc:
        if isinstance(part, int) or _is_wrapper(part):
            pass
        elif _is_pool_tag(previous, part):
            cls = POOL_TYPES[part][0] if part in POOL_TYPES else {**CREDENTIAL_TAGS, **REALM_TAGS}[part]
        elif cls is None:
            return None
        else:
            fields = {field.alias or name: field for name, field in cls.model_fields.items()}
            cls = _model_in(fields[part].annotation) if part in fields else None
        previous = part
    return cls


_POOL_TYPE_LIST = ", ".join(POOL_TYPES)
# pydantic error types -> what the user wrote wrong, in the config's own words.
_PLAIN = {
    "missing": "required key is missing",
    "tuple_type": "must be a list", "list_type": "must be a list",
    "model_type": "must be a mapping of keys to values", "dict_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "string_type": "must be a string (quote it in YAML)",
    "int_type": "must be a whole number", "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
}


def _describe(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _model_at(tuple(error["loc"])[:-1])
        return f"unknown key (allowed: {', '.join(_keys_of(model))})" if model else "unknown key"
    if kind in _PLAIN:
        return _PLAIN[kind]
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        what, names = _TAGGED.get(error["loc"][0] if error["loc"] else "", ("pool type", _POOL_TYPE_LIST))
        if tuple(error["loc"][-1:]) == ("realm",):
            what, names = "realm type", ", ".join(REALM_TYPES)
        if kind == "union_tag_not_found":
            return f"required key is missing (one of: {names})"
        return f"'{ctx.get('tag')}' is not a {what} (one of: {names})"
    if kind == "string_pattern_mismatch":
        return f"'{error['input']}' is not allowed (must match {ctx['pattern']})"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return f"needs {'at least' if kind == 'too_short' else 'at most'} {bound} item{'s' * (bound != 1)}"
    if kind in ("string_too_short", "string_too_long"):
        bound = ctx.get("min_length") if kind == "string_too_short" else ctx.get("max_length")
        return f"must be {'at least' if kind == 'string_too_short' else 'at most'} {bound} characters long"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
                 "greater_than": ("more than", "gt"), "less_than": ("less than", "lt")}[kind]
        return f"must be {words[0]} {ctx.get(words[1])}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message.replace("Input should be", "must be")


def _where(error: dict) -> str:
    where = _location(tuple(error["loc"]))
    if error["type"] in ("union_tag_not_found", "union_tag_invalid"):
        where += ".type"  # the discriminator is the key the user must fix
    return where


def format_errors(error: ValidationError) -> str:
    items = error.errors()
    locations = [tuple(item["loc"]) for item in items]
    parts = []
    for item, loc in zip(items, locations):
        # An error on a list or mapping whose own items failed is a consequence, not a second fault.
        if any(other[:len(loc)] == loc and len(other) > len(loc) for other in locations):
            continue
        where = _where(item)
        parts.append(f"{NAMESPACE}:{where}: {_describe(item)}" if where else f"{NAMESPACE}: {_describe(item)}")
    return "; ".join(parts).replace("\n", " ")


POOL_TYPE_NAMES = set(POOL_TYPES)
CREDENTIAL_TAGS = dict(zip(CREDENTIAL_TYPE_NAMES, CREDENTIAL_TYPES))
_TAGGED = {"credentials": ("credential type", ", ".join(CREDENTIAL_TYPE_NAMES))}
_ALLOWED_KEYS = _keys_of(StackConfig)

# Under `pulumi up` the language host hands the program every stack config key in PULUMI_CONFIG
# (pulumi/pulumi 1b594989, sdk/python/cmd/pulumi-language-python/main.go:1669-1674), so the
# program sees all namespaces. Accepted besides its own: the engine's (`pulumi:`, read in
# pkg/resource/deploy/default_providers.go:271) and those of the providers it uses as default
# providers, which get their package's namespace as inputs (default_providers.go:143). The
# Kubernetes provider is an explicit one built from jenkins:kubernetes.*, so `kubernetes:*` keys
# reach nothing and are refused.
OTHER_NAMESPACES = frozenset({"pulumi", "random", "tls"})
PROVIDER_KEYS = {f"kubernetes:{key}": f"{NAMESPACE}:kubernetes.{key}"
                 for key in _keys_of(KubernetesProviderConfig)}


def _foreign_key_error(full_key: str) -> Optional[str]:
    namespace, _, key = full_key.partition(":")
    key = key.removeprefix("config:")
    if namespace in (NAMESPACE, *OTHER_NAMESPACES):
        return None
    if namespace == "kubernetes":
        if f"kubernetes:{key}" in PROVIDER_KEYS:
            return (f"kubernetes:{key}: not read by this program's Kubernetes provider; "
                    f"set {PROVIDER_KEYS['kubernetes:' + key]} instead")
        return (f"kubernetes:{key}: not supported (the program's Kubernetes provider is configured only by "
                f"{' and '.join(PROVIDER_KEYS.values())})")
    hint = f"; did you mean {NAMESPACE}:{key}?" if key.split(".")[0] in _ALLOWED_KEYS else ""
    others = ", ".join(f"{name}:*" for name in sorted(OTHER_NAMESPACES))
    return f"{full_key}: unknown config namespace '{namespace}' (this program reads {NAMESPACE}:*; also {others}){hint}"


def _raw_namespace(all_config: dict[str, Any]) -> dict[str, Any]:
    """Collect `jenkins:*` keys, refusing keys no part of the program would read;
    object values arrive as JSON text, scalars as strings."""
    foreign = [message for key in sorted(all_config) if (message := _foreign_key_error(key))]
    if foreign:
        raise ConfigError("; ".join(foreign))
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


# Pool types whose agents sign in to Jenkins as a user the program creates in Jenkins' own user
# database; another realm replaces that database (Jenkins holds one SecurityRealm: core
# Jenkins.setSecurityRealm, jenkins-2.568.2 core/src/main/java/jenkins/model/Jenkins.java:2729).
LOCAL_LOGIN_POOL_TYPES = ("swarm", "swarm-dind")


def semantic_problems(config: StackConfig, secret_keys: frozenset[str] = frozenset()) -> list[str]:
    """What the model alone cannot see: plain-text secrets, plugins outside the lock, pools that need
    Jenkins' own user database under another realm."""
    problems = []
    lock = load_lock()
    for plugin_id, version in config.controller.extra_plugins.items():
        problem = extra_plugin_problem(lock, plugin_id, version)
        if problem:
            problems.append(f"{NAMESPACE}:controller.extraPlugins.{plugin_id}: {problem}")
    problems += plain_text_problems(
        ((f"[{index}]", part) for index, credential in enumerate(config.credentials)
         for part in credential.secret_parts()),
        f"{NAMESPACE}:credentials", f"{NAMESPACE}:credentials" in secret_keys)
    problems += plain_text_problems(
        ((".realm", part) for part in config.security.realm.secret_parts),
        f"{NAMESPACE}:security", f"{NAMESPACE}:security" in secret_keys)
    generated = {dind_credential_id(pool.name): pool.name for pool in config.pools if pool.type == "docker-cloud-dind"}
    for index, credential in enumerate(config.credentials):
        if credential.id in generated:
            problems.append(f"{NAMESPACE}:credentials[{index}].id: '{credential.id}' is the id of the TLS credential "
                            f"pool {generated[credential.id]} generates; choose another id")
    realm = config.security.realm.type
    if realm != "local":
        for index, pool in enumerate(config.pools):
            if pool.type in LOCAL_LOGIN_POOL_TYPES:
                problems.append(
                    f"{NAMESPACE}:pools[{index}]: a {pool.type} pool signs in as a Jenkins user of the local "
                    f"realm, which realm {realm} replaces, so its agents could not connect; use a kubernetes "
                    f"pool (its agents need no Jenkins user) or keep realm local")
    return problems


def parse_stack_config(raw: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> StackConfig:
    """Validate a `jenkins:` namespace given as {key: value}; raise ConfigError with one line.
    `secret_keys`: the full config keys (`jenkins:credentials`) the engine marks as holding a secret."""
    unknown = sorted(set(raw) - set(_ALLOWED_KEYS))
    problems = [f"{NAMESPACE}:{key}: unknown key (allowed: {', '.join(_ALLOWED_KEYS)})" for key in unknown]
    try:
        config = StackConfig.model_validate({k: v for k, v in raw.items() if k not in unknown})
    except ValidationError as exc:
        problems.append(format_errors(exc))  # every fault at once, not only the first one found
        config = None
    problems += [f"{NAMESPACE}:{key}: holds registry credentials, so it must be set with "
                 f"`pulumi config set --secret {NAMESPACE}:{key} ...` (it is stored in plain text now)"
                 for key in SECRET_ONLY_KEYS if key in raw and f"{NAMESPACE}:{key}" not in secret_keys]
    if config is not None:
        problems += semantic_problems(config, frozenset(secret_keys))
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def load_stack_config() -> StackConfig:
    """Read the running stack's config; a bad value stops the program before any resource exists."""
    from pulumi.runtime import config as runtime_config

    all_config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = frozenset(key.replace(":config:", ":") for key in secret_config_keys())
    try:
        return parse_stack_config(_raw_namespace(all_config), secret_keys)
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
