"""`pulumi preview` offline: the harness's preview mode (values unknown until apply), how the
policy pack decides when a value it reads is unknown, and what the engine sends the pack
(Analyze for every resource, outputs for AnalyzeStack, the pack's environment), all through the
real program and the real pack over gRPC."""
from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
import textwrap
from pathlib import Path

import pytest

from tests.conftest import STACKS
from tools.check import check_stack, policy_resources, schema_problems
from tools.harness import is_secret, synthesize, unwrap
from tools.policy_engine import PolicyPackSession, PolicyResource, _struct

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "policy" / "config"
# The engine's unknown-value sentinel (pulumi/pulumi sdk/go/common/resource/plugin/rpc.go,
# UnknownStringValue), written out here so a change in the harness cannot hide.
SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
CANT_RUN = "can't run policy"


@pytest.fixture(scope="module")
def prod(stack_syntheses):
    """prod as `pulumi up` and as `pulumi preview` of a new stack see it (no test edits either)."""
    return stack_syntheses["prod"], synthesize("prod", preview=True)


# ---------------------------------------------------------------- the harness in preview mode

def test_generated_values_are_unknown_in_preview_and_known_in_up(prod):
    up, preview = prod
    assert up.find(":RandomPassword", "admin-password").outputs["result"]["value"].startswith("mock")
    password = preview.find(":RandomPassword", "admin-password").outputs["result"]
    assert is_secret(password) and password["value"] == SENTINEL
    # What the program derives from it is unknown too, and sent as the sentinel, not a Python repr.
    string_data = preview.find(":Secret", "admin").raw_inputs["stringData"]
    assert is_secret(string_data) and string_data["value"] == SENTINEL
    assert preview.find(":Secret", "admin").unknown_inputs == ["stringData"]
    assert up.find(":Secret", "admin").unknown_inputs == []
    # Nothing else the prod program registers depends on a generated value.
    assert [r.name for r in preview.records if r.unknown_inputs] == ["admin"]
    assert preview.unknown_values() == 1 and up.unknown_values() == 0


