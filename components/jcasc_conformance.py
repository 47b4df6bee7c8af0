"""Would the pinned Jenkins accept this JCasC document? A pure walk over components/upstream/jcasc.yaml.

JCasC's defaults refuse unknown, deprecated and restricted attributes, and its boot failure stops
Jenkins. The walk applies those rules to what the data file lists, and also refuses anything the
file does not list: a key nobody read in the pinned source is not proven to boot. It is stricter
than JCasC about scalars (an int attribute must be given an int, not a string JCasC would parse),
because this program writes typed values and a mismatch means a builder bug.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from . import yaml_data

DATA_PATH = Path(__file__).parent / "upstream" / "jcasc.yaml"

SCALAR_TYPES = {"string": (str,), "int": (int,), "bool": (bool,)}


@dataclass(frozen=True)
class Finding:
    """One place JCasC would refuse. `unlisted`: the key or symbol is not in the data file at all
    (not read, so not proven wrong), as opposed to a listed attribute given a wrong value."""

    path: str
    reason: str
    unlisted: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Catalogue:
    """The data file, indexed: classes by name, and for each extension point its symbols."""
    data: Mapping[str, Any]

    @property
    def sources(self) -> Mapping[str, Any]:
        return self.data["sources"]

    @property
    def classes(self) -> Mapping[str, Any]:
        return self.data["classes"]

    @functools.cached_property
    def symbols(self) -> dict[str, dict[str, str]]:
        """extension point -> lower-cased symbol -> class (JCasC compares symbols ignoring case)."""
        table: dict[str, dict[str, str]] = {}
        for name, entry in self.classes.items():
            for symbol in entry.get("symbols", ()):
                if entry.get("extends"):
                    table.setdefault(entry["extends"], {})[symbol.lower()] = name
        return table

    def enum_values(self, name: str) -> list[str]:
        return list(self.data["enums"][name]["values"])

    def citation(self, class_name: str, line: Optional[int] = None, *, source: Optional[str] = None,
                 path: Optional[str] = None) -> str:
        entry = self.classes[class_name]
        source = source or entry["source"]
        info = self.sources[source]
        where = path or entry["path"]
        line = line if line is not None else entry.get("constructor_line") or entry.get("symbol_line")
        location = f"{where}:{line}" if line else where
        read = info["read"]
        pinned = str(info["pinned"])
        if read != pinned and not read.endswith(pinned):
            return f"{source} {pinned}, read at {info['repo']} {read} {location}"
        return f"{source} {pinned}, {info['repo']} {read} {location}"


@functools.lru_cache(maxsize=None)
def load(path: Path = DATA_PATH) -> Catalogue:
    catalogue = Catalogue(yaml_data.load(path.read_text()))
    _validate(catalogue)
    return catalogue


def _validate(catalogue: Catalogue) -> None:
    """A broken data file must fail loudly, not pass every document."""
    def check_type(spec: Mapping[str, Any], where: str) -> None:
        kind = spec.get("type")
        if kind in SCALAR_TYPES:
            return
        if kind == "enum":
            if spec.get("values") not in catalogue.data["enums"]:
                raise ValueError(f"{where}: enum {spec.get('values')!r} is not defined")
        elif kind == "list":
            check_type(spec["of"], f"{where}[]")
        elif kind == "mapping":
            if spec.get("of") not in catalogue.classes:
                raise ValueError(f"{where}: class {spec.get('of')!r} is not defined")
        elif kind == "describable":
            if spec.get("of") not in catalogue.symbols:
                raise ValueError(f"{where}: no class with a symbol extends {spec.get('of')!r}")
        else:
            raise ValueError(f"{where}: unknown type {kind!r}")

    for root, class_name in catalogue.data["roots"].items():
        if class_name not in catalogue.classes:
            raise ValueError(f"root {root}: class {class_name!r} is not defined")
    for name, entry in catalogue.classes.items():
        if entry.get("source") not in catalogue.sources:
            raise ValueError(f"{name}: unknown source {entry.get('source')!r}")
        if "value" in entry:
            if entry.get("attributes"):
                raise ValueError(f"{name}: a class configured by a whole value has no attributes")
            check_type(entry["value"], f"{name}(value)")
        for attribute, spec in (entry.get("attributes") or {}).items():
            check_type(spec, f"{name}.{attribute}")


def problems(document: Any, catalogue: Optional[Catalogue] = None) -> list[str]:
    """Every place where JCasC (under its defaults) would refuse `document`, as `path: reason`."""
    return [str(finding) for finding in findings(document, catalogue)]


def findings(document: Any, catalogue: Optional[Catalogue] = None) -> list[Finding]:
    """problems(), each as a Finding that says whether the data file lists the key at all."""
    catalogue = catalogue or load()
    found: list[Finding] = []
    if not isinstance(document, Mapping):
        return [Finding("(document)", f"expected a mapping of JCasC roots, got {_kind(document)}")]
    roots = catalogue.data["roots"]
    for key, value in document.items():
        if key not in roots:
            found.append(Finding(str(key), f"unknown JCasC root (known: {', '.join(roots)})", unlisted=True))
            continue
        _check_object(catalogue, value, roots[key], str(key), found)
    return found


def _check_object(catalogue: Catalogue, value: Any, class_name: str, path: str, found: list[str]) -> None:
    entry = catalogue.classes[class_name]
    if "value" in entry:  # configured by one whole value (a Configurable), not by attributes
        _check_value(catalogue, value, entry["value"], path, found)
        return
    if value is None:  # `key:` with nothing after it configures the defaults (BaseConfigurator.java:375)
        value = {}
    if not isinstance(value, Mapping):
        found.append(Finding(path, f"expected a mapping of {class_name} attributes, got {_kind(value)}"))
        return
    attributes = entry.get("attributes") or {}
    removed = entry.get("not_attributes") or {}
    for key, sub in value.items():
        where = f"{path}.{key}"
        spec = attributes.get(key)
        if spec is None:
            reason = f"{removed[key]}; " if key in removed else ""
            accepted = ", ".join(attributes) or "none"
            found.append(Finding(where, f"unknown attribute of {class_name} ({reason}"
                                        f"{catalogue.citation(class_name)}; accepted: {accepted})",
                                 unlisted=key not in removed))
            continue
        cite = catalogue.citation(class_name, spec.get("line"), source=spec.get("source"),
                                  path=spec.get("path"))
        if spec.get("deprecated"):
            found.append(Finding(where, f"deprecated attribute of {class_name}, refused by JCasC's default ({cite})"))
            continue
        if spec.get("restricted"):
            found.append(Finding(where, f"restricted ({spec['restricted']}) attribute of {class_name}, "
                                        f"refused by JCasC's default ({cite})"))
            continue
        _check_value(catalogue, sub, spec, where, found)
    exactly_one = entry.get("exactly_one_of")
    if exactly_one:
        present = [key for key in exactly_one if key in value]
        if len(present) != 1:
            found.append(Finding(path, f"{class_name} takes exactly one of {', '.join(exactly_one)}, "
                                       f"got {', '.join(present) or 'none'} ({catalogue.citation(class_name)})"))


def _check_value(catalogue: Catalogue, value: Any, spec: Mapping[str, Any], path: str,
                 found: list[str]) -> None:
    kind = spec["type"]
    if kind in SCALAR_TYPES:
        # bool is an int in Python; an int attribute given true is still a mismatch.
        if not isinstance(value, SCALAR_TYPES[kind]) or (kind == "int" and isinstance(value, bool)):
            found.append(Finding(path, f"expected {kind}, got {_kind(value)}"))
    elif kind == "enum":
        allowed = catalogue.enum_values(spec["values"])
        if value not in allowed:
            found.append(Finding(path, f"expected one of {', '.join(allowed)}, got {_short(value)}"))
    elif kind == "list":
        if not isinstance(value, list):
            found.append(Finding(path, f"expected a list, got {_kind(value)}"))
            return
        for index, item in enumerate(value):
            _check_value(catalogue, item, spec["of"], f"{path}[{index}]", found)
    elif kind == "mapping":
        _check_object(catalogue, value, spec["of"], path, found)
    elif kind == "describable":
        _check_describable(catalogue, value, spec["of"], path, found)


def _check_describable(catalogue: Catalogue, value: Any, base: str, path: str, found: list[str]) -> None:
    symbols = catalogue.symbols[base]
    known = ", ".join(sorted(catalogue.classes[c]["symbols"][0] for c in set(symbols.values())))
    if isinstance(value, str):
        symbol, config = value, {}
    elif isinstance(value, Mapping) and len(value) == 1:
        symbol, config = next(iter(value.items()))
    else:
        found.append(Finding(path, f"a {base} is a symbol or a single-entry mapping {{symbol: attributes}}, "
                                   f"got {_kind(value)}"))
        return
    class_name = symbols.get(str(symbol).lower())
    if class_name is None:
        found.append(Finding(path, f"unknown {base} symbol {_short(symbol)} (known: {known})", unlisted=True))
        return
    _check_object(catalogue, config, class_name, f"{path}.{symbol}" if isinstance(value, Mapping) else path,
                  found)


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check(document: Any) -> None:
    """Raise ValueError with one line (the first problem, and how many more) if JCasC would refuse it."""
    refuse(problems(document))


def refuse(found: list) -> None:
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ValueError(f"generated JCasC would stop Jenkins at boot: {found[0]}{more}")
