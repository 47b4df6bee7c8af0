"""tools.plugins_lock: BOM parsing and resolution on small fixtures; one clear line when offline."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from components.plugin_lock import LOCK_PATH, dump_lock, lock_problems, parse_lock
from tools.harness import ROOT
from tools.plugins_lock import HEADER, ResolutionError, bom_versions, resolve
from tools.plugins_lock import main as plugins_lock_main

LINE_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project>
  <artifactId>bom-2.568.x</artifactId>
  <properties>
    <workflow-job-plugin.version>1571.1580.v18e46842c125</workflow-job-plugin.version>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>${project.groupId}</groupId>
        <artifactId>bom-weekly</artifactId>
        <version>${project.version}</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
      <dependency>
        <groupId>org.jenkins-ci.plugins.workflow</groupId>
        <artifactId>workflow-job</artifactId>
        <version>${workflow-job-plugin.version}</version>
      </dependency>
    </dependencies>
  </dependencyManagement>
</project>
"""

WEEKLY_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project>
  <artifactId>bom-weekly</artifactId>
  <properties>
    <workflow-cps-plugin.version>4370.v49a_6937566b_6</workflow-cps-plugin.version>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>org.jenkins-ci.plugins.workflow</groupId>
        <artifactId>workflow-cps</artifactId>
        <version>${workflow-cps-plugin.version}</version>
      </dependency>
      <dependency>
        <groupId>org.jenkins-ci.plugins.workflow</groupId>
        <artifactId>workflow-cps</artifactId>
        <version>${workflow-cps-plugin.version}</version>
        <classifier>tests</classifier>
      </dependency>
      <dependency>
        <groupId>org.jenkins-ci.plugins.workflow</groupId>
        <artifactId>workflow-job</artifactId>
        <version>1590.v49101d088542</version>
      </dependency>
      <dependency>
        <groupId>org.jenkins-ci.plugins</groupId>
        <artifactId>structs</artifactId>
        <version>362.va_b_695ef4fdf9</version>
      </dependency>
    </dependencies>
  </dependencyManagement>
</project>
"""

MODULES = {"bom-2.568.x": LINE_POM, "bom-weekly": WEEKLY_POM}

PLUGIN_VERSIONS = {"plugins": {
    "workflow-aggregator": {"608.v67378e9d3db_1": {"requiredCore": "2.479.3", "sha256": "agg", "dependencies": [
        {"name": "workflow-cps", "version": "4002.v80ca_d0f47d7f", "optional": False},
        {"name": "workflow-job", "version": "1472.ve4d5eca_143c4", "optional": False},
        {"name": "pipeline-graph-view", "version": "1.0", "optional": True},
    ]}},
    "workflow-cps": {"4370.v49a_6937566b_6": {"requiredCore": "2.504.3", "sha256": "cps", "dependencies": [
        {"name": "structs", "version": "350.v3b_30f09f2363", "optional": False},
        {"name": "unmanaged", "version": "1.2", "optional": False},
    ]}},
    "workflow-job": {"1571.1580.v18e46842c125": {"requiredCore": "2.516.3", "dependencies": [
        {"name": "unmanaged", "version": "1.4", "optional": False},
    ]}},
    "structs": {"362.va_b_695ef4fdf9": {"requiredCore": "2.479.1", "dependencies": []}},
    "unmanaged": {"1.4": {"requiredCore": "2.479.1", "dependencies": []}},
}}

SOURCE = {"repository": "jenkinsci/bom", "revision": "0123456789abcdef", "module": "bom-2.568.x"}


def test_bom_versions_follow_imports_and_overrides_with_line_numbers():
    bom = bom_versions(MODULES.__getitem__, "bom-2.568.x")
    assert bom["workflow-job"].version == "1571.1580.v18e46842c125"
    assert bom["workflow-job"].where == "bom-2.568.x/pom.xml:5"
    assert bom["workflow-cps"].version == "4370.v49a_6937566b_6"
    assert bom["workflow-cps"].where == "bom-weekly/pom.xml:5"
    assert bom["structs"].where == "bom-weekly/pom.xml:28"
    assert "bom-weekly" not in bom


def fixture_lock(**overrides):
    arguments = dict(roots=["workflow-aggregator"], bom=bom_versions(MODULES.__getitem__, "bom-2.568.x"),
                     bom_source=SOURCE, plugin_versions=PLUGIN_VERSIONS,
                     pinned={"workflow-aggregator": "608.v67378e9d3db_1"}, jenkins="2.568.2", source_note="fixture")
    arguments.update(overrides)
    return resolve(**arguments)


def test_resolution_takes_bom_versions_not_minimums_and_skips_optional():
    lock = fixture_lock()
    versions = {p: e.version for p, e in lock.plugins.items()}
    assert versions == {"workflow-aggregator": "608.v67378e9d3db_1", "workflow-cps": "4370.v49a_6937566b_6",
                        "workflow-job": "1571.1580.v18e46842c125", "structs": "362.va_b_695ef4fdf9",
                        "unmanaged": "1.4"}
    assert lock.plugins["workflow-aggregator"].requires == {"workflow-cps": "4002.v80ca_d0f47d7f",
                                                             "workflow-job": "1472.ve4d5eca_143c4"}
    assert lock.plugins["workflow-cps"].version_from == "jenkinsci/bom@01234567 bom-weekly/pom.xml:5"
    assert lock.plugins["unmanaged"].version_from.startswith("not managed by the BOM; the highest minimum")
    assert lock.plugins["workflow-cps"].sha256 == "cps"
    assert lock_problems(lock) == []
    # what the tool writes is what the program reads
    again = parse_lock(dump_lock(lock, HEADER))
    assert again.plugins == lock.plugins and again.roots == ("workflow-aggregator",)


def test_resolution_fails_on_a_version_the_update_centre_does_not_list():
    with pytest.raises(ResolutionError, match="workflow-aggregator 9.9: not listed in plugin-versions.json"):
        fixture_lock(pinned={"workflow-aggregator": "9.9"})
    with pytest.raises(ResolutionError, match="--add workflow-aggregator=VERSION"):
        fixture_lock(pinned={})


def test_offline_the_command_says_so_in_one_line_and_writes_nothing(tmp_path):
    output = tmp_path / "plugins.lock.yaml"
    output.write_text(LOCK_PATH.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "tools.plugins_lock", "--output", str(output),
         "--github-raw", "http://127.0.0.1:9", "--plugin-versions-url", "http://127.0.0.1:9/plugin-versions.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tools.plugins_lock: cannot read http://127.0.0.1:9/jenkinsci/bom/d2cd31e0")
    assert lines[0].endswith("run it where github.com and updates.jenkins.io are reachable")
    assert output.read_text() == LOCK_PATH.read_text()


def test_shipped_lock_round_trips_through_the_writer():
    lock = parse_lock(LOCK_PATH.read_text())
    assert yaml.safe_load(dump_lock(lock, HEADER)) == yaml.safe_load(LOCK_PATH.read_text())


def test_plugins_txt_prints_the_list_the_stack_installs(stack_syntheses, capsys):
    # The command's entry point in this process; its process behaviour is tested offline above.
    assert plugins_lock_main(["--plugins-txt", "prod"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == stack_syntheses["prod"].find(":ConfigMap", "casc").inputs["data"]["plugins.txt"]
    assert "kubernetes:4547.v52f3080db_8cd\n" in out