def test_secret_inputs_are_checked_as_the_kubernetes_provider_does(prod):
    up, preview = prod
    admin = up.find(":Secret", "admin")
    password = unwrap(admin.raw_inputs)["stringData"]["password"]
    checked = admin.checked_inputs
    # Known: stringData folded into base64 data, all of data secret.
    assert "stringData" not in checked and is_secret(checked["data"])
    assert checked["data"]["value"]["password"] == base64.b64encode(password.encode()).decode()
    assert checked["data"]["value"]["username"] == base64.b64encode(b"admin").decode()
    assert admin.outputs == checked  # what the provider returns, and AnalyzeStack gets
    # Unknown: not normalized, stringData stays and is marked secret.
    previewed = preview.find(":Secret", "admin").checked_inputs
    assert "data" not in previewed and previewed["stringData"] == {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": SENTINEL}
    # The program's own inputs (what synth prints) keep stringData in `up` mode.
    assert unwrap(admin.raw_inputs)["stringData"]["username"] == "admin"


def test_schema_check_skips_unknown_leaves_but_not_real_errors(prod):
    _, preview = prod
    assert schema_problems(preview) == []  # stringData (an object) is unknown: not "not of type object"
    synthesis = copy.deepcopy(preview)
    controller = synthesis.find(":StatefulSet", "jenkins")
    controller.raw_inputs["spec"]["replicas"] = SENTINEL
    assert schema_problems(synthesis) == []
    controller.raw_inputs["spec"]["serviceName"] = 7
    assert any("serviceName" in p and "is not of type 'string'" in p for p in schema_problems(synthesis))


@pytest.fixture(scope="module")
def checked():
    """check_stack, each (stack, policy config, policy, preview) checked once per module: the tests
    that read the same stack's report share it."""
    reports = {}

    def check(stack, policy_config=None, policy=True, preview=False, project_dir=REPO):
        key = (stack, policy_config, policy, preview, project_dir)
        if key not in reports:
            reports[key] = check_stack(stack, policy_config, policy, preview, project_dir)
        return reports[key]
    return check


def test_synth_and_check_show_unknowns_in_text_and_json(checked, monkeypatch, capsys):
    from tools import check, synth

    monkeypatch.setattr(check, "check_stack", checked)  # prod's preview check is shared with the test below
    renders = {}

    def synthesize_once(stack, **options):  # staging's preview rendered once for both formats
        key = (stack, tuple(sorted(options.items())))
        if key not in renders:
            renders[key] = synthesize(stack, **options)
        return renders[key]
    monkeypatch.setattr(synth, "synthesize", synthesize_once)

    def run(tool, *args):
        status = tool.main(list(args))
        printed = capsys.readouterr()
        assert status == 0, printed.err
        return printed
    yaml_out = run(synth, "staging", "--preview")
    assert "stringData: (unknown)" in yaml_out.out and SENTINEL not in yaml_out.out
    assert "3 values unknown until apply" in yaml_out.err
    document = json.loads(run(synth, "staging", "--preview", "--format", "json").out)
    assert document["preview"] is True
    unknown = {r["name"]: r["unknownInputs"] for r in document["resources"] if "unknownInputs" in r}
    assert unknown == {"admin": ["stringData"], "swarm-client-password": ["stringData"],
                       "swarm-controller-password": ["stringData"]}
    [report] = json.loads(run(check, "prod", "--preview", "--format", "json").out)
    assert report["ok"] and report["preview"] and report["unknownValues"] == 1
    text = run(check, "prod", "--preview").out
    assert "prod (preview):" in text and "1 value unknown until apply: ok" in text


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_preview_with_its_policy_config(checked, stack):
    """The pack runs in both modes; a new stack's preview gives the verdicts `up` gives, and no
    policy is reduced to "can't run during preview"."""
    preview = checked(stack, preview=True)
    up = checked(stack)
    assert preview.ok, preview.problems
    assert preview.unknowns > 0 and up.unknowns == 0
    assert not [a for a in preview.advisories if CANT_RUN in a]
    assert preview.advisories == up.advisories


# ---------------------------------------------------------------- the pack under unknowns

def altered(resource: PolicyResource, changes: dict) -> PolicyResource:
    """The resource with values set at key paths (tuples) in its inputs and outputs alike."""
    properties = copy.deepcopy(resource.properties)
    for (*parents, last), value in changes.items():
        body = properties
        for key in parents:
            body = body[key]
        body[last] = value
    return dataclasses.replace(resource, properties=properties, outputs=copy.deepcopy(properties))


def rendered(synthesis, type_suffix: str, name: str) -> list[PolicyResource]:
    """All of the stack's resources, and the one to alter."""
    resources = policy_resources(synthesis)
    target = next(r for r in resources if r.type.endswith(type_suffix) and r.name == name)
    return resources, target


@pytest.fixture(scope="module")
def pack():
    with PolicyPackSession(stack="prod", dry_run=True) as session:
        yield session


def verdicts(pack, resources, config=CONFIG / "prod.json"):
    found = pack.check(resources, config)
    mandatory = {(v.policy_name, v.resource_name) for v in found if v.enforcement_level == "mandatory"}
    cant_run = {v.policy_name for v in found if CANT_RUN in v.message}
    return found, mandatory, cant_run


POD = ("spec", "template")
CONTAINER = (*POD, "spec", "containers", 0, "securityContext", "privileged")
NAMESPACE = ("metadata", "namespace")
ANNOTATIONS = (*POD, "metadata", "annotations")
APPARMOR = "container.apparmor.security.beta.kubernetes.io/jenkins"


def test_privileged_container_with_unknown_namespace_is_still_mandatory(prod, pack):
    resources, controller = rendered(prod[0], ":StatefulSet", "jenkins")
    changed = altered(controller, {NAMESPACE: SENTINEL, CONTAINER: True})
    found, mandatory, cant_run = verdicts(pack, [changed if r is controller else r for r in resources])
    assert ("pss-privileged", "jenkins") in mandatory
    [message] = [v.message for v in found if v.policy_name == "pss-privileged"]
    assert message.startswith('StatefulSet (unknown)/jenkins container "jenkins"')
    # Which namespace's label applies is unknown: only that stack policy cannot decide.
    assert cant_run == {"jenkins-namespace-pod-security"}


def test_unknown_namespace_alone_changes_no_verdict(prod, pack):
    resources, controller = rendered(prod[0], ":StatefulSet", "jenkins")
    found, mandatory, cant_run = verdicts(
        pack, [altered(controller, {NAMESPACE: SENTINEL}) if r is controller else r for r in resources])
    assert mandatory == set() and cant_run == {"jenkins-namespace-pod-security"}


def test_unknown_unrelated_annotation_does_not_disable_apparmor(prod, pack):
    resources, controller = rendered(prod[0], ":StatefulSet", "jenkins")
    unrelated = altered(controller, {ANNOTATIONS: {"jenkins-k8s.io/config-checksum": SENTINEL}})
    found, mandatory, cant_run = verdicts(pack, [unrelated if r is controller else r for r in resources])
    assert found == [] and cant_run == set()
    unconfined = altered(controller, {ANNOTATIONS: {"jenkins-k8s.io/config-checksum": SENTINEL,
                                                    APPARMOR: "unconfined"}})
    _, mandatory, cant_run = verdicts(pack, [unconfined if r is controller else r for r in resources])
    assert mandatory == {("pss-apparmor", "jenkins")} and cant_run == set()


def test_an_unknown_value_that_decides_makes_only_that_policy_advisory(prod, pack):
    resources, controller = rendered(prod[0], ":StatefulSet", "jenkins")
    deciding = altered(controller, {ANNOTATIONS: {APPARMOR: SENTINEL}})
    found, mandatory, cant_run = verdicts(pack, [deciding if r is controller else r for r in resources])
    assert mandatory == set() and cant_run == {"pss-apparmor"}
    [advisory] = found
    assert advisory.enforcement_level == "advisory" and "can't be known during preview" in advisory.message


def test_an_unknown_in_one_container_does_not_hide_another_containers_violation(prod, pack):
    resources, controller = rendered(prod[0], ":StatefulSet", "jenkins")
    init = (*POD, "spec", "initContainers", 0, "securityContext", "privileged")
    changed = altered(controller, {init: SENTINEL, CONTAINER: True})
    found, mandatory, cant_run = verdicts(pack, [changed if r is controller else r for r in resources])
    assert mandatory == {("pss-privileged", "jenkins")} and cant_run == {"pss-privileged"}
    [violation] = [v for v in found if v.enforcement_level == "mandatory"]
    assert 'container "jenkins"' in violation.message and "install-plugins" not in violation.message


def test_exemption_that_depends_on_an_unknown_namespace_is_left_to_apply(stack_syntheses):
    """dev exempts privileged DinD pods in jenkins-dev-*: with the namespace unknown the pack can
    neither exempt nor convict the pod, so pss-privileged says it cannot run; with a known
    namespace outside the allow-list it is mandatory again."""
    resources, dind = rendered(stack_syntheses["dev"], ":StatefulSet", "dind-dind")
    with PolicyPackSession(stack="dev", dry_run=True) as session:
        _, mandatory, cant_run = verdicts(
            session, [altered(dind, {NAMESPACE: SENTINEL}) if r is dind else r for r in resources],
            CONFIG / "dev.json")
        assert not any(policy == "pss-privileged" for policy, _ in mandatory)
        assert "pss-privileged" in cant_run
        _, mandatory, _ = verdicts(
            session, [altered(dind, {NAMESPACE: "elsewhere"}) if r is dind else r for r in resources],
            CONFIG / "dev.json")
        assert ("pss-privileged", "dind-dind") in mandatory


def test_namespace_policy_decides_each_namespace_on_its_own(pack, stack_syntheses):
    """staging runs pods in two namespaces: an unknown enforce label on one leaves that one to
    apply, and a weak label on the other is still a mandatory violation."""
    staging = stack_syntheses["staging"]
    resources, swarm_namespace = rendered(staging, ":Namespace", "swarm-namespace")
    _, controller_namespace = rendered(staging, ":Namespace", "controller-namespace")
    enforce = ("metadata", "labels", "pod-security.kubernetes.io/enforce")
    changes = {swarm_namespace.urn: altered(swarm_namespace, {enforce: SENTINEL}),
               controller_namespace.urn: altered(controller_namespace, {enforce: "baseline"})}
    found, mandatory, cant_run = verdicts(pack, [changes.get(r.urn, r) for r in resources],
                                          CONFIG / "staging.json")
    [weak] = [v for v in found if v.enforcement_level == "mandatory"]
    assert weak.policy_name == "jenkins-namespace-pod-security"
    assert ('Namespace jenkins-staging: metadata.labels["pod-security.kubernetes.io/enforce"]='
            '"baseline" is weaker than the required "restricted"') in weak.message
    assert cant_run == {"jenkins-namespace-pod-security"}
    # Known labels again: no advisory, and only the weak namespace reported.
    found, _, cant_run = verdicts(pack, [changes[r.urn] if r.urn == controller_namespace.urn else r
                                         for r in resources], CONFIG / "staging.json")
    assert cant_run == set() and len(found) == 1


def test_unknown_protect_label_leaves_only_that_claim_undecided(prod, pack):
    resources, claim = rendered(prod[0], ":PersistentVolumeClaim", "jenkins-home")
    component = ("metadata", "labels", "app.kubernetes.io/component")
    unprotected = dataclasses.replace(altered(claim, {component: SENTINEL}), protect=False)
    _, mandatory, cant_run = verdicts(pack, [unprotected if r is claim else r for r in resources])
    assert mandatory == set() and cant_run == {"jenkins-home-protected"}
    known = dataclasses.replace(claim, protect=False)
    _, mandatory, cant_run = verdicts(pack, [known if r is claim else r for r in resources])
    assert ("jenkins-home-protected", "jenkins-home") in mandatory and cant_run == set()


def test_unknowns_travel_as_the_sentinel():
    from pulumi.output import Unknown

    struct = _struct({"a": [Unknown(), {"b": Unknown()}]})
    assert struct["a"][0] == SENTINEL and struct["a"][1]["b"] == SENTINEL


# ---------------------------------------------------------------- what the engine sends

ECHO_PACK = '''
import json, os
import pulumi
from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy,
                           StackValidationPolicy)
from pulumi_policy.proxy import UnknownValueError


def plain(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "keys"):
        out = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = "<unknown>"
        return out
    out = []
    for i in range(len(value)):
        try:
            out.append(plain(value[i]))
        except UnknownValueError:
            out.append("<unknown>")
    return out


def analyze(args, report):
    report(json.dumps({"call": "Analyze", "type": args.resource_type, "props": plain(args.props),
                       "provider": plain(args.provider.props) if args.provider else None,
                       "providerType": args.provider.resource_type if args.provider else None}))


def analyze_stack(args, report):
    report(json.dumps({"call": "AnalyzeStack", "env": {k: os.environ.get(k) for k in (
        "PULUMI_STACK", "PULUMI_PROJECT", "PULUMI_DRY_RUN", "PULUMI_ORGANIZATION")},
        "config": json.loads(os.environ.get("PULUMI_CONFIG", "{}")),
        "namespace": pulumi.Config("jenkins").get("namespace"), "dryRun": pulumi.runtime.is_dry_run(),
        "resources": {r.urn: plain(r.props) for r in args.resources}}))


PolicyPack(name="echo", enforcement_level=EnforcementLevel.ADVISORY, policies=[
    ResourceValidationPolicy(name="echo", description="echo", validate=analyze),
    StackValidationPolicy(name="echo-stack", description="echo", validate=analyze_stack),
])
'''


def echo(tmp_path: Path, synthesis):
    """Run a stack's render through a pack that reports everything the harness sends it, started
    as for that stack and mode."""
    from tools.harness import read_stack_config

    stack, preview = synthesis.stack, synthesis.preview

    pack_dir = tmp_path / "echo"
    pack_dir.mkdir()
    (pack_dir / "__main__.py").write_text(textwrap.dedent(ECHO_PACK))
    (pack_dir / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    venv = REPO / "policy" / "venv"
    if venv.exists():
        os.symlink(venv.resolve(), pack_dir / "venv")
    config, secret_keys = read_stack_config(stack)
    with PolicyPackSession(pack_dir, stack=stack, config=config, secret_keys=secret_keys,
                           dry_run=preview) as session:
        found = session.check(policy_resources(synthesis), None)
    reports = [json.loads(v.message) for v in found]
    analyzed = [r for r in reports if r["call"] == "Analyze"]
    [stack_report] = [r for r in reports if r["call"] == "AnalyzeStack"]
    return synthesis, analyzed, stack_report


@pytest.fixture(scope="module")
def echoed_prod(tmp_path_factory, prod):
    """prod as `pulumi up` sends it, through the echo pack: read by the two tests below."""
    return echo(tmp_path_factory.mktemp("echo-prod"), prod[0])


def test_analyze_goes_to_every_registered_resource(echoed_prod):
    synthesis, analyzed, stack_report = echoed_prod
    types = [a["type"] for a in analyzed]
    for expected in ("pulumi:pulumi:Stack", "pulumi:providers:kubernetes", "pulumi:providers:random",
                     "jenkins:index:JenkinsPlatform", "jenkins:index:JenkinsController",
                     "random:index/randomPassword:RandomPassword", "kubernetes:apps/v1:StatefulSet"):
        assert expected in types
    assert len(analyzed) == len(synthesis.records) + 2  # + the root stack and pulumi-random's default provider
    assert len(stack_report["resources"]) == len(analyzed)
    provider = next(a for a in analyzed if a["type"] == "pulumi:providers:kubernetes")
    assert provider["props"] == {"version": "4.34.2"}
    statefulset = next(a for a in analyzed if a["type"] == "kubernetes:apps/v1:StatefulSet")
    assert statefulset["providerType"] == "pulumi:providers:kubernetes"
    assert statefulset["provider"] == {"version": "4.34.2"}
    password = next(a for a in analyzed if a["type"] == "random:index/randomPassword:RandomPassword")
    assert password["providerType"] == "pulumi:providers:random" and password["provider"] == {"version": "4.21.4"}


def test_analyze_gets_checked_inputs_and_analyze_stack_outputs(echoed_prod):
    synthesis, analyzed, stack_report = echoed_prod
    secret = next(a for a in analyzed if a["type"] == "kubernetes:core/v1:Secret")
    assert "stringData" not in secret["props"] and set(secret["props"]["data"]) == {"username", "password"}
    password = next(a for a in analyzed if a["type"] == "random:index/randomPassword:RandomPassword")
    assert "result" not in password["props"]
    outputs = stack_report["resources"]
    password_urn = synthesis.find(":RandomPassword", "admin-password").urn
    assert outputs[password_urn]["result"].startswith("mock")
    controller_urn = synthesis.find(":JenkinsController", "controller").urn
    assert next(a for a in analyzed if a["type"] == "jenkins:index:JenkinsController")["props"] == {}
    assert outputs[controller_urn] == {"serviceAccount": "jenkins", "homeClaim": "jenkins-home"}
    assert outputs[synthesis.root.urn]["adminSecretName"] == "jenkins-admin"


def test_preview_sends_unknowns_and_the_pack_environment(tmp_path, prod):
    synthesis, analyzed, stack_report = echo(tmp_path, prod[1])
    secret = next(a for a in analyzed if a["type"] == "kubernetes:core/v1:Secret")
    assert secret["props"]["stringData"] == "<unknown>"
    password_urn = synthesis.find(":RandomPassword", "admin-password").urn
    assert stack_report["resources"][password_urn]["result"] == "<unknown>"
    assert stack_report["env"] == {"PULUMI_STACK": "prod", "PULUMI_PROJECT": "jenkins-k8s",
                                   "PULUMI_DRY_RUN": "true", "PULUMI_ORGANIZATION": "organization"}
    assert stack_report["dryRun"] is True
    assert stack_report["namespace"] == "jenkins"
    assert stack_report["config"]["jenkins:environment"] == "prod"
    assert json.loads(stack_report["config"]["jenkins:pools"])[0]["name"] == "k8s"
