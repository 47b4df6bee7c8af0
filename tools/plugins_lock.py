"""python -m tools.plugins_lock [--add ID[=VERSION] ...] [--bom-revision REV]: regenerate the plugin lock.
python -m tools.plugins_lock --plugins-txt STACK: print the plugin list a stack installs (for image builds).

Regenerating needs the network: the BOM modules come from GitHub (jenkinsci/bom at a revision) and
each plugin's dependencies from the update centre's plugin-versions.json, the file
jenkins-plugin-cli itself reads (plugin-installation-manager-tool 2.15.0 config/Settings.java:23;
per version: `dependencies` [{name, version, optional}], `requiredCore`, `sha256`, as read in
PluginManager.java:894-901,1034-1039). Versions come from the BOM for the lock's Jenkins line;
a plugin the BOM does not manage keeps the version pinned in the current lock (or given with
--add ID=VERSION), else it takes the highest minimum its dependents declare, and says so.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional
from xml.parsers import expat

from components.plugin_lock import (
    LOCK_PATH, LockedPlugin, PluginLock, dump_lock, load_lock, parse_lock, version_key,
)

GITHUB_RAW = "https://raw.githubusercontent.com"
PLUGIN_VERSIONS_URL = "https://updates.jenkins.io/plugin-versions.json"
HEADER = """Every plugin the controller can install: the plugins the base set, the pools and jobs ask for (roots)
and everything they require, each at one exact version. jenkins-plugin-cli is handed the closure a
stack needs, with these versions, so it resolves nothing itself.

Versions: the jenkinsci/bom module for the Jenkins line below, at the revision below (what the BOM
tests together on that line); a plugin the BOM does not manage says where its version comes from.
requires: the plugin's required (non-optional) plugin dependencies and the minimum versions it
declares; requires_from: where they were read.

