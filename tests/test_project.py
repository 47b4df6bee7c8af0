"""Project files that no CLI checks on this machine."""
import json
import re

import jsonschema
import yaml

from tests.conftest import ROOT

# pulumi/pulumi sdk/go/common/workspace/project.json, vendored; revision in tests/upstream/README.md
PROJECT_SCHEMA = ROOT / "tests" / "upstream" / "pulumi-project.schema.json"


def test_pulumi_yaml_is_a_valid_project_file():
    schema = json.loads(PROJECT_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    assert project["runtime"]["name"] == "python"
    assert project["stackConfigDir"] == "stacks"


def test_every_runtime_dependency_is_pinned_exactly():
    for name in ("requirements.txt", "requirements-dev.txt", "policy/requirements.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{name}: {line} is not pinned"


def test_runtime_requirements_name_the_sdks_the_program_imports():
    names = {line.split("==")[0] for line in (ROOT / "requirements.txt").read_text().splitlines()
             if "==" in line}
    assert {"pulumi", "pulumi-kubernetes", "pulumi-random", "pulumi-tls", "pydantic"} <= names


def test_vendored_project_schema_rejects_what_pulumi_rejects():
    validator = jsonschema.Draft202012Validator(json.loads(PROJECT_SCHEMA.read_text()))
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert not validator.is_valid({k: v for k, v in project.items() if k != "name"})
    assert not validator.is_valid({**project, "runtime": {"name": "python", "toolchain": "pip"}})


def test_generated_and_local_folders_are_git_ignored():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    for folder in (".venv/", ".bench-venv/", "policy/venv/"):
        assert folder in ignored, f"{folder} is not in .gitignore"


def test_docs_spell_harness_commands_the_one_way_that_works_without_an_activated_venv():
    import re

    docs = [ROOT / "README.md", ROOT / "policy" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    bare = [f"{path.relative_to(ROOT)}: {m.group(0)}" for path in docs
            for m in re.finditer(r"(?<![/\w])python3? -m tools\.\w+", path.read_text())]
    assert bare == [], "write .venv/bin/python -m tools.X"


def test_check_help_names_both_modes_and_the_environment_lookup(capsys):
    import pytest

    from tools import check

    with pytest.raises(SystemExit):
        check.main(["--help"])
    text = capsys.readouterr().out
    assert "MANIFEST.yaml" in text
    assert "policy/config/<environment>.json" in text


def test_the_policy_pack_venv_holds_exactly_the_pinned_set():
    # scripts/test.sh builds policy/venv from policy/requirements.txt before the tests run. A
    # dependency pip had to choose itself (one missing from the file) shows up here unpinned.
    pinned = {}
    for line in (ROOT / "policy" / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pinned[re.sub(r"[-_.]+", "-", name).lower()] = version
    # pip itself comes from requirements-pip.txt; nothing else may be there unpinned (setuptools,
    # which pulumi-policy requires, included: the venv is made without the copy `venv` bundles)
    pip_pin = next(line for line in (ROOT / "requirements-pip.txt").read_text().splitlines()
                   if line.startswith("pip=="))
    pinned["pip"] = pip_pin.split("==")[1]
    installed = {}
    for info in (ROOT / "policy" / "venv").glob("lib/python*/site-packages/*.dist-info"):
        name, version = info.name[:-len(".dist-info")].rsplit("-", 1)
        installed[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert installed == pinned
