"""A bad stack config stops the program with one line naming the key, before any resource exists."""
import contextvars
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, minimal_config, synth_config
from tools import check, synth

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
    ({"jenkins:exposure": {"ingress": {"host": "not a host", "tls": "disabled"}}}, "jenkins:exposure.ingress.host"),
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


# ---------------------------------------------------------------- allowed keys, namespaces, wording

@pytest.mark.parametrize("config, error", [
    # `controller` and `kubernetes` are also pool type names: the hint must follow the config keys.
    ({"jenkins:controller": {"resorces": {}}},
     "jenkins:controller.resorces: unknown key (allowed: adminUser, backup, disruptionBudget, extraPlugins, image, "
     "javaOpts, plugins, resources, scheduling, storage, systemMessage)"),
    ({"jenkins:kubernetes": {"kubeconfig": "x"}},
     "jenkins:kubernetes.kubeconfig: unknown key (allowed: context, renderYamlToDirectory)"),
    ({"jenkins:controller": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                                           "limits": {"cpu": "1", "memory": "1Gi"}, "request": {}}}},
     "jenkins:controller.resources.request: unknown key (allowed: limits, requests)"),
    ({"jenkins:pools": [{**K8S_POOL, "replics": 1}]},
     "jenkins:pools[0].replics: unknown key (allowed: builder, containerCap, name, scheduling, templates, type)"),
    ({"jenkins:pools": [{"name": "c", "type": "controller", "executors": 2, "labels": ["x"], "nodeSelector": {}}]},
     "jenkins:pools[0].nodeSelector: unknown key (allowed: docker, executors, labels, name, scheduling, type)"),
])
def test_unknown_keys_list_the_keys_allowed_at_that_path(config, error):
    assert synth_config({**minimal_config(), **config}).error == error


@pytest.mark.parametrize("config, error", [
    ({"jenkins:pools": [{**K8S_POOL, "templates": [{"name": "d", "labels": "linux"}]}]},
     "jenkins:pools[0].templates[0].labels: must be a list"),
    ({"jenkins:controller": "big"}, "jenkins:controller: must be a mapping of keys to values"),
    ({"jenkins:pools": [{"name": "k8s"}]},
     "jenkins:pools[0].type: required key is missing (one of: kubernetes, controller, docker-cloud, "
     "docker-cloud-dind, swarm, swarm-dind)"),
    ({"jenkins:pools": [{**K8S_POOL, "type": "kubernets"}]},
     "jenkins:pools[0].type: 'kubernets' is not a pool type (one of: kubernetes, controller, docker-cloud, "
     "docker-cloud-dind, swarm, swarm-dind)"),
    ({"jenkins:controller": {"storage": {"size": 30}}},
     "jenkins:controller.storage.size: must be a string (quote it in YAML)"),
    ({"jenkins:networkPolicies": "maybe"}, "jenkins:networkPolicies: must be true or false"),
    # One typo in the only template: its two errors, not a third about the template list.
    ({"jenkins:pools": [{**K8S_POOL, "templates": [{"name": "d", "label": ["x"]}]}]},
     "jenkins:pools[0].templates[0].labels: required key is missing; jenkins:pools[0].templates[0].label: "
     "unknown key (allowed: agentResources, builderResources, containers, env, idleMinutes, imagePullSecrets, "
     "instanceCap, jnlpImage, labels, name, scheduling, serviceAccount, volumes, workspaceVolume)"),
])
def test_errors_speak_of_the_config_not_of_python(config, error):
    assert synth_config({**minimal_config(), **config}).error == error


@pytest.mark.parametrize("key, value, error", [
    ("jenkin:pools", [K8S_POOL],
     "jenkin:pools: unknown config namespace 'jenkin' (this program reads jenkins:*; also pulumi:*, random:*, "
     "tls:*); did you mean jenkins:pools?"),
    ("kubernetes:context", "prod-cluster",
     "kubernetes:context: not read by this program's Kubernetes provider; set jenkins:kubernetes.context instead"),
    ("kubernetes:renderYamlToDirectory", "out",
     "kubernetes:renderYamlToDirectory: not read by this program's Kubernetes provider; "
     "set jenkins:kubernetes.renderYamlToDirectory instead"),
    ("kubernetes:kubeconfig", "/tmp/k",
     "kubernetes:kubeconfig: not supported (the program's Kubernetes provider is configured only by "
     "jenkins:kubernetes.context and jenkins:kubernetes.renderYamlToDirectory)"),
])
def test_keys_outside_the_namespace_the_program_reads_are_refused(key, value, error):
    synthesis = synth_config({**minimal_config(pools=[K8S_POOL]), key: value})
    assert synthesis.error == error
    assert synthesis.records == []


def test_engine_and_default_provider_keys_are_accepted():
    synthesis = synth_config({**minimal_config(pools=[K8S_POOL]), "pulumi:disable-default-providers": '["kubernetes"]',
                              "random:someKey": "x", "tls:proxy": {"fromEnv": True}})
    assert synthesis.ok, synthesis.error


