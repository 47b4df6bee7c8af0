"""A bad stack config stops the program with one line naming the key, before any resource exists."""
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, minimal_config, synth_config

K8S_POOL = {"name": "k8s", "type": "kubernetes", "templates": [{"name": "default", "labels": ["linux"]}]}


@pytest.mark.parametrize("config, key", [
    ({"jenkins:bogus": "1"}, "jenkins:bogus"),
    ({"jenkins:controller": {"storage": {"sise": "10Gi"}}}, "jenkins:controller.storage.sise"),
    ({"jenkins:controller": {"storage": {"protect": "maybe"}}}, "jenkins:controller.storage.protect"),
    ({"jenkins:controller": {"storage": {"size": "10"}}}, "jenkins:controller.storage.size"),
    ({"jenkins:controller": {"image": "jenkins/jenkins:latest"}}, "jenkins:controller.image"),
    ({"jenkins:controller": {"resources": {"requests": {"cpu": "2", "memory": "1Gi"},
                                           "limits": {"cpu": "1", "memory": "1Gi"}}}},
     "jenkins:controller.resources"),
    ({"jenkins:namespace": "Jenkins_Prod"}, "jenkins:namespace"),
    ({"jenkins:pools": [{**K8S_POOL, "containerCap": 0}]}, "jenkins:pools[0].containerCap"),
    ({"jenkins:pools": [{**K8S_POOL, "type": "kubernets"}]}, "jenkins:pools[0]"),
    ({"jenkins:pools": [K8S_POOL, K8S_POOL]}, "jenkins:pools"),
    ({"jenkins:pools": [{**K8S_POOL, "templates": [{"name": "a", "labels": []}]}]},
     "jenkins:pools[0].templates[0].labels"),
    ({"jenkins:kubernetes": {"context": "kind", "renderYamlToDirectory": "out"}}, "jenkins:kubernetes"),
    ({"jenkins:exposure": {"ingress": {"host": "not a host"}}}, "jenkins:exposure.ingress.host"),
])
def test_bad_value_is_one_line_naming_the_key_and_registers_nothing(config, key):
    synthesis = synth_config({**minimal_config(), **config})
    assert synthesis.error is not None
    assert "\n" not in synthesis.error
    assert synthesis.error.startswith(key), synthesis.error
    assert synthesis.records == []


def test_missing_required_key_is_named():
    synthesis = synth_config({"jenkins:namespace": "jenkins-x"})
    assert synthesis.error == "jenkins:environment: required key is missing"


def test_duplicate_pool_names_say_which():
    synthesis = synth_config(minimal_config(pools=[K8S_POOL, K8S_POOL]))
    assert "pool name 'k8s' is used twice" in synthesis.error


def test_the_command_line_prints_one_line_and_no_traceback(tmp_path):
    stack = tmp_path / "Pulumi.broken.yaml"
    stack.write_text(yaml.safe_dump({"config": {**minimal_config(), "jenkins:controler": {"image": "x"}}}))
    result = subprocess.run([sys.executable, "-m", "tools.synth", "broken", "--stack-file", str(stack)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: jenkins:controler: unknown key")
    assert "Traceback" not in result.stderr


def test_a_valid_minimal_config_synthesizes():
    synthesis = synth_config(minimal_config())
    assert synthesis.ok, synthesis.error
    controller = synthesis.find(":StatefulSet", "jenkins").inputs
    assert controller["metadata"]["namespace"] == "jenkins-test"
    assert controller["spec"]["replicas"] == 1
