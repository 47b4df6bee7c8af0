"""The plugin lock is closed, consistent and what every stack installs; extraPlugins cannot bypass it."""
from __future__ import annotations

import pytest
import yaml

from components import yaml_data
from components.config import ConfigError, parse_stack_config
from components.plugin_lock import LOCK_PATH, lock_problems, parse_lock, version_key
from tests.conftest import minimal_config, synth_config
from tests.helpers import K8S_POOL

LOCK = parse_lock(LOCK_PATH.read_text())
RAW = yaml_data.load(LOCK_PATH.read_text())

# What the base set and each pool type ask for (components/defaults.py, components/pools/*).
BASE = {"configuration-as-code", "matrix-auth", "workflow-aggregator", "git", "credentials", "instance-identity"}
POOL_PLUGINS = {"kubernetes", "swarm", "docker-plugin", "docker-workflow", "docker-commons", "ssh-slaves"}
# What a JCasC `jobs:` root (jenkins:jobs) needs: job-dsl provides that root.
JOBS_PLUGINS = {"job-dsl"}
# What jenkins:metrics asks for.
METRICS_PLUGINS = {"prometheus"}
# What build credentials (components/build_credential.py) and sign-in realms (components/security.py) ask for.
CREDENTIAL_AND_REALM_PLUGINS = {"plain-credentials", "ssh-credentials", "oic-auth", "ldap", "github-oauth",
                                "github-branch-source"}


def plugin_list(synthesis) -> dict[str, str]:
    text = synthesis.find(":ConfigMap", "casc").inputs["data"]["plugins.txt"]
    return dict(line.split(":", 1) for line in text.splitlines())


def test_version_order_of_jenkins_plugin_versions():
    assert version_key("3.2.8") < version_key("3.3")
    assert version_key("4002.v80ca_d0f47d7f") < version_key("4370.v49a_6937566b_6")
    assert version_key("1571.1580.v18e46842c125") > version_key("1472.ve4d5eca_143c4")
    assert version_key("2.14.2-193.v422b_efce56e0") < version_key("2.14.3-200.v65623733c99f")
    assert version_key("1.0") < version_key("1.0.1")


def test_lock_is_closed_every_dependency_locked_at_or_above_its_minimum():
    assert lock_problems(LOCK) == []
    for plugin_id, entry in RAW["plugins"].items():
        for dependency, minimum in entry["requires"].items():
            assert dependency in RAW["plugins"], (plugin_id, dependency)
            assert version_key(RAW["plugins"][dependency]["version"]) >= version_key(minimum), (plugin_id, dependency)


def test_lock_problems_names_a_missing_and_a_too_old_dependency():
    broken = LOCK_PATH.read_text().replace("version: 4370.v49a_6937566b_6", "version: 3000.v1")
    problems = lock_problems(parse_lock(broken))
    assert any(p.startswith("workflow-aggregator requires workflow-cps >= 4002.v80ca_d0f47d7f, locked at 3000.v1")
               for p in problems), problems
    raw = yaml_data.load(LOCK_PATH.read_text())
    del raw["plugins"]["structs"]
    assert any("requires structs" in p and "not locked" in p for p in lock_problems(parse_lock(yaml.safe_dump(raw))))


def test_roots_are_exactly_what_the_base_set_the_pools_jobs_metrics_credentials_and_realms_ask_for():
    assert set(RAW["roots"]) == BASE | POOL_PLUGINS | JOBS_PLUGINS | METRICS_PLUGINS | CREDENTIAL_AND_REALM_PLUGINS


def test_nothing_locked_is_unreachable_unless_marked():
    reached, queue = set(), list(RAW["roots"])
    while queue:
        plugin_id = queue.pop()
        if plugin_id not in reached:
            reached.add(plugin_id)
            queue.extend(RAW["plugins"][plugin_id]["requires"])
    unused = {p for p, entry in RAW["plugins"].items() if "unused" in entry}
    assert set(RAW["plugins"]) - reached == unused


def test_bom_managed_versions_are_the_boms_for_2_568_x():
    assert RAW["jenkins"] == "2.568.2"
    assert RAW["bom"] == {"repository": "jenkinsci/bom", "revision": "d2cd31e0445265b5a3fcd173a86dfcca059a4fe2",
                          "module": "bom-2.568.x"}
    expected = {
        "configuration-as-code": "2117.vc05a_0b_e6b_f4e",
        "kubernetes": "4547.v52f3080db_8cd",
        "git": "5.10.1",
        "credentials": "1511.v2e3cb_0008ef0",
        "swarm": "1258.vda_14ddda_0613",
        "docker-plugin": "1327.v9524f1ee134e",
        "matrix-auth": "3.3",
        # transitive, at the BOM's version rather than the minimum a dependent declares
        "workflow-cps": "4370.v49a_6937566b_6",
        # the 2.568.x module overrides bom-weekly for this one
        "workflow-job": "1571.1580.v18e46842c125",
    }
    assert {p: RAW["plugins"][p]["version"] for p in expected} == expected
    assert RAW["plugins"]["workflow-job"]["version_from"] == "jenkinsci/bom@d2cd31e0 bom-2.568.x/pom.xml:12"
    assert RAW["plugins"]["git"]["version_from"] == "jenkinsci/bom@d2cd31e0 bom-weekly/pom.xml:23"