Regenerate (needs github.com and updates.jenkins.io): python -m tools.plugins_lock"""


class Unreachable(Exception):
    """A source the regeneration needs could not be read."""


class ResolutionError(Exception):
    """The lock cannot be built from what the sources say."""


@dataclass(frozen=True)
class BomEntry:
    version: str
    where: str  # path:line of the version (or of the property holding it)


# ------------------------------------------------------------------ BOM poms

def _pom_elements(text: str) -> list[tuple[tuple[str, ...], str, int]]:
    """(element path, text, line) for every leaf element of a pom."""
    parser = expat.ParserCreate()
    stack: list[str] = []
    out: list[tuple[tuple[str, ...], str, int]] = []
    buffer: list[str] = []
    lines: list[int] = []

    def start(name, _attrs):
        stack.append(name.split("}")[-1])
        buffer.clear()
        lines.append(parser.CurrentLineNumber)

    def end(_name):
        out.append((tuple(stack), "".join(buffer).strip(), lines.pop()))
        stack.pop()
        buffer.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = buffer.append
    parser.Parse(text, True)
    return out


def parse_bom_module(text: str, path: str) -> tuple[dict[str, BomEntry], list[str]]:
    """Managed artifacts of one BOM module ({artifactId: entry}) and the BOM modules it imports."""
    properties: dict[str, tuple[str, int]] = {}
    dependencies: list[dict] = []
    for element_path, value, line in _pom_elements(text):
        if element_path[:-1] == ("project", "properties"):
            properties[element_path[-1]] = (value, line)
        elif element_path[:3] == ("project", "dependencyManagement", "dependencies"):
            if element_path[3:] == ("dependency",):
                continue
            if len(element_path) == 5 and element_path[3] == "dependency":
                if element_path[4] == "groupId":
                    dependencies.append({})
                dependencies[-1].setdefault(element_path[4], (value, line))
    managed: dict[str, BomEntry] = {}
    imports: list[str] = []
    for dependency in dependencies:
        artifact = dependency["artifactId"][0]
        if dependency.get("scope", ("",))[0] == "import":
            imports.append(artifact)
            continue
        if "classifier" in dependency or artifact in managed:
            continue
        version, line = dependency["version"]
        reference = re.fullmatch(r"\$\{([^}]+)\}", version)
        if reference and reference.group(1) in properties:
            version, line = properties[reference.group(1)]
        managed[artifact] = BomEntry(version, f"{path}:{line}")
    return managed, imports


def bom_versions(read_module, module: str) -> dict[str, BomEntry]:
    """The module's own entries win over those it imports (Maven's dependencyManagement order)."""
    managed, imports = parse_bom_module(read_module(module), f"{module}/pom.xml")
    for imported in imports:
        if imported.startswith("bom-"):
            for artifact, entry in bom_versions(read_module, imported).items():
                managed.setdefault(artifact, entry)
    return managed


# ------------------------------------------------------------------ resolution

def resolve(*, roots: Iterable[str], bom: Mapping[str, BomEntry], bom_source: Mapping[str, str],
            plugin_versions: Mapping, pinned: Mapping[str, str], jenkins: str,
            source_note: str) -> PluginLock:
    """The closure of `roots`, each plugin at its BOM version (not the minimum its dependents ask)."""
    revision = bom_source["revision"][:8]
    available = plugin_versions.get("plugins", {})
    minimums: dict[str, list[tuple[str, str]]] = {}
    chosen: dict[str, LockedPlugin] = {}
    queue = list(dict.fromkeys(roots))
    while queue:
        plugin_id = queue.pop(0)
        if plugin_id in chosen:
            continue
        if plugin_id in bom:
            version = bom[plugin_id].version
            version_from = f"{bom_source['repository']}@{revision} {bom[plugin_id].where}"
        elif plugin_id in pinned:
            version = pinned[plugin_id]
            version_from = "not managed by the BOM; pinned in the lock"
        elif plugin_id in minimums:
            version, wanted_by = max(minimums[plugin_id], key=lambda item: version_key(item[0]))
            version_from = f"not managed by the BOM; the highest minimum its dependents declare ({wanted_by})"
        else:
            raise ResolutionError(f"{plugin_id}: not managed by the BOM; pin it with --add {plugin_id}=VERSION")
        info = available.get(plugin_id, {}).get(version)
        if info is None:
            raise ResolutionError(f"{plugin_id} {version}: not listed in plugin-versions.json")
        requires = {}
        for dependency in info.get("dependencies", []):
            if dependency.get("optional"):
                continue
            requires[dependency["name"]] = dependency["version"]
            minimums.setdefault(dependency["name"], []).append((dependency["version"], plugin_id))
            queue.append(dependency["name"])
        chosen[plugin_id] = LockedPlugin(
            id=plugin_id, version=version, requires=requires, version_from=version_from,
            requires_from=f"plugin-versions.json: plugins.{plugin_id}.{version}.dependencies",
            required_core=info.get("requiredCore"), sha256=info.get("sha256"))
    return PluginLock(jenkins=jenkins, bom=dict(bom_source), roots=tuple(sorted(set(roots))),
                      plugins=chosen, generated_from=source_note)


# ------------------------------------------------------------------ network

def read_url(url: str, timeout: float = 30.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed https sources)
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise Unreachable(f"cannot read {url} ({reason})") from None


def regenerate(*, add: Mapping[str, Optional[str]], bom_revision: Optional[str], github_raw: str,
               plugin_versions_url: str, current: PluginLock) -> PluginLock:
    bom_source = {**current.bom, **({"revision": bom_revision} if bom_revision else {})}
    base = f"{github_raw}/{bom_source['repository']}/{bom_source['revision']}"

    def read_module(module: str) -> str:
        return read_url(f"{base}/{module}/pom.xml").decode()

    bom = bom_versions(read_module, bom_source["module"])
    plugin_versions = json.loads(read_url(plugin_versions_url))
    pinned = {pid: entry.version for pid, entry in current.plugins.items() if not entry.version_from.startswith(
        f"{bom_source['repository']}@")}
    pinned.update({pid: version for pid, version in add.items() if version})
    return resolve(roots=[*current.roots, *add], bom=bom, bom_source=bom_source,
                   plugin_versions=plugin_versions, pinned=pinned, jenkins=current.jenkins,
                   source_note=f"{plugin_versions_url} and the BOM at the revision above")


def stack_plugin_list(stack: str) -> str:
    from tools.harness import synthesize
    synthesis = synthesize(stack)
    if not synthesis.ok:
        raise ResolutionError(synthesis.error)
    return synthesis.find(":ConfigMap", "casc").inputs["data"]["plugins.txt"]


def _addition(text: str) -> tuple[str, Optional[str]]:
    plugin_id, _, version = text.partition("=")
    return plugin_id, version or None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plugins_lock", description=__doc__.splitlines()[0])
    parser.add_argument("--add", action="append", default=[], type=_addition, metavar="ID[=VERSION]",
                        help="lock one more plugin (and what it requires); VERSION only if the BOM lacks it")
    parser.add_argument("--bom-revision", help="jenkinsci/bom commit to take versions from (default: the lock's)")
    parser.add_argument("--output", type=Path, default=LOCK_PATH)
    parser.add_argument("--github-raw", default=GITHUB_RAW)
    parser.add_argument("--plugin-versions-url", default=PLUGIN_VERSIONS_URL)
    parser.add_argument("--plugins-txt", metavar="STACK", help="print STACK's plugin list and exit")
    args = parser.parse_args(argv)
    try:
        if args.plugins_txt:
            sys.stdout.write(stack_plugin_list(args.plugins_txt))
            return 0
        current = parse_lock(args.output.read_text()) if args.output.exists() else load_lock()
        lock = regenerate(add=dict(args.add), bom_revision=args.bom_revision, github_raw=args.github_raw,
                          plugin_versions_url=args.plugin_versions_url, current=current)
    except Unreachable as exc:
        print(f"tools.plugins_lock: {exc}; run it where github.com and updates.jenkins.io are reachable",
              file=sys.stderr)
        return 2
    except ResolutionError as exc:
        print(f"tools.plugins_lock: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(dump_lock(lock, HEADER))
    print(f"{args.output}: {len(lock.plugins)} plugins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