def load_config_as_under_pulumi_up(monkeypatch, config: dict, secret_keys: list[str] | None = None) -> str:
    """What the program's load_stack_config makes of config handed over as `pulumi up` does: in
    PULUMI_CONFIG (and PULUMI_CONFIG_SECRET_KEYS), run in a fresh context, so nothing a render in
    this process set through set_all_config is seen (as in the program's own process). The first
    credential's id when accepted, else the one-line refusal."""
    import pulumi

    from components.config import load_stack_config

    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    monkeypatch.delenv("PULUMI_CONFIG_SECRET_KEYS", raising=False)
    if secret_keys is not None:
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(secret_keys))

    def load() -> str:
        try:
            loaded = load_stack_config()
        except pulumi.RunError as exc:
            return str(exc)
        return loaded.credentials[0].id if loaded.credentials else "accepted"

    return contextvars.Context().run(load)


def test_the_program_refuses_keys_it_gets_from_pulumi_config_under_pulumi_up(monkeypatch):
    """`pulumi up` hands the program all stack config in PULUMI_CONFIG, not through set_all_config."""
    refusal = load_config_as_under_pulumi_up(
        monkeypatch, {"jenkins:environment": "t", "jenkins:namespace": "t", "kubernetes:context": "prod"})
    assert refusal == ("kubernetes:context: not read by this program's Kubernetes provider; "
                       "set jenkins:kubernetes.context instead")


OIDC_FROM_SECRET = {"type": "oidc", "wellKnownUrl": "https://idp.example.com/.well-known/openid-configuration",
                    "clientId": "jenkins", "clientSecretFrom": {"secretName": "sso", "key": "secret"}}
README_EXAMPLES = {  # README example error -> the config that produces it
    "jenkins:controller.storage.sise": {"jenkins:controller": {"storage": {"sise": "10Gi"}}},
    "jenkins:pools[0].containerCap": {"jenkins:pools": [{**K8S_POOL, "containerCap": 0}]},
    "kubernetes:context": {"kubernetes:context": "prod-cluster"},
    "jenkins:jcasc.banner": {"jenkins:jcasc": {"banner": {"config": {"jenkins": {"systemMessage": "Welcome"}}}}},
    "jenkins:credentials[0].password": {"jenkins:credentials": [
        {"id": "git", "type": "usernamePassword", "username": "bot", "password": "in-the-file"}]},
    "jenkins:security": {"jenkins:security": {"realm": OIDC_FROM_SECRET}},
    "jenkins:pools[1]": {"jenkins:pools": [K8S_POOL, {"name": "swarm", "type": "swarm", "labels": ["swarm"]}],
                         "jenkins:security": {"realm": OIDC_FROM_SECRET,
                                              "authorization": {"administrators": {"groups": ["platform"]}}}},
}


def test_the_readme_example_errors_are_what_the_program_prints(tmp_path, capsys):
    lines = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()
             if line.startswith("    error: ")]
    assert sorted(line.split(": ")[1] for line in lines) == sorted(README_EXAMPLES)
    for line in lines:
        stack = tmp_path / "Pulumi.example.yaml"
        stack.write_text(yaml.safe_dump({"config": {**minimal_config(), **README_EXAMPLES[line.split(": ")[1]]}}))
        code = synth.main(["example", "--stack-file", str(stack)])
        printed = capsys.readouterr()
        assert code == 1 and printed.err.strip() == line and printed.out == ""


# ---------------------------------------------------------------- stack files that are not YAML

BROKEN = "config:\n  jenkins:environment: qa\n  jenkins:labels: [a, b\n"


def test_a_yaml_syntax_error_is_one_line_with_file_line_and_column(tmp_path, capsys, monkeypatch):
    stack = tmp_path / "Pulumi.qa.yaml"
    stack.write_text(BROKEN)
    monkeypatch.chdir(ROOT)
    assert synth.main(["qa", "--stack-file", str(stack)]) == 2
    printed = capsys.readouterr()
    assert printed.err == f"error: {stack}:4:1: expected ',' or ']', but got '<stream end>'\n"
    assert printed.out == ""


def test_check_all_reports_a_broken_stack_file_and_checks_the_others(tmp_path, capsys, monkeypatch):
    """A project whose stacks/ holds a broken stack file beside the shipped ones."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "stacks", project / "stacks")
    shutil.copy2(ROOT / "__main__.py", project / "__main__.py")
    (project / "stacks" / "Pulumi.qa.yaml").write_text(BROKEN)
    monkeypatch.chdir(project)
    assert check.main(["--all", "--no-policy"], project_dir=project) == 1
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert "qa: FAIL stacks/Pulumi.qa.yaml:4:1: expected ',' or ']', but got '<stream end>'" in lines
    assert "qa: nothing checked: FAILED (1 problem)" in lines
    others = [p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")]
    for stack in others:
        assert any(line.startswith(f"{stack}: ") and line.endswith(": ok") for line in lines), (stack, lines)
    assert printed.err == ""


# ---------------------------------------------------------------- clean exit

def test_no_event_loop_is_left_open_for_interpreter_shutdown():
    """A loop left open is collected at shutdown after its self-pipe socket, which printed an
    intermittent 'Exception ignored in BaseEventLoop.__del__' traceback after good renders."""
    code = ("import asyncio, atexit, gc\nfrom tools.harness import synthesize\n"
            "assert synthesize('local').ok\natexit._run_exitfuncs()\ngc.collect()\n"
            "print(sum(isinstance(o, asyncio.BaseEventLoop) and not o.is_closed() for o in gc.get_objects()))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.strip() == "0", done.stderr
