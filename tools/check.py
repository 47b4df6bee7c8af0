"""python -m tools.check STACK... | --all: render, validate against the Kubernetes schema, apply the policy pack.

With --preview the stack is rendered as `pulumi preview` of a new stack sees it: values the
providers compute (generated passwords, keys, certificates, and whatever holds them) are unknown
until apply. The schema check skips unknown leaves and says how many there were; the pack gets
them as the engine sends them.

Also: python -m tools.check --policy-config FILE MANIFEST.yaml... applies the pack to any
Kubernetes YAML (for example what `helm template` printed).
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .harness import ROOT, Synthesis, is_unknown, unknown_count, known_stacks, read_stack_config, synthesize

KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
POLICY_DIR = ROOT / "policy"


@dataclass
class StackReport:
    stack: str
    resources: int = 0
    manifests: int = 0
    problems: list[str] = field(default_factory=list)
    advisories: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: bool = False  # rendered and its manifests checked
    preview: bool = False
    unknowns: int = 0     # values in the manifests unknown until apply (preview only)
    not_schema_checked: list[str] = field(default_factory=list)  # custom resources: no built-in schema

    @property
    def ok(self) -> bool:
        return not self.problems


def about_unknown(error) -> bool:
    """A schema error whose value is unknown until apply (or, for oneOf/anyOf, all of whose
    alternatives failed only on unknowns): the real value may well be valid."""
    if is_unknown(error.instance):
        return True
    return bool(error.context) and all(about_unknown(e) for e in error.context)


def custom_resources(synthesis: Synthesis, versions=KUBERNETES_VERSIONS) -> list[str]:
    """Objects of a kind a CustomResourceDefinition defines: the schema lives in the cluster, not here."""
    from .schema import is_custom

    return [_describe(m) for m in (r.manifest() for r in synthesis.kubernetes_objects())
            if all(is_custom(m["apiVersion"], version) for version in versions)]


def schema_problems(synthesis: Synthesis, versions=KUBERNETES_VERSIONS) -> list[str]:
    """Strict-schema errors of every built-in object; custom resources are left to custom_resources."""
    from .schema import SchemaMissing, first_error, is_custom

    problems = []
    for record in synthesis.kubernetes_objects():
        manifest = record.manifest()
        if all(is_custom(manifest["apiVersion"], version) for version in versions):
            continue
        for version in versions:
            try:
                error = first_error(manifest, version, ignore=about_unknown)
            except SchemaMissing as exc:
                problems.append(f"{_describe(manifest)}: {exc}")
                continue
            if error is not None:
                where = ".".join(str(p) for p in error.path) or "(root)"
                problems.append(f"{_describe(manifest)}: Kubernetes {version} schema: {where}: "
                                f"{error.message.splitlines()[0]}")
    return problems


def _describe(manifest: dict) -> str:
    metadata = manifest.get("metadata", {})
    where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{manifest.get('kind')} {where}{metadata.get('name')}"


def policy_resources(synthesis: Synthesis) -> list:
    """Every resource the engine would analyze (the root stack, default providers, the program's
    resources), with its checked inputs for Analyze and its outputs for AnalyzeStack; secrets stay
    wrapped where they are and unknowns stay the sentinel, as on the wire."""
    from .policy_engine import PolicyResource

    return [
        PolicyResource(
            urn=r.urn, type=r.type, name=r.name,
            properties=r.checked_inputs if r.checked_inputs is not None else r.raw_inputs,
            outputs=r.outputs, parent=r.parent, protect=r.protect, custom=r.custom,
            dependencies=tuple(r.depends_on), provider=r.analyzer_provider or r.provider,
            additional_secret_outputs=tuple(r.additional_secret_outputs),
        )
        for r in synthesis.analyzed_records()
    ]


def policy_config_for(stack: str, override: Path | None) -> Path:
    if override is not None:
        return override
    from .environment import environment_of

    path = POLICY_DIR / "config" / f"{environment_of(stack)}.json"
    if not path.exists():
        raise FileNotFoundError(f"no policy config for stack '{stack}': create {path.relative_to(ROOT)} "
                                "or pass --policy-config FILE")
    return path


class BackgroundPack:
    """The policy pack for one stack, started on another thread at once so its start-up overlaps
    synthesis. One pack per stack, as the CLI starts it: its environment carries that stack's
    config, name and dry-run flag."""

    def __init__(self, stack: str = "offline", config: dict | None = None, secret_keys=(),
                 dry_run: bool = False):
        # Import the protocol on this thread first: pulumi.runtime.proto imports itself in a cycle,
        # and a second thread importing it meanwhile would see it half-initialized.
        import grpc  # noqa: F401
        from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc  # noqa: F401

        from .policy_engine import PolicyPackSession

        self._session = PolicyPackSession(stack=stack, config=config, secret_keys=secret_keys, dry_run=dry_run)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self._session.start()
        except BaseException as exc:  # re-raised on the caller's thread
            self._error = exc

    def start_check(self, resources: list, config_file: Path):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._session.start_check(resources, config_file)

    def close(self) -> None:
        self._thread.join()
        self._session.close()


def check_stack(stack: str, policy_config: Path | None = None, policy: bool = True,
                preview: bool = False, project_dir: Path = ROOT) -> StackReport:
    report = StackReport(stack, preview=preview)
    config, secret_keys = read_stack_config(stack, project_dir)
    config_file = policy_config_for(stack, policy_config) if policy else None
    pack = BackgroundPack(stack, config, secret_keys, dry_run=preview) if policy else None
    try:
        synthesis = synthesize(stack, project_dir, config=config, secret_keys=secret_keys, preview=preview)
        if not synthesis.ok:
            report.problems.append(f"config: {synthesis.error}")
            return report
        report.checked = True
        report.resources = len(synthesis.records)
        report.manifests = len(synthesis.kubernetes_objects())
        report.warnings = list(synthesis.warnings)
        report.unknowns = synthesis.unknown_values()
        # The pack analyzes in its own process while this one validates schemas.
        verdicts = pack.start_check(policy_resources(synthesis), config_file) if pack is not None else list
        report.problems.extend(schema_problems(synthesis))
        report.not_schema_checked = custom_resources(synthesis)
        for violation in verdicts():
            line = f"[{violation.policy_name}] {violation.message}"
            (report.problems if violation.enforcement_level == "mandatory" else report.advisories).append(line)
        return report
    finally:
        if pack is not None:
            pack.close()


def summary_line(report: StackReport, policy: bool = True) -> str:
    count = len(report.problems)
    verdict = "ok" if report.ok else f"FAILED ({count} problem{'s' * (count != 1)})"
    name = f"{report.stack} (preview)" if report.preview else report.stack
    if not report.checked:
        return f"{name}: nothing checked: {verdict}"
    unknown = f", {unknown_count(report.unknowns)}" if report.preview else ""
    custom = (f" ({len(report.not_schema_checked)} custom resource{'s' * (len(report.not_schema_checked) != 1)} "
              f"not schema-checked, their schema is the CRD's in the cluster: {', '.join(report.not_schema_checked)})"
              if report.not_schema_checked else "")
    return (f"{name}: {report.resources} resources, {report.manifests} manifests checked on "
            f"Kubernetes {' and '.join(v.rsplit('.', 1)[0] for v in KUBERNETES_VERSIONS)}"
            f"{custom}"
            f"{', policy pack applied' if policy else ''}{unknown}: {verdict}")


def _is_manifest_mode(argv: list[str]) -> bool:
    return any(arg.endswith((".yaml", ".yml", ".json")) and not arg.startswith("-")
               and Path(arg).suffix in (".yaml", ".yml") for arg in argv)


def main(argv: list[str] | None = None, project_dir: Path = ROOT) -> int:
    """`project_dir`: the project whose stacks/ and __main__.py are checked (the tests' copies)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _is_manifest_mode(argv):
        from .policy_engine import check_manifests_main
        return check_manifests_main(argv)

    parser = argparse.ArgumentParser(prog="python -m tools.check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", metavar="STACK")
    parser.add_argument("--all", action="store_true", help="every stack in stacks/")
    parser.add_argument("--policy-config", type=Path, help="policy config instead of policy/config/<environment>.json (the stack's jenkins:environment)")
    parser.add_argument("--no-policy", action="store_true", help="schema validation only")
    parser.add_argument("--preview", action="store_true",
                        help="as `pulumi preview` of a new stack: provider-computed values unknown")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    stacks = known_stacks(project_dir) if args.all else args.stacks
    if not stacks:
        parser.error("name a STACK or pass --all")

    from .policy_engine import PolicyConfigError, PolicyPackError

    reports = []
    try:
        for stack in stacks:
            try:
                reports.append(check_stack(stack, args.policy_config, not args.no_policy, args.preview,
                                           project_dir))
            except (FileNotFoundError, ValueError, PolicyConfigError) as exc:
                reports.append(StackReport(stack, problems=[str(exc).splitlines()[0]], preview=args.preview))
    except PolicyPackError as exc:  # the pack did not start: no stack can be checked
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.format == "json":
        print(json.dumps([{"stack": r.stack, "ok": r.ok, "checked": r.checked, "preview": r.preview,
                           "resources": r.resources, "manifests": r.manifests, "unknownValues": r.unknowns,
                           "problems": r.problems, "advisories": r.advisories, "warnings": r.warnings,
                           "notSchemaChecked": r.not_schema_checked}
                          for r in reports], indent=2))
    else:
        for report in reports:
            for line in report.problems:
                print(f"{report.stack}: FAIL {line}")
            for line in report.advisories:
                print(f"{report.stack}: advisory {line}")
            for line in report.warnings:
                print(f"{report.stack}: warning {line}")
        for report in reports:
            print(summary_line(report, policy=not args.no_policy))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
