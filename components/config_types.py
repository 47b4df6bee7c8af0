"""Building blocks shared by every config model: strict base class and validated scalar types."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """Frozen, unknown keys rejected, camelCase keys in YAML and snake_case in Python."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=False,
    )
    # A field's description is the docstring under it. tools.config_schema reads those for the
    # schema and the reference; pydantic's use_attribute_docstrings would read them again at every
    # import, about 0.3 s of each program run, for descriptions the program never shows.


# RFC 1123 label: what Kubernetes accepts for namespaces, Services and most object names.
DnsLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
]

# A pool name ends up inside namespace and object names, so it is kept short.
PoolName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20, pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
]

DnsName = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=253,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    ),
]

# A Jenkins label expression atom: no spaces, no operators.
JenkinsLabel = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _pinned_image(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._/:-]*(@sha256:[a-f0-9]{64})?", value):
        raise ValueError("not an image reference (registry/name:tag or name@sha256:digest)")
    if "@sha256:" in value:
        return value
    name, _, tag = value.rpartition(":")
    if not name or "/" in tag or tag in ("", "latest"):
        raise ValueError("image must be pinned to a tag other than 'latest' or to a digest")
    return value


PinnedImage = Annotated[str, AfterValidator(_pinned_image)]

_CPU = re.compile(r"^(\d+(\.\d+)?)(m?)$")
_MEMORY = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_FACTORS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                   "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def cpu_cores(value: str) -> Decimal:
    match = _CPU.match(value)
    if not match:
        raise ValueError("CPU quantity must look like 500m or 2")
    amount = Decimal(match.group(1))
    return amount / 1000 if match.group(3) else amount


def memory_bytes(value: str) -> int:
    match = _MEMORY.match(value)
    if not match:
        raise ValueError("memory quantity must look like 512Mi or 4Gi")
    return int(match.group(1)) * _MEMORY_FACTORS[match.group(2)]


def _positive_cpu(value: str) -> str:
    if cpu_cores(value) <= 0 or cpu_cores(value) > 256:
        raise ValueError("CPU must be more than 0 and at most 256 cores")
    return value


def _positive_memory(value: str) -> str:
    if memory_bytes(value) < 2**20 or memory_bytes(value) > 2**40:
        raise ValueError("memory must be between 1Mi and 1Ti")
    return value


def _storage_size(value: str) -> str:
    if memory_bytes(value) < 2**30 or memory_bytes(value) > 64 * 2**40:
        raise ValueError("storage size must be between 1Gi and 64Ti")
    return value


CpuQuantity = Annotated[str, AfterValidator(_positive_cpu)]
MemoryQuantity = Annotated[str, AfterValidator(_positive_memory)]
StorageSize = Annotated[str, AfterValidator(_storage_size)]


class Quantities(Model):
    cpu: CpuQuantity
    """CPU in Kubernetes notation: cores (`2`, `0.5`) or millicores (`500m`); more than 0, at most 256 cores."""
    memory: MemoryQuantity
    """Memory in Kubernetes notation (`512Mi`, `4Gi`, `1G`); between 1Mi and 1Ti."""


class ResourcesConfig(Model):
    """Requests and limits of one container; limits may not be below requests."""

    requests: Quantities
    """What the scheduler reserves for the container (`cpu`, `memory`)."""
    limits: Quantities
    """The most the container may use (`cpu`, `memory`); each at least the matching request."""

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> "ResourcesConfig":
        if cpu_cores(self.limits.cpu) < cpu_cores(self.requests.cpu):
            raise ValueError(f"limits.cpu {self.limits.cpu} is below requests.cpu {self.requests.cpu}")
        if memory_bytes(self.limits.memory) < memory_bytes(self.requests.memory):
            raise ValueError(
                f"limits.memory {self.limits.memory} is below requests.memory {self.requests.memory}"
            )
        return self

    def as_kubernetes(self) -> dict:
        return {
            "requests": {"cpu": self.requests.cpu, "memory": self.requests.memory},
            "limits": {"cpu": self.limits.cpu, "memory": self.limits.memory},
        }


def resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> ResourcesConfig:
    return ResourcesConfig(
        requests=Quantities(cpu=cpu_request, memory=memory_request),
        limits=Quantities(cpu=cpu_limit, memory=memory_limit),
    )


Executors = Annotated[int, Field(ge=1, le=64)]
Replicas = Annotated[int, Field(ge=1, le=100)]
OptionalStorageClass = Optional[DnsName]
