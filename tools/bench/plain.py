"""The plain twin of a render: the same resources registered directly with the SDK's typed classes."""
from __future__ import annotations

_PLAIN_PROGRAM = '''"""A plain program: registers the resources in spec.json directly with the SDK's typed classes."""
import json
import re
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random
import pulumi_tls

GROUPS = {"core": "core", "apps": "apps", "rbac.authorization.k8s.io": "rbac", "networking.k8s.io": "networking",
          "batch": "batch", "policy": "policy"}


def snake(key):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def resource_class(type_):
    package, module, name = type_.split(":")
    if package == "pulumi" and module == "providers":
        return {"kubernetes": k8s.Provider, "random": pulumi_random.Provider, "tls": pulumi_tls.Provider}[name]
    if package == "kubernetes":
        group, version = module.split("/")
        return getattr(getattr(getattr(k8s, GROUPS[group]), version), name)
    return getattr({"random": pulumi_random, "tls": pulumi_tls}[package], name)


spec = json.loads((Path(__file__).parent / "spec.json").read_text())
made = {}
for r in spec:
    opts = pulumi.ResourceOptions(
        parent=made.get(r["parent"]), provider=made.get(r["provider"]),
        depends_on=[made[d] for d in r["dependsOn"] if d in made] or None)
    if not r["custom"]:
        made[r["urn"]] = pulumi.ComponentResource(r["type"], r["name"], None, opts)
        continue
    kwargs = {snake(k): v for k, v in r["inputs"].items() if k not in ("apiVersion", "kind")}
    made[r["urn"]] = resource_class(r["type"])(r["name"], opts=opts, **kwargs)
'''


def plain_spec(synthesis) -> list[dict]:
    """Every resource ours registered, in registration order, as the plain program needs it."""
    spec = []
    for record in synthesis.records:
        provider = record.provider.rsplit("::", 1)[0] if record.provider else ""
        spec.append({"urn": record.urn, "type": record.type, "name": record.name, "parent": record.parent,
                     "custom": record.custom, "provider": provider, "dependsOn": record.depends_on,
                     "inputs": record.inputs})
    return spec

