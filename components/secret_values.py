"""Secret parts of the stack config: a value set with `pulumi config set --secret`, or a reference to
a key of an existing Kubernetes Secret. Pure: the models, the plain-text check, the file names.

How the program tells a secret config value from a plain one: the engine lists the config keys that
hold a secret in PULUMI_CONFIG_SECRET_KEYS (pulumi/pulumi 1b594989,
sdk/python/cmd/pulumi-language-python/main.go:1073-1074, the list is target.Config.SecureKeys(),
pkg/engine/update.go:1112); the SDK reads it with get_config_secret_keys_env() and, for
programs run in-process, keeps the list set by set_all_config (sdk/python/lib/pulumi/runtime/config.py:51,80-87,111-115).
A key is listed when its value, or anything nested in it, is a `secure:` value
(sdk/go/common/resource/config/object.go:51-72, map.go:105-113). So the program knows which
top-level keys hold a secret, not which leaf: a secret part written in plain text under a key that
holds no `secure:` value at all is refused; under a key that holds one, the engine cannot tell.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Iterable, Optional

from pydantic import Field, WithJsonSchema

from .config_types import DnsName, Model

SecretKey = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")]
# A secret value from the stack config; never echoed in an error (no pattern, no length bound).
# In the stack file such a value is stored encrypted as `{secure: v1:...}` (pulumi/pulumi
# sdk/go/common/resource/config/object.go, the `secure` key of an object value), which is what the
# stack-file schema must accept there; the program receives the decrypted text.
SecretText = Annotated[str, Field(min_length=1), WithJsonSchema({"anyOf": [
    {"type": "string", "minLength": 1},
    {"type": "object", "properties": {"secure": {"type": "string", "minLength": 1, "description":
        "the value as `pulumi config set --secret` stores it, encrypted"}}, "required": ["secure"],
     "additionalProperties": False}]})]


class SecretKeyRef(Model):
    """A key of a Secret that already exists in the controller's namespace."""

    secret_name: DnsName = Field(description="Name of an existing Secret in the controller's namespace.")
    key: SecretKey = Field(description="Key inside that Secret whose value is used.")


@dataclass(frozen=True)
class SecretPart:
    """One secret value of a credential or realm: inline (from secure config) or a Secret reference."""

    name: str  # the config key of the inline value, e.g. `password`; the reference is `<name>From`
    inline: Optional[str]
    ref: Optional[SecretKeyRef]

    @property
    def given(self) -> bool:
        return self.inline is not None or self.ref is not None


def choice_problem(inline: Optional[str], ref: Optional[SecretKeyRef], name: str, required: bool) -> Optional[str]:
    if inline is not None and ref is not None:
        return f"set either {name} or {name}From, not both"
    if required and inline is None and ref is None:
        return f"{name} or {name}From is required"
    return None


def plain_text_problems(parts: Iterable[tuple[str, SecretPart]], top_key: str, top_key_is_secret: bool) -> list[str]:
    """One line per inline secret part sitting in a config key that holds no secret at all."""
    if top_key_is_secret:
        return []
    return [f"{top_key}{where}.{part.name}: a secret in plain text in the stack file; set it with "
            f"`pulumi config set --secret --path '{top_key}{where}.{part.name}' <value>`, "
            f"or point {part.name}From at an existing Kubernetes Secret"
            for where, part in parts if part.inline is not None]


def secret_config_keys() -> set[str]:
    """Config keys that hold a secret: from the engine under `pulumi up`, else from set_all_config."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.get_config_secret_keys_env())
    keys.update(key for key in runtime_config.get_config_env() if runtime_config.is_config_secret(key))
    keys.update(key for key in runtime_config.CONFIG.get() if runtime_config.is_config_secret(key))
    return keys
