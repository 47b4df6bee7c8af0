"""stacks/schema.json and docs/config-reference.md: generated from the model, current, and right."""
from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
import yaml

from components.config import ConfigError, parse_stack_config
from tests.conftest import ROOT, STACKS
from tools import config_schema

SCHEMA_FILE = ROOT / "stacks" / "schema.json"
REFERENCE_FILE = ROOT / "docs" / "config-reference.md"
REGENERATE = ".venv/bin/python -m tools.config_schema"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_file_is_up_to_date_with_the_model():
    expected = json.dumps(config_schema.stack_file_schema(), indent=2, ensure_ascii=False) + "\n"
    assert SCHEMA_FILE.read_text() == expected, f"stacks/schema.json is stale: run {REGENERATE}"


def test_config_reference_is_up_to_date_with_the_model():
    assert REFERENCE_FILE.read_text() == config_schema.reference_markdown(), \
        f"docs/config-reference.md is stale: run {REGENERATE}"


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(config_schema, "SCHEMA_FILE", stale)
    monkeypatch.setattr(config_schema, "ROOT", tmp_path)
    monkeypatch.setattr(config_schema, "REFERENCE_FILE", tmp_path / "reference.md")
    assert config_schema.main(["--check"]) == 1
    assert REGENERATE in capsys.readouterr().err
    assert stale.read_text() == "{}\n"  # --check writes nothing


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_file_validates_and_points_editors_at_the_schema(stack, validator):
    path = ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    assert path.read_text().splitlines()[0] == "# yaml-language-server: $schema=./schema.json"
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


