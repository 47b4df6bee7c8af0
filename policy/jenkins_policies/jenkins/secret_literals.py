"""No secret-looking keys in ConfigMap data or in literal container env values.

Keys are split into words (snake, kebab, dot and camelCase); a key is secret-looking when a word
is in `words` (password, token, ...) and its last word is not in `safeSuffixes` (`..._FILE`,
`...Path`: a reference to a mounted secret, the pattern this program uses). Env values taken
from secretKeyRef/valueFrom are fine; so are empty values and pure ${...} references.
"""
from __future__ import annotations

import re

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy

from ..framework import STRING_LIST, Finding, evaluate, report_findings
from ..pods import items, kind_of, locate, mapping, resource_name, resource_namespace

POLICY = "jenkins-no-secret-literals"
DESCRIPTION = "Secrets belong in Secrets: no secret-looking keys in ConfigMaps or literal env values."
DEFAULT_WORDS = ["password", "passwd", "token", "secret", "key", "apikey", "credential",
                 "credentials", "passphrase", "privatekey"]
DEFAULT_SAFE_SUFFIXES = ["file", "path", "dir", "ref", "name", "id", "url", "mount"]
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_REFERENCE = re.compile(r"^\$\{[^}]+\}$")


def words_of(key: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", key).lower()) if w]


def looks_secret(key: str, words: set[str], safe: set[str]) -> bool:
    parts = words_of(key)
    return bool(parts) and parts[-1] not in safe and any(p in words for p in parts)


def is_literal(value) -> bool:
    return isinstance(value, str) and value.strip() != "" and not _REFERENCE.match(value.strip())


def validate(args, report):
    config = args.get_config()
    words = {w.lower() for w in config.get("words", DEFAULT_WORDS)}
    safe = {w.lower() for w in config.get("safeSuffixes", DEFAULT_SAFE_SUFFIXES)}
    ignore = set(config.get("ignoreKeys", []))

    def flagged(key):
        return key not in ignore and looks_secret(key, words, safe)

    if kind_of(args.resource_type) == "ConfigMap":
        ref = f"ConfigMap {resource_namespace(args.props)}/{resource_name(args.props, args.name)}"
        for section in ("data", "binaryData"):
            values = mapping(args.props.get(section))
            # Keys decide; a value is read (and may be unknown) only under a flagged key.
            for key in [k for k in values if flagged(k)]:
                if section == "binaryData" or is_literal(values[key]):
                    report(f'{ref}: {section}["{key}"] looks like a secret; put it in a Secret '
                           f"({POLICY})", None)
        return
    pod = locate(args.resource_type, args.props, args.name)
    if pod is None:
        return

    def run(view):
        for c in view.containers():
            for env in items(c.spec.get("env")):
                name = env.get("name") or ""
                if flagged(name) and is_literal(env.get("value")):
                    text = f'env "{name}" has a literal value; use valueFrom.secretKeyRef or a mounted file'
                    yield Finding(c.subject, text)

    findings, undecided = evaluate(run, pod)
    report_findings(pod, findings, [], lambda entry, finding: True, POLICY, report, undecided)


policy = ResourceValidationPolicy(
    name=POLICY,
    description=DESCRIPTION,
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "words": {**STRING_LIST, "minItems": 1, "default": DEFAULT_WORDS,
                  "description": "a key containing one of these words looks like a secret"},
        "safeSuffixes": {**STRING_LIST, "default": DEFAULT_SAFE_SUFFIXES,
                         "description": "keys ending in these words name a reference, not a value"},
        "ignoreKeys": {**STRING_LIST, "default": [], "description": "exact keys never flagged"},
    }),
    tags=["jenkins", "secrets"],
)
