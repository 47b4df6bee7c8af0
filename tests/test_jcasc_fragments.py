"""jenkins:jcasc: user fragments merge into the generated JCasC through the real program; a conflict,
a secret literal or a key the pinned Jenkins would refuse stops the preview with one line naming
the fragment (and the other owner), before any controller resource exists."""
from __future__ import annotations

import pytest

from components import jcasc
from components.config import ConfigError, parse_stack_config
from tests.conftest import minimal_config, synth_config
from tests.helpers import casc

DEFAULT_MESSAGE = "Jenkins, managed by Pulumi: change it in the stack config."


def fragments(**named) -> dict:
    return minimal_config(jcasc=named)


def refused(config: dict) -> str:
    synthesis = synth_config(config)
    assert synthesis.error is not None, "the program accepted the fragment"
    assert "\n" not in synthesis.error
    assert [r.name for r in synthesis.records if r.name in ("service-account", "jenkins-home", "casc")] == []
    return synthesis.error


def test_a_fragment_merges_into_the_generated_document():
    synthesis = synth_config(fragments(
        contact={"config": {"unclassified": {"location": {"adminAddress": "ci-team@example.org"}}}},
        readers={"config": {"jenkins": {"authorizationStrategy": {"globalMatrix": {"entries": [
            {"group": {"name": "developers", "permissions": ["Overall/Read"]}}]}}}}},
    ))
    assert synthesis.ok, synthesis.error
    document = casc(synthesis)
    assert document["unclassified"]["location"] == {
        "url": "http://jenkins.jenkins-test.svc.cluster.local:8080/", "adminAddress": "ci-team@example.org"}
    # Lists append: the generated admin entry stays, the fragment's entry follows it.
    assert document["jenkins"]["authorizationStrategy"]["globalMatrix"]["entries"] == [
        {"user": {"name": "admin", "permissions": ["Overall/Administer"]}},
        {"group": {"name": "developers", "permissions": ["Overall/Read"]}},
    ]


def test_a_fragment_that_repeats_a_generated_value_agrees():
    synthesis = synth_config(fragments(same={"config": {"jenkins": {"systemMessage": DEFAULT_MESSAGE}}}))
    assert synthesis.ok, synthesis.error


def test_a_conflicting_fragment_is_refused_naming_both_owners():
    error = refused(fragments(banner={"config": {"jenkins": {"systemMessage": "Welcome"}}}))
    assert error == (f"jenkins:jcasc.banner: JCasC key jenkins.systemMessage is set to {DEFAULT_MESSAGE!r} "
                     f"by controller and to 'Welcome' by jenkins:jcasc.banner")


def test_two_fragments_in_conflict_name_each_other():
    error = refused(fragments(
        first={"config": {"unclassified": {"location": {"adminAddress": "a@example.org"}}}},
        second={"config": {"unclassified": {"location": {"adminAddress": "b@example.org"}}}},
    ))
    assert error == ("jenkins:jcasc.second: JCasC key unclassified.location.adminAddress is set to "
                     "'a@example.org' by jenkins:jcasc.first and to 'b@example.org' by jenkins:jcasc.second")


def test_a_fragment_conflicting_with_a_pool_names_the_pool():
    executors = minimal_config(
        pools=[{"name": "onmaster", "type": "controller", "labels": ["onmaster"], "executors": 2}],
        jcasc={"quiet": {"config": {"jenkins": {"mode": "NORMAL"}}}})
    error = refused(executors)
    # The controller document sets mode from the pools' executors: EXCLUSIVE when it runs builds.
    assert error == ("jenkins:jcasc.quiet: JCasC key jenkins.mode is set to 'EXCLUSIVE' by controller "
                     "and to 'NORMAL' by jenkins:jcasc.quiet")


def test_merge_owned_names_the_pool_that_set_a_key():
    with pytest.raises(jcasc.JcascConflict) as raised:
        jcasc.merge_owned(jcasc.Owned("controller", {"jenkins": {}}), [
            jcasc.Owned("pool swarm", {"unclassified": {"location": {"adminAddress": "x@example.org"}}}),
            jcasc.Owned("jenkins:jcasc.mail", {"unclassified": {"location": {"adminAddress": "y@example.org"}}}),
        ])
    assert str(raised.value) == ("JCasC key unclassified.location.adminAddress is set to 'x@example.org' by "
                                 "pool swarm and to 'y@example.org' by jenkins:jcasc.mail")


DOCKER_CREDENTIAL = {"x509ClientCert": {"scope": "GLOBAL", "id": "docker-tls", "description": "d",
                                        "clientCertificate": "${docker-cert}", "serverCaCertificate": "${docker-ca}"}}


