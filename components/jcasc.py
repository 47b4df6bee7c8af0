"""JCasC as plain data: the controller's base document and the merge of pool fragments."""
from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

from . import defaults


class JcascConflict(ValueError):
    pass


def merge(base: Mapping[str, Any], fragment: Mapping[str, Any], path: str = "") -> dict:
    """Deep merge: mappings merge, lists append, equal scalars agree, different scalars conflict."""
    merged = copy.deepcopy(dict(base))
    for key, value in fragment.items():
        where = f"{path}.{key}" if path else key
        if key not in merged:
            merged[key] = copy.deepcopy(value)
        elif isinstance(merged[key], Mapping) and isinstance(value, Mapping):
            merged[key] = merge(merged[key], value, where)
        elif isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = merged[key] + copy.deepcopy(value)
        elif merged[key] != value:
            raise JcascConflict(f"JCasC key {where} is set to both {merged[key]!r} and {value!r}")
    return merged


def merge_all(base: Mapping[str, Any], fragments: Iterable[Mapping[str, Any]]) -> dict:
    document = dict(base)
    for fragment in fragments:
        document = merge(document, fragment)
    return document


def controller_document(*, admin_user: str, admin_password_ref: str, url: str, system_message: str,
                        executors: int, labels: Iterable[str]) -> dict:
    """Setup wizard off (JAVA_OPTS), one local admin whose password JCasC reads from a mounted file."""
    label_string = " ".join(sorted(set(labels)))
    return {
        "jenkins": {
            "systemMessage": system_message,
            "numExecutors": executors,
            "mode": "EXCLUSIVE" if executors else "NORMAL",
            "labelString": label_string,
            "slaveAgentPort": defaults.AGENT_PORT,
            "disableRememberMe": True,
            "securityRealm": {"local": {
                "allowsSignup": False,
                "users": [{"id": admin_user, "password": admin_password_ref}],
            }},
            "authorizationStrategy": {"globalMatrix": {"entries": [
                {"user": {"name": admin_user, "permissions": ["Overall/Administer"]}},
            ]}},
            "crumbIssuer": {"standard": {"excludeClientIPFromCrumb": True}},
            "remotingSecurity": {"enabled": True},
        },
        "unclassified": {"location": {"url": url}},
    }


def secret_ref(file_name: str) -> str:
    """How JCasC names a value read from $SECRETS/<file_name>."""
    return "${" + file_name + "}"
