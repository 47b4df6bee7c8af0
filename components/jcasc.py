"""JCasC as plain data: the controller's base document and the merge of the fragments that pools
and users contribute, with who set what."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import yaml

from . import defaults


class JcascConflict(ValueError):
    """Two parts of the program (or a user fragment) set one JCasC key to different values."""

    def __init__(self, path: str, first_owner: str, first: Any, second_owner: str, second: Any):
        self.path, self.first_owner, self.second_owner = path, first_owner, second_owner
        super().__init__(f"JCasC key {path} is set to {first!r} by {first_owner} "
                         f"and to {second!r} by {second_owner}")


@dataclass(frozen=True)
class Owned:
    """A JCasC fragment and who contributed it (`controller`, `pool swarm`, `jenkins:jcasc.<name>`)."""

    owner: str
    fragment: Mapping[str, Any]


@dataclass
class MergedDocument:
    """The merged document and, for every key or list item a contributor added, who added it."""

    document: dict
    owners: dict[str, str] = field(default_factory=dict)

    def owners_of(self, path: str) -> list[str]:
        """Who is answerable for `path` (a conformance path like `jenkins.clouds[1].docker.name`):
        the contributors of everything at or under it, else the one who added its nearest ancestor."""
        under = [owner for where, owner in self.owners.items() if _within(where, path)]
        if under:
            return list(dict.fromkeys(under))
        above = [where for where in self.owners if _within(path, where)]
        return [self.owners[max(above, key=len)]] if above else []


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith((ancestor + ".", ancestor + "["))


def merge(base: Mapping[str, Any], fragment: Mapping[str, Any]) -> dict:
    """Deep merge: mappings merge, lists append, equal scalars agree, different scalars conflict."""
    return merge_all(base, [fragment])


def merge_all(base: Mapping[str, Any], fragments: Iterable[Mapping[str, Any]]) -> dict:
    return merge_owned(Owned("controller", base), [Owned(f"fragment {index}", fragment)
                                                   for index, fragment in enumerate(fragments)]).document


def merge_owned(base: Owned, fragments: Iterable[Owned]) -> MergedDocument:
    """merge_all, remembering who set what, so a conflict or a refused key names its owners."""
    merged = MergedDocument({})
    for part in (base, *fragments):
        _merge_into(merged, merged.document, part.fragment, "", part.owner)
    return merged


def _merge_into(merged: MergedDocument, target: dict, fragment: Mapping[str, Any], path: str,
                owner: str) -> None:
    for key, value in fragment.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in target:
            target[key] = copy.deepcopy(value)
            merged.owners[where] = owner
        elif isinstance(target[key], Mapping) and isinstance(value, Mapping):
            _merge_into(merged, target[key], value, where, owner)
        elif isinstance(target[key], list) and isinstance(value, list):
            start = len(target[key])
            target[key].extend(copy.deepcopy(value))
            for index in range(start, len(target[key])):
                merged.owners[f"{where}[{index}]"] = owner
        elif target[key] != value:
            first = merged.owners_of(where)
            raise JcascConflict(where, first[0] if first else "controller", target[key], owner, value)


def controller_document(*, security_realm: Mapping[str, Any], authorization_entries: list, url: str,
                        system_message: str, executors: int, labels: Iterable[str]) -> dict:
    """Setup wizard off (JAVA_OPTS); the realm and matrix entries come from components/security.py."""
    label_string = " ".join(sorted(set(labels)))
    return {
        "jenkins": {
            "systemMessage": system_message,
            "numExecutors": executors,
            "mode": "EXCLUSIVE" if executors else "NORMAL",
            "labelString": label_string,
            "slaveAgentPort": defaults.AGENT_LISTENER_DISABLED,
            "disableRememberMe": True,
            "securityRealm": dict(security_realm),
            "authorizationStrategy": {"globalMatrix": {"entries": list(authorization_entries)}},
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


def literal(text: str) -> str:
    """A user's text kept as written: JCasC would resolve `${...}` in any string, `^${` escapes it
    (configuration-as-code 2117.vc05a_0b_e6b_f4e, plugin/src/main/java/io/jenkins/plugins/casc/SecretSourceResolver.java:28-31)."""
    return text.replace("${", "^${")


def secret_file_ref(path: str, *, base64: bool = False) -> str:
    """The whole file, untrimmed (`${name}` trims: DockerSecretSource.java:38); base64 for bytes
    (lookups `readFile` and `readFileBase64`, SecretSourceResolver.java:40-48)."""
    return "${" + ("readFileBase64:" if base64 else "readFile:") + path + "}"
