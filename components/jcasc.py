"""JCasC as plain data: the controller's base document and the merge of pool fragments."""
from __future__ import annotations

import copy

import yaml
from typing import Any, Iterable, Mapping

from . import defaults


class JcascConflict(ValueError):
    pass


def merge(base: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict:
    """Deep merge: mappings merge, lists append, equal scalars agree, different scalars conflict."""
    return merge_all(base, [fragment])


def merge_all(base: Mapping[str, Any], fragments: Iterable[Mapping[str, Any]]) -> dict:
    document = copy.deepcopy(dict(base))
    for fragment in fragments:
        _merge_into(document, fragment, "")
    return document


def _merge_into(target: dict, fragment: Mapping[str, Any], path: str) -> None:
    for key, value in fragment.items():
        where = f"{path}.{key}" if path else key
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(target[key], Mapping) and isinstance(value, Mapping):
            _merge_into(target[key], value, where)
        elif isinstance(target[key], list) and isinstance(value, list):
            target[key].extend(copy.deepcopy(value))
        elif target[key] != value:
            raise JcascConflict(f"JCasC key {where} is set to both {target[key]!r} and {value!r}")


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
            "slaveAgentPort": defaults.AGENT_LISTENER_DISABLED,
            "disableRememberMe": True,
            "securityRealm": {"local": {
                "allowsSignup": False,
                "users": [{"id": admin_user, "password": admin_password_ref}],
            }},
            "authorizationStrategy": {"globalMatrix": {"entries": [
                {"user": {"name": admin_user, "permissions": ["Overall/Administer"]}},
            ]}},
            # Core's DefaultCrumbIssuer (symbol `standard`) takes no attributes since 2.543: its
            # @DataBoundConstructor has no parameters (jenkinsci/jenkins jenkins-2.568.2,
            # core/src/main/java/hudson/security/csrf/DefaultCrumbIssuer.java:55-56).
            "crumbIssuer": "standard",
        },
        "unclassified": {"location": {"url": url}},
    }


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter when PyYAML has it
    """Multi-line strings (pod templates inside JCasC, whole JCasC documents) as literal blocks,
    so that they stay readable and a diff of them shows the lines that changed."""


def _represent_str(dumper: yaml.SafeDumper, value: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    """YAML text, keys in the order they were built."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False)


def to_yaml_documents(documents: Iterable[Any]) -> str:
    return yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False)


def secret_ref(file_name: str) -> str:
    """How JCasC names a value read from $SECRETS/<file_name>."""
    return "${" + file_name + "}"
