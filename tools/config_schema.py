"""The stack file's JSON Schema and the config reference, both generated from `StackConfig`.

    .venv/bin/python -m tools.config_schema           # rewrite stacks/schema.json and docs/config-reference.md
    .venv/bin/python -m tools.config_schema --check   # exit 1 when either file is stale

The model in components/config.py is the only source: field descriptions are its attribute
docstrings, keys its camelCase aliases, defaults and limits its annotations.
"""
from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from components.config import NAMESPACE, OTHER_NAMESPACES, StackConfig
from components.config_types import Model

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "stacks" / "schema.json"
REFERENCE_FILE = ROOT / "docs" / "config-reference.md"
REGENERATE = ".venv/bin/python -m tools.config_schema"

# The keys of a Pulumi stack file besides `config`: pulumi/pulumi v3.259.0,
# sdk/go/common/workspace/project.go:1229-1241 (type ProjectStack).
STACK_FILE_KEYS = {
    "secretsprovider": {"type": "string", "description": "The stack's secrets provider (written by Pulumi)."},
    "encryptedkey": {"type": "string", "description": "Encrypted data key of a cloud secrets provider (written by Pulumi)."},
    "encryptionsalt": {"type": "string", "description": "Salt of the passphrase secrets provider (written by Pulumi)."},
    "environment": {"description": "Pulumi ESC environments imported into the stack."},
}


def _close_pattern_maps(node: Any) -> None:
    """pydantic writes a dict with constrained keys as patternProperties alone, which lets any
    other key through; the model rejects such keys, so the schema must too."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node and "properties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_pattern_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_pattern_maps(value)


def _drop_field_titles(node: Any) -> None:
    """pydantic titles each field after its Python name ("Adminuser"); editors would show that
    instead of the description."""
    if isinstance(node, dict):
        for value in node.get("properties", {}).values():
            if isinstance(value, dict):
                value.pop("title", None)
        for value in node.values():
            _drop_field_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_field_titles(value)


@lru_cache(maxsize=None)
def _own_docstrings(module_name: str) -> dict[str, dict[str, str | None]]:
    """{class: {field: docstring or None}} for the fields each class of the module annotates in its
    own body; a docstring is the string statement right after the field, as pydantic reads one
    (pydantic/_internal/_docs_extraction.py DocstringVisitor, pydantic 2.14.3)."""
    tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    classes: dict[str, dict[str, str | None]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = classes[node.name] = {}
        for statement, following in zip(node.body, [*node.body[1:], None]):
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                doc = following.value.value if (
                    isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)) else None
                fields[statement.target.id] = inspect.cleandoc(doc) if doc is not None else None
    return classes


def field_docstrings(model: type[Model]) -> dict[str, str]:
    """{field: description} from the docstrings of `model` and the models it inherits from; a field
    annotated again without a docstring has none, as pydantic makes it a new field."""
    docs: dict[str, str | None] = {}
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, Model) and cls is not Model:
            docs.update(_own_docstrings(cls.__module__).get(cls.__name__, {}))
    return {name: doc for name, doc in docs.items() if doc is not None}


def _config_models() -> dict[str, type[Model]]:
    """Every config model by the name pydantic gives its schema: the class name, or the module path
    and class name (`components__secret_values__SecretKeyRef`) where two models share a name."""
    seen: set[type[Model]] = set()
    pending = list(Model.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls not in seen:
            seen.add(cls)
            pending.extend(cls.__subclasses__())
    names = Counter(cls.__name__ for cls in seen)
    found: dict[str, type[Model]] = {}
    for cls in seen:
        found[f"{cls.__module__.replace('.', '__')}__{cls.__qualname__}"] = cls
        if names[cls.__name__] == 1:
            found[cls.__name__] = cls
    return found


def _describe_fields(schema: dict, model: type[Model]) -> None:
    """Each property of a model's schema gets its field's docstring, where the field sets no
    description of its own; pydantic sorts a property's keys, and so does this."""
    docs = field_docstrings(model)
    by_key = {field.alias or name: name for name, field in model.model_fields.items()}
    properties = schema.get("properties", {})
    for key, node in list(properties.items()):
        doc = docs.get(by_key.get(key, ""))
        if doc and "description" not in node:
            properties[key] = dict(sorted({**node, "description": doc}.items()))


