"""User JCasC fragments (`jenkins:jcasc`): the secret-literal rule, and the check of the merged
document that names the fragment answerable for a refused key. Pure functions only."""
from __future__ import annotations

import re
from typing import Any, Collection, Iterator, Mapping

from . import jcasc_conformance
from .jcasc import MergedDocument

NAMESPACE_KEY = "jenkins:jcasc"

# A key is secret-looking when one of its words (snake, kebab, dot or camelCase) is one of these and
# its last word does not mark a reference (`passwordFile`, `tokenId`, `credentialsId`, `keyPath`).
# The same rule as the policy pack's jenkins-no-secret-literals defaults, applied before anything
# is rendered: a fragment's text ends up in the controller's ConfigMap.
SECRET_WORDS = frozenset({"password", "passwd", "token", "secret", "key", "apikey", "credential",
                          "credentials", "passphrase", "privatekey"})
REFERENCE_SUFFIXES = frozenset({"file", "path", "dir", "ref", "name", "id", "url", "mount"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# A whole-value JCasC variable, without a `:-default` (which would hold a literal after all).
_REFERENCE = re.compile(r"^\$\{[^}:]+\}$")


def owner(name: str) -> str:
    return f"{NAMESPACE_KEY}.{name}"


def looks_secret(key: str) -> bool:
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", str(key)).lower()) if w]
    return bool(words) and words[-1] not in REFERENCE_SUFFIXES and any(w in SECRET_WORDS for w in words)


def secret_literals(value: Any, path: str = "", secret_key: bool = False) -> Iterator[str]:
    """Paths of scalar values under secret-looking keys that are not a plain `${...}` reference."""
    if isinstance(value, Mapping):
        for key, sub in value.items():
            yield from secret_literals(sub, f"{path}.{key}" if path else str(key), looks_secret(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_literals(item, f"{path}[{index}]", secret_key)
    elif secret_key and not isinstance(value, bool) and value is not None:
        if not (isinstance(value, str) and (value == "" or _REFERENCE.match(value))):
            yield path


def conformance_error(merged: MergedDocument, unverified: Collection[str]) -> tuple[str, str] | None:
    """(config key to blame, one-line reason) for the first place the pinned Jenkins would refuse the
    merged document, or None. A finding on a key the data file does not list at all is let through
    when everyone answerable for it is a fragment marked unverified; every other finding is refused."""
    refused = []
    for finding in jcasc_conformance.findings(merged.document):
        owners = merged.owners_of(finding.path)
        fragments = [o for o in owners if o.startswith(NAMESPACE_KEY + ".")]
        if finding.unlisted and owners and all(o in unverified for o in owners):
            continue
        refused.append((finding, fragments))
    if not refused:
        return None
    finding, fragments = refused[0]
    more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
    if fragments:
        hint = (" (list it in components/upstream/jcasc.yaml with its upstream citation, or mark the "
                "fragment unverified: true)" if finding.unlisted else "")
        return (fragments[0], f"JCasC from {', '.join(fragments)} would stop Jenkins at boot: "
                              f"{finding}{hint}{more}")
    return ("jenkins", f"generated JCasC would stop Jenkins at boot: {finding}{more}")
