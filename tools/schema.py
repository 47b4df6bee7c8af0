"""Strict Kubernetes schema validation with kubernetes-validate's schemas, one validator per kind.

`kubernetes_validate.validate` re-reads and re-parses the ~1 MB definitions file for every
manifest; building one validator per (Kubernetes version, apiVersion, kind) and reusing it gives
the same verdicts at a fraction of the cost. The file layout is the package's own.
"""
from __future__ import annotations

import functools
import json
import re
from typing import Callable, Optional

import jsonschema
from kubernetes_validate import utils
from referencing import Registry, Resource


class SchemaMissing(Exception):
    pass


def _schema_dir(version: str) -> str:
    wanted = utils.major_minor(version)
    known = [v for v in utils.all_versions() if utils.major_minor(v) <= wanted]
    if not known:
        raise SchemaMissing(f"Kubernetes {version} is older than every schema kubernetes-validate has")
    return f"v{known[-1]}-local-strict"


@functools.lru_cache(maxsize=None)
def _definitions(schema_dir: str, version: str):
    return Resource.from_contents(utils.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json",
                                                        version))


@functools.lru_cache(maxsize=None)
def builtin_groups(version: str) -> frozenset[str]:
    """The API groups ("" for core) Kubernetes `version` serves itself; any other group is a
    CustomResourceDefinition's, which no built-in schema describes."""
    definitions = utils.schema_contents(f"kubernetes-json-schema/{_schema_dir(version)}/_definitions.json", version)
    return frozenset(gvk.get("group", "") for definition in definitions["$defs"].values()
                     for gvk in definition.get("x-kubernetes-group-version-kind", ()))


def is_custom(api_version: str, version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group not in builtin_groups(version)


@functools.lru_cache(maxsize=None)
def validator(version: str, api_version: str, kind: str) -> jsonschema.Validator:
    schema_dir = _schema_dir(version)
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(
            f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        raise SchemaMissing(f"Kubernetes {version} has no schema for {api_version} {kind}") from None
    registry = _definitions(schema_dir, version) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


_ERRORS: dict[tuple[str, str], tuple[jsonschema.ValidationError, ...]] = {}
_ERRORS_KEPT = 4096


def _errors(manifest: dict, version: str) -> tuple[jsonschema.ValidationError, ...]:
    """Every strict-schema error of `manifest`. A process that validates the same object again
    (every stack renders the same controller objects) reads the verdict it already has; a manifest
    that is not plain JSON (a YAML date) is validated as it is, every time."""
    try:
        key = (version, json.dumps(manifest, sort_keys=True))
    except (TypeError, ValueError):
        return tuple(validator(version, manifest["apiVersion"], manifest["kind"]).iter_errors(manifest))
    if key not in _ERRORS:
        if len(_ERRORS) >= _ERRORS_KEPT:
            _ERRORS.clear()
        _ERRORS[key] = tuple(validator(version, manifest["apiVersion"], manifest["kind"]).iter_errors(manifest))
    return _ERRORS[key]


def first_error(manifest: dict, version: str,
                ignore: Optional[Callable[[jsonschema.ValidationError], bool]] = None,
                ) -> Optional[jsonschema.ValidationError]:
    """The first strict-schema error of `manifest` on Kubernetes `version`, or None; errors for
    which `ignore` returns True (e.g. about values unknown until apply) do not count."""
    errors = _errors(manifest, version)
    if ignore is not None:
        errors = tuple(e for e in errors if not ignore(e))
    return jsonschema.exceptions.best_match(errors)  # the error `validate` would raise