def _model_json_schema() -> dict:
    schema = StackConfig.model_json_schema(by_alias=True)
    models = _config_models()
    _describe_fields(schema, StackConfig)
    for name, definition in schema.get("$defs", {}).items():
        if "properties" in definition:
            _describe_fields(definition, models[name])
    return schema


def stack_file_schema() -> dict:
    """JSON Schema of `stacks/Pulumi.<stack>.yaml`: `jenkins:<key>` entries under `config`."""
    model = _model_json_schema()
    _close_pattern_maps(model)
    _drop_field_titles(model)
    defs = model.pop("$defs")
    config = {
        "type": "object",
        "description": f"Stack config; everything the program reads is under `{NAMESPACE}:`.",
        "properties": {f"{NAMESPACE}:{key}": value for key, value in model["properties"].items()},
        "required": [f"{NAMESPACE}:{key}" for key in model.get("required", [])],
        # The program refuses every other namespace but the engine's and its default providers'.
        "patternProperties": {f"^({'|'.join(sorted(OTHER_NAMESPACES))}):.+$": {}},
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "jenkins-k8s stack file",
        "description": f"Generated from components/config.py by `{REGENERATE}`; do not edit.",
        "type": "object",
        "properties": {**STACK_FILE_KEYS, "config": config},
        "required": ["config"],
        "additionalProperties": False,
        "$defs": defs,
    }


# ---- the Markdown reference ---------------------------------------------------------------------

def _resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _non_null(node: dict) -> tuple[dict, bool]:
    """The node without a `null` alternative, and whether null is allowed."""
    options = node.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            merged = {**{k: v for k, v in node.items() if k != "anyOf"}, **rest[0]}
            return merged, True
    return node, False


def _type_name(node: dict, defs: dict) -> str:
    node, nullable = _non_null(node)
    node = _resolve(node, defs)
    kind = node.get("type")
    if "const" in node or "enum" in node:
        name = "string"
    elif kind == "array":
        name = f"list of {_type_name(node.get('items', {}), defs)}"
    elif kind == "object" and "patternProperties" in node:
        (value,) = node["patternProperties"].values()
        name = f"map of string to {_type_name(value, defs)}"
    elif kind == "object" or "properties" in node:
        name = "object"
    else:
        name = kind or "any"
    return f"{name} or null" if nullable else name


def _allowed(node: dict, defs: dict) -> str:
    node, _ = _non_null(node)
    node = _resolve(node, defs)
    parts = []
    if "const" in node:
        parts.append(f"`{node['const']}`")
    if "enum" in node:
        parts.append(", ".join(f"`{v}`" for v in node["enum"]))
    for key, text in (("minimum", "≥ {}"), ("maximum", "≤ {}"), ("minLength", "length ≥ {}"),
                      ("maxLength", "length ≤ {}"), ("minItems", "at least {} item(s)"),
                      ("pattern", "matches `{}`")):
        if key in node:
            parts.append(text.format(node[key]))
    if node.get("type") == "array":
        items = _allowed(node.get("items", {}), defs)
        if items:
            parts.append(f"each item: {items}")
    for key_pattern, value in node.get("patternProperties", {}).items():
        parts.append(f"keys match `{key_pattern}`")
        values = _allowed(value, defs)
        if values:
            parts.append(f"values: {values}")
    return "; ".join(parts)