def with_key(value: str) -> dict:
    credential = {"x509ClientCert": {**DOCKER_CREDENTIAL["x509ClientCert"], "clientKeySecret": value}}
    return fragments(docker={"config": {"credentials": {"system": {"domainCredentials": [
        {"credentials": [credential]}]}}}})


def test_a_secret_by_reference_is_accepted():
    synthesis = synth_config(with_key("${docker-key}"))
    assert synthesis.ok, synthesis.error
    credential = casc(synthesis)["credentials"]["system"]["domainCredentials"][0]["credentials"][0]
    assert credential["x509ClientCert"]["clientKeySecret"] == "${docker-key}"


@pytest.mark.parametrize("literal", ["-----BEGIN PRIVATE KEY-----abc", "${docker-key:-hunter2}", "12345"])
def test_a_secret_literal_in_a_fragment_is_refused_without_repeating_it(literal):
    error = refused(with_key(literal))
    assert error.startswith(
        "jenkins:jcasc.docker.config: credentials.system.domainCredentials[0].credentials[0].x509ClientCert."
        "clientKeySecret looks like a secret and holds a literal; give it as a ${name} reference"), error
    assert "hunter2" not in error and "BEGIN" not in error


@pytest.mark.parametrize("key, flagged", [
    ("password", True), ("apiToken", True), ("privateKey", True), ("client_secret", True),
    ("passwordFile", False), ("credentialsId", False), ("tokenUrl", False), ("description", False),
])
def test_which_keys_look_secret(key, flagged):
    config = {"environment": "test", "namespace": "jenkins-test",
              "jcasc": {"x": {"config": {"unclassified": {"any": {key: "literal"}}}}}}
    if flagged:
        with pytest.raises(ConfigError, match=rf"^jenkins:jcasc\.x\.config: unclassified\.any\.{key} looks like a secret"):
            parse_stack_config(config)
    else:
        parse_stack_config(config)


def test_an_unknown_key_in_a_covered_path_is_refused_at_preview_naming_the_fragment():
    error = refused(fragments(typo={"config": {"jenkins": {"numExecutor": 2}}}))
    assert error.startswith(
        "jenkins:jcasc.typo: JCasC from jenkins:jcasc.typo would stop Jenkins at boot: jenkins.numExecutor: "
        "unknown attribute of jenkins.model.Jenkins ("), error
    assert "or mark the fragment unverified: true" in error


def test_an_unlisted_root_is_refused_unless_the_fragment_is_unverified():
    tool = {"tool": {"git": {"installations": [{"name": "Default", "home": "git"}]}}}
    error = refused(fragments(tools={"config": tool}))
    assert error.startswith("jenkins:jcasc.tools: JCasC from jenkins:jcasc.tools would stop Jenkins at boot: "
                            "tool: unknown JCasC root"), error
    synthesis = synth_config(fragments(tools={"config": tool, "unverified": True}))
    assert synthesis.ok, synthesis.error
    assert casc(synthesis)["tool"] == tool["tool"]


def test_unverified_still_checks_what_the_data_lists():
    error = refused(fragments(loose={"unverified": True, "config": {
        "unclassified": {"location": {"adminAddress": 5}}}}))
    assert error.startswith("jenkins:jcasc.loose: JCasC from jenkins:jcasc.loose would stop Jenkins at boot: "
                            "unclassified.location.adminAddress: expected string, got int 5"), error


def test_unverified_on_one_fragment_does_not_cover_another():
    error = refused(fragments(
        loose={"unverified": True, "config": {"unclassified": {"someGlobalConfig": {"a": 1}}}},
        strict={"config": {"unclassified": {"otherGlobalConfig": {"b": 2}}}},
    ))
    assert error.startswith("jenkins:jcasc.strict: JCasC from jenkins:jcasc.strict would stop Jenkins at boot: "
                            "unclassified.otherGlobalConfig: unknown attribute"), error


@pytest.mark.parametrize("fragment, expected", [
    ({"config": {}}, "jenkins:jcasc.x.config: "),
    ({"config": {"jenkins": {}}, "strict": True}, "jenkins:jcasc.x.strict: unknown key"),
    ({"jenkins": {"systemMessage": "m"}}, "jenkins:jcasc.x.config: required key is missing"),
])
def test_a_malformed_fragment_is_refused_naming_its_key(fragment, expected):
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"environment": "test", "namespace": "jenkins-test", "jcasc": {"x": fragment}})
    assert str(raised.value).startswith(expected), str(raised.value)


def test_a_bad_fragment_name_is_refused():
    with pytest.raises(ConfigError, match=r"^jenkins:jcasc\.Bad Name"):
        parse_stack_config({"environment": "test", "namespace": "jenkins-test",
                            "jcasc": {"Bad Name": {"config": {"jenkins": {}}}}})
