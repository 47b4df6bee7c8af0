"""python -m tools.synth STACK [--format yaml|json] [--out DIR] [--preview]: what the program would register.

YAML prints the Kubernetes manifests the cluster would receive on `pulumi up`; JSON prints every
registered resource with its options. Secret values are replaced by [secret] in both. With
--preview: what `pulumi preview` of a new stack sees, values unknown until apply printed as
(unknown) (JSON lists their paths under unknownInputs).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.jcasc import to_yaml, to_yaml_documents

from .harness import (StackFileError, Synthesis, config_as_cli_passes_it, redact, show_unknowns,
                      stack_file_config, synthesize, unknown_count)


def render_yaml(synthesis: Synthesis) -> str:
    return to_yaml_documents([show_unknowns(m) for m in synthesis.manifests()])


def render_json(synthesis: Synthesis) -> str:
    document = {
        "stack": synthesis.stack,
        "resources": [record.as_json() for record in sorted(synthesis.records, key=lambda r: r.urn)],
        "outputs": show_unknowns(redact(synthesis.outputs)),
        "warnings": synthesis.warnings,
    }
    if synthesis.preview:
        document["preview"] = True
    return json.dumps(document, indent=2)


def manifest_file_name(index: int, manifest: dict) -> str:
    metadata = manifest.get("metadata", {})
    parts = [f"{index:03d}", manifest.get("kind", "Object").lower(), metadata.get("namespace", ""),
             metadata.get("name", "")]
    return "-".join(p for p in parts if p) + ".yaml"


def write_out(synthesis: Synthesis, out: Path, fmt: str) -> None:
    target = out / synthesis.stack
    target.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        (target / "resources.json").write_text(render_json(synthesis))
        return
    for index, manifest in enumerate(synthesis.manifests()):
        (target / manifest_file_name(index, manifest)).write_text(to_yaml(show_unknowns(manifest)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.synth", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    parser.add_argument("--out", type=Path, help="write files under DIR/<stack>/ instead of printing")
    parser.add_argument("--stack-file", type=Path, help="config from this file, not stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--preview", action="store_true",
                        help="as `pulumi preview` of a new stack: provider-computed values unknown")
    args = parser.parse_args(argv)
    try:
        if args.stack_file:
            config, secret_keys = config_as_cli_passes_it(stack_file_config(args.stack_file))
            synthesis = synthesize(args.stack, config=config, secret_keys=secret_keys, preview=args.preview)
        else:
            synthesis = synthesize(args.stack, preview=args.preview)
    except (FileNotFoundError, StackFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not synthesis.ok:
        print(f"error: {synthesis.error}", file=sys.stderr)
        return 1
    for warning in synthesis.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if synthesis.preview:
        print(f"preview: {unknown_count(synthesis.unknown_values())} in the manifests", file=sys.stderr)
    if args.out:
        write_out(synthesis, args.out, args.format)
    else:
        sys.stdout.write(render_json(synthesis) + "\n" if args.format == "json" else render_yaml(synthesis))
    return 0


if __name__ == "__main__":
    sys.exit(main())