def _default(node: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return ""
    return f"`{json.dumps(node['default'], separators=(', ', ': '))}`"


def _children(node: dict, defs: dict) -> dict:
    """The object or list-of-objects under `node`: (suffix, properties, required)."""
    node, _ = _non_null(node)
    node = _resolve(node, defs)
    if node.get("type") == "array":
        inner = _resolve(_non_null(node.get("items", {}))[0], defs)
        if "properties" in inner:
            return {"suffix": "[]", "properties": inner["properties"], "required": inner.get("required", [])}
    if "properties" in node:
        return {"suffix": "", "properties": node["properties"], "required": node.get("required", [])}
    return {}


def _rows(prefix: str, properties: dict, required: list, defs: dict) -> Iterator[tuple[str, ...]]:
    for key, node in properties.items():
        path = f"{prefix}{key}"
        child = {} if "oneOf" in _resolve(_non_null(node)[0], defs).get("items", {}) else _children(node, defs)
        # A mapping whose keys all have defaults shows them row by row instead of as one blob.
        default = _default(node, key in required) if not child or child["required"] or key in required else ""
        yield (f"`{path}`", _type_name(node, defs), default,
               _allowed(node, defs), node.get("description", "").replace("|", "\\|"))
        if child:
            yield from _rows(f"{path}{child['suffix']}.", child["properties"], child["required"], defs)


def _table(rows) -> str:
    lines = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def reference_markdown() -> str:
    schema = stack_file_schema()
    defs = schema["$defs"]
    config = schema["properties"]["config"]
    pools_key = f"{NAMESPACE}:pools"
    top = {k: v for k, v in config["properties"].items()}
    out = [
        "# Stack config reference",
        "",
        f"Generated from `components/config.py` by `{REGENERATE}`; do not edit by hand.",
        "Every key lives in a stack file (`stacks/Pulumi.<stack>.yaml`) under `config:`; the same",
        "model validates it before any resource is registered, and `stacks/schema.json` lets an",
        "editor check it as you type. A key written `a.b` is `b` nested in the mapping `a`;",
        "`a[]` is a list of mappings; \"required\" under an optional mapping means required when the",
        "mapping is given. Memory and CPU values use Kubernetes quantities (`512Mi`, `500m`).",
        "",
        "## Top level",
        "",
        _table(_rows("", top, config["required"], defs)),
        "",
        "## Pools",
        "",
        f"Each item of `{pools_key}` has a `name` and a `type`; the type selects the other keys.",
        "The topology guide in the README says which type to pick.",
    ]
    out += _by_type(f"{pools_key}[].", _resolve(top[pools_key]["items"], defs), defs)
    credentials_key = f"{NAMESPACE}:credentials"
    out += ["", "## Credentials", "",
            f"Each item of `{credentials_key}` has an `id`, a `type` and a `description`; the type selects",
            "the other keys. Every secret part `x` is given either as secure config (`x`) or as `xFrom`,",
            "a key of an existing Secret; the README's Credentials section shows both."]
    out += _by_type(f"{credentials_key}[].", _resolve(top[credentials_key]["items"], defs), defs)
    security = _resolve(top[f"{NAMESPACE}:security"], defs)
    out += ["", "## Sign-in realms", "",
            f"`{NAMESPACE}:security.realm` has a `type`; the type selects the other keys."]
    out += _by_type(f"{NAMESPACE}:security.realm.", _resolve(security["properties"]["realm"], defs), defs)
    return "\n".join(out) + "\n"


def _by_type(prefix: str, union: dict, defs: dict) -> list[str]:
    """One table per member of a union told apart by its `type` key."""
    out = []
    for option in union["oneOf"]:
        member = _resolve(option, defs)
        type_name = member["properties"]["type"]["const"]
        out += ["", f"### `type: {type_name}`", "",
                _table(_rows(prefix, member["properties"], member.get("required", []), defs))]
    return out


# ---- CLI ----------------------------------------------------------------------------------------

def generated() -> dict[Path, str]:
    return {
        SCHEMA_FILE: json.dumps(stack_file_schema(), indent=2, ensure_ascii=False) + "\n",
        REFERENCE_FILE: reference_markdown(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.config_schema", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        print(f"stale: {', '.join(map(str, stale))}; run {REGENERATE}", file=sys.stderr)
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