def _every_property(node, path="$"):
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield f"{path}.{key}", value
        for key, value in node.items():
            yield from _every_property(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _every_property(value, f"{path}[{i}]")


def test_every_field_has_a_description():
    schema = config_schema.stack_file_schema()
    undocumented = [path for path, node in _every_property(schema["$defs"]) if not node.get("description")]
    undocumented += [key for key, node in schema["properties"]["config"]["properties"].items()
                     if not node.get("description")]
    assert undocumented == [], "add a docstring under each of these fields in the model"


@pytest.mark.parametrize("key", [
    "jenkins:pools[].templates[].agentResources",
    "jenkins:pools[].templates[].idleMinutes",
    "jenkins:pools[].templates[].pullStrategy",
    "jenkins:pools[].retry",
    "jenkins:pools[].dindResources",
    "jenkins:pools[].daemon.storageSize",
    "jenkins:controller.storage.protect",
    "jenkins:kubernetes.renderYamlToDirectory",
])
def test_reference_documents_the_key(key):
    rows = [line for line in REFERENCE_FILE.read_text().splitlines() if line.startswith(f"| `{key}` |")]
    assert rows, f"{key} is not in docs/config-reference.md"
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert len(cells) == 5 and cells[1] and cells[4], rows[0]


def test_reference_gives_defaults_and_limits_from_the_model():
    text = REFERENCE_FILE.read_text()
    assert re.search(r"\| `jenkins:pools\[\]\.templates\[\]\.pullStrategy` \| string \| `\"PULL_LATEST\"` \| "
                     r"`PULL_ALWAYS`, `PULL_LATEST`, `PULL_NEVER` \|", text)
    assert re.search(r"\| `jenkins:pools\[\]\.retry` \| integer \| `30` \| ≥ 1; ≤ 10000 \|", text)
    assert "| `jenkins:namespace` | string | required | length ≥ 1; length ≤ 42;" in text
    assert [line for line in text.splitlines() if line.startswith("### ")] == [
        "### `type: kubernetes`", "### `type: controller`", "### `type: docker-cloud`",
        "### `type: docker-cloud-dind`", "### `type: swarm`", "### `type: swarm-dind`",
        "### `type: usernamePassword`", "### `type: secretText`", "### `type: sshPrivateKey`", "### `type: file`",
        "### `type: githubApp`", "### `type: local`", "### `type: oidc`", "### `type: ldap`", "### `type: github`"]
    assert "| `jenkins:security.realm.oauthScopes` | string | `\"read:org,user:email\"` |" in text
    assert "| `jenkins:credentials[].appId` | string | required |" in text


def _with(stack: str, edit) -> dict:
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    document = copy.deepcopy(document)
    edit(document["config"])
    return document


# Each edit breaks a shipped stack the way a user would; the schema and the model both refuse it.
INVALID = {
    "typo in a controller key": ("prod", lambda c: c["jenkins:controller"].update(resorces=c["jenkins:controller"].pop("resources"))),
    "unknown top-level jenkins key": ("prod", lambda c: c.update({"jenkins:pool": c.pop("jenkins:pools")})),
    "typo in a pool key": ("dev", lambda c: c["jenkins:pools"][0].update(replics=3)),
    "count as a string": ("prod", lambda c: c["jenkins:pools"][0].update(containerCap="fifty")),
    "count out of range": ("prod", lambda c: c["jenkins:pools"][0].update(containerCap=0)),
    "unknown pool type": ("prod", lambda c: c["jenkins:pools"][0].update(type="k8s")),
    "not a boolean": ("staging", lambda c: c.update({"jenkins:networkPolicies": "maybe"})),
    "missing namespace": ("prod", lambda c: c.pop("jenkins:namespace")),
    "bad pull strategy": ("dev", lambda c: next(p for p in c["jenkins:pools"] if p["type"] == "docker-cloud")
                          ["templates"][0].update(pullStrategy="ALWAYS")),
    "plugin id with a space": ("prod", lambda c: c["jenkins:controller"].update(extraPlugins={"my plugin": "1.0"})),
}


@pytest.mark.parametrize("case", INVALID)
def test_schema_rejects_what_the_model_rejects(case, validator):
    stack, edit = INVALID[case]
    document = _with(stack, edit)
    assert not validator.is_valid(document), f"schema accepts: {case}"
    raw = {k.split(":", 1)[1]: v for k, v in document["config"].items() if k.startswith("jenkins:")}
    with pytest.raises(ConfigError):
        parse_stack_config(raw)


def test_schema_rejects_a_misspelled_config_section(validator):
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    document["confg"] = document.pop("config")
    assert not validator.is_valid(document)


def test_schema_accepts_the_engine_and_default_provider_namespaces_only(validator):
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    document["encryptionsalt"] = "v1:abc:def"
    document["config"].update({"pulumi:tags": {"team": "platform"}, "random:seed": "x", "tls:proxy": "y"})
    assert validator.is_valid(document)
    for foreign in ("kubernetes:context", "jenkin:pools", "aws:region"):
        assert not validator.is_valid({**document, "config": {**document["config"], foreign: "x"}}), foreign


def test_schema_accepts_secret_parts_as_pulumi_stores_them_encrypted(validator):
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    credential = {"id": "registry", "type": "usernamePassword", "description": "registry login",
                  "username": "ci", "password": {"secure": "v1:Zm9vYmFy"}}
    document["config"]["jenkins:credentials"] = [credential]
    assert validator.is_valid(document)
    credential["password"] = {"secure": "v1:x", "extra": 1}
    assert not validator.is_valid(document)


def test_field_docstrings_are_the_ones_pydantic_itself_reads():
    """The schema reads each model's field docstrings itself instead of pydantic's
    use_attribute_docstrings at every import; pydantic's own reader (pinned pydantic 2.14.3) is the
    oracle, class by class, so a pydantic bump that reads them differently shows here."""
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls

    models = set(config_schema._config_models().values())
    assert len(models) > 50
    for model in models:
        own = config_schema._own_docstrings(model.__module__).get(model.__name__, {})
        ours = {field: doc for field, doc in own.items() if doc is not None}
        assert ours == extract_docstrings_from_cls(model, use_inspect=True), model.__qualname__