def test_every_entry_says_where_its_version_and_dependencies_came_from():
    for plugin_id, entry in RAW["plugins"].items():
        assert entry["version_from"], plugin_id
        assert entry.get("requires_from"), plugin_id
        if not entry["version_from"].startswith("jenkinsci/bom@"):
            assert plugin_id == "workflow-aggregator"


def test_locked_plugins_run_on_the_pinned_core_and_imply_no_detached_plugin():
    # Core adds implied dependencies on split plugins only for plugins built against a core older
    # than the split; the newest split in 2.568.2 is instance-identity at 2.356.
    for plugin_id, entry in RAW["plugins"].items():
        core = str(entry["required_core"])
        assert version_key(core) <= version_key("2.568.2"), plugin_id
        assert version_key(core) > version_key("2.356"), plugin_id


def test_every_stack_installs_locked_versions_only(stack_syntheses):
    seen = set()
    for stack, synthesis in stack_syntheses.items():
        assert synthesis.ok, (stack, synthesis.error)
        listed = plugin_list(synthesis)
        assert BASE <= set(listed), stack
        for plugin_id, version in listed.items():
            assert RAW["plugins"][plugin_id]["version"] == version, (stack, plugin_id)
            for dependency in RAW["plugins"][plugin_id]["requires"]:
                assert dependency in listed, (stack, plugin_id, dependency)
        seen |= set(listed)
    assert {"kubernetes", "swarm", "docker-plugin", "docker-workflow", "docker-commons"} <= seen


def test_transitive_plugins_are_listed_at_the_bom_version():
    listed = plugin_list(synth_config(minimal_config()))
    assert listed["workflow-cps"] == "4370.v49a_6937566b_6"
    assert listed["workflow-aggregator"] == "608.v67378e9d3db_1"
    assert "kubernetes" not in listed
    with_pool = plugin_list(synth_config(minimal_config(pools=[K8S_POOL])))
    assert with_pool["kubernetes"] == "4547.v52f3080db_8cd"
    assert with_pool["kubernetes-client-api"] == "7.3.1-256.v788a_0b_787114"


# ------------------------------------------------------------------ extraPlugins

def config_error(**controller) -> str:
    raw = {"environment": "test", "namespace": "jenkins-test", "controller": controller}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return str(caught.value)


def test_extra_plugin_cannot_downgrade_a_pool_plugin():
    message = config_error(extraPlugins={"kubernetes": "4000.v1"})
    assert message.startswith("jenkins:controller.extraPlugins.kubernetes: 4000.v1 differs from the locked "
                              "4547.v52f3080db_8cd")
    assert "\n" not in message
    synthesis = synth_config(minimal_config(pools=[K8S_POOL], controller={"extraPlugins": {"kubernetes": "4000.v1"}}))
    assert not synthesis.ok
    assert "jenkins:controller.extraPlugins.kubernetes" in synthesis.error
    assert synthesis.records == [] or not any(r.type.endswith(":ConfigMap") for r in synthesis.records)


def test_extra_plugin_outside_the_lock_names_the_regenerate_command():
    message = config_error(extraPlugins={"saml": "4.605.v2b_07e7a_39a_1f"})
    assert message.startswith("jenkins:controller.extraPlugins.saml: not in the plugin lock")
    assert "python -m tools.plugins_lock --add saml" in message


def test_extra_plugin_at_the_locked_version_joins_with_what_it_requires():
    listed = plugin_list(synth_config(minimal_config(controller={"extraPlugins": {"kubernetes": "4547.v52f3080db_8cd"}})))
    assert listed["kubernetes"] == "4547.v52f3080db_8cd"
    assert listed["kubernetes-credentials"] == "207.v492f58828b_ed"


def test_a_requested_plugin_missing_from_the_lock_is_named_with_the_command():
    from components.plugin_install import stack_plugins
    with pytest.raises(ValueError, match=r"plugin saml is not in the plugin lock; lock it with "
                                         r"`python -m tools.plugins_lock --add saml`"):
        stack_plugins(LOCK, ["saml"], {})
