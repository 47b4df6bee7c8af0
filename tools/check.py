"""python -m tools.check STACK... | --all: render, validate against the Kubernetes schema, apply the policy pack.

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

from .harness import ROOT, Record, Synthesis, known_stacks, synthesize

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

    @property
    def ok(self) -> bool:
        return not self.problems


def schema_problems(synthesis: Synthesis, versions=KUBERNETES_VERSIONS) -> list[str]:
    from .schema import SchemaMissing, first_error

    problems = []
    for record in synthesis.kubernetes_objects():
        manifest = record.manifest()
        for version in versions:
            try:
                error = first_error(manifest, version)
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
    from .policy_engine import PolicyResource

    def top_level_secrets(record: Record) -> tuple[str, ...]:
        return tuple(dict.fromkeys(path.split(".")[0].split("[")[0] for path in record.secret_inputs))

    return [
        PolicyResource(
            urn=r.urn, type=r.type, name=r.name, properties=r.inputs, secret_keys=top_level_secrets(r),
            parent=r.parent, protect=r.protect, custom=r.custom, dependencies=tuple(r.depends_on),
            provider=r.provider,
        )
        for r in synthesis.records
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
    """The policy pack, started on another thread at once so its start-up overlaps synthesis;
    one running pack checks every stack, each with its own config."""

    def __init__(self):
        # Import the protocol on this thread first: pulumi.runtime.proto imports itself in a cycle,
        # and a second thread importing it meanwhile would see it half-initialized.
        import grpc  # noqa: F401
        from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc  # noqa: F401

        from .policy_engine import PolicyPackSession

        self._session = PolicyPackSession()
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


def check_stack(stack: str, policy_config: Path | None = None, pack: BackgroundPack | None = None) -> StackReport:
    report = StackReport(stack)
    synthesis = synthesize(stack)
    if not synthesis.ok:
        report.problems.append(f"config: {synthesis.error}")
        return report
    report.checked = True
    report.resources = len(synthesis.records)
    report.manifests = len(synthesis.kubernetes_objects())
    report.warnings = list(synthesis.warnings)
    # The pack analyzes in its own process while this one validates schemas.
    verdicts = (pack.start_check(policy_resources(synthesis), policy_config_for(stack, policy_config))
                if pack is not None else list)
    report.problems.extend(schema_problems(synthesis))
    for violation in verdicts():
        line = f"[{violation.policy_name}] {violation.message}"
        (report.problems if violation.enforcement_level == "mandatory" else report.advisories).append(line)
    return report


def summary_line(report: StackReport, policy: bool = True) -> str:
    count = len(report.problems)
    verdict = "ok" if report.ok else f"FAILED ({count} problem{'s' * (count != 1)})"
    if not report.checked:
        return f"{report.stack}: nothing checked: {verdict}"
    return (f"{report.stack}: {report.resources} resources, {report.manifests} manifests checked on "
            f"Kubernetes {' and '.join(v.rsplit('.', 1)[0] for v in KUBERNETES_VERSIONS)}"
            f"{', policy pack applied' if policy else ''}: {verdict}")


def _is_manifest_mode(argv: list[str]) -> bool:
    return any(arg.endswith((".yaml", ".yml", ".json")) and not arg.startswith("-")
               and Path(arg).suffix in (".yaml", ".yml") for arg in argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _is_manifest_mode(argv):
        from .policy_engine import check_manifests_main
        return check_manifests_main(argv)

    parser = argparse.ArgumentParser(prog="python -m tools.check", description=__doc__.splitlines()[0])
    parser.add_argument("stacks", nargs="*", metavar="STACK")
    parser.add_argument("--all", action="store_true", help="every stack in stacks/")
    parser.add_argument("--policy-config", type=Path, help="policy config instead of policy/config/<stack>.json")
    parser.add_argument("--no-policy", action="store_true", help="schema validation only")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    stacks = known_stacks() if args.all else args.stacks
    if not stacks:
        parser.error("name a STACK or pass --all")

    from .policy_engine import PolicyConfigError, PolicyPackError

    reports = []
    pack = None if args.no_policy else BackgroundPack()
    try:
        for stack in stacks:
            try:
                reports.append(check_stack(stack, args.policy_config, pack))
            except (FileNotFoundError, ValueError, PolicyConfigError) as exc:
                reports.append(StackReport(stack, problems=[str(exc).splitlines()[0]]))
    except PolicyPackError as exc:  # the pack did not start: no stack can be checked
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if pack is not None:
            pack.close()

    if args.format == "json":
        print(json.dumps([{"stack": r.stack, "ok": r.ok, "checked": r.checked, "resources": r.resources,
                           "manifests": r.manifests, "problems": r.problems, "advisories": r.advisories, "warnings": r.warnings}
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
