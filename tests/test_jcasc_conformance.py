"""Every JCasC document the program can generate is one the pinned Jenkins accepts, and the checker
refuses what JCasC's defaults refuse: through the real program, on hand-written documents, and
against the data file read from the pinned sources."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from components import defaults, jcasc, jcasc_conformance, yaml_data
from components.plugin_lock import load_lock
from components.pools import docker_cloud, kubernetes
from tests.conftest import STACKS, minimal_config, synth_config
from tests.helpers import casc

DATA = yaml_data.load(jcasc_conformance.DATA_PATH.read_text())
NODE_URL = "http://jenkins.example.org:30080/"

# The versions components/upstream/jcasc.yaml was read for. A bump in components/defaults.py fails
# test_data_is_read_for_the_pinned_versions: re-read the classes of that source, then update both.
PINNED = {
    "core": "2.568.2",
    "configuration-as-code": "2117.vc05a_0b_e6b_f4e",
    "matrix-auth": "3.3",
    "credentials": "1511.v2e3cb_0008ef0",
    "docker-plugin": "1327.v9524f1ee134e",
    "docker-commons": "477.v289085a_b_6896",
    "kubernetes": "4547.v52f3080db_8cd",
    "job-dsl": "3732.v9a_c49a_61a_313",
    "plain-credentials": "199.v9f8e1f741799",
    "ssh-credentials": "372.va_250881b_08cd",
    "oic-auth": "4.718.ve731df6ca_88a_",
    "ldap": "807.809.vd3a_4e5e4ec98",
    "github-oauth": "685.v53b_070455063",
    "github-branch-source": "1983.vfa_27ed961853",
}
# What was actually read where the pinned revision was in no store.
READ_INSTEAD = {
    "matrix-auth": "matrix-auth-3.2.8",
    "credentials": "d96751bcc06de7da229c321370456ea1cf7ca4ac",
    "docker-plugin": "1324.v2fb_b_df97fe1d",
    "docker-commons": "472.vee120e23d3a_c",
    "kubernetes": "a82d78a0087e9eaa10ec2339b48891549345c1a4",
    "job-dsl": "aac2bedf678c7a59de17693f4e50d5a5db7cde5f",
    "ssh-credentials": "7cfbb01c42ea635202144ef113f513389bac62f2",
    "oic-auth": "4.715.vf202e4229f61",
    "ldap": "807.v7d7de30930cf",
    "github-branch-source": "57edfa33796a5e85a9342bdf816ad2223f1b560b",
}


def template(name, connector, **extra):
    return {"name": name, "labels": [name], "connector": connector, **extra}


ALL_CONNECTORS = [template("attach", "attach"), template("ssh", "ssh"), template("inbound", "inbound")]

# Every option that changes JCasC, at least once.
VARIANTS = {
    "no-pools": {},
    "exposed": {"exposure": {"ingress": {"host": "ci.example.org", "tls": "existing-secret", "tlsSecretName": "ci-tls"}}},
    "admin-and-message": {"controller": {"adminUser": "root-admin", "systemMessage": "a message: with 'quotes'"}},
    "controller-socket": {"pools": [{"name": "onmaster", "type": "controller", "labels": ["a", "b"], "executors": 4}]},
    "controller-tcp": {"pools": [{"name": "onmaster", "type": "controller", "labels": ["a"],
                                  "docker": {"access": "tcp"}}]},
    "controller-no-docker": {"pools": [{"name": "onmaster", "type": "controller", "labels": ["a"],
                                        "docker": None}]},
    "docker-socket": {"pools": [{"name": "docker", "type": "docker-cloud", "inboundUrl": NODE_URL,
                                 "templates": ALL_CONNECTORS}]},
    "docker-tcp": {"pools": [{"name": "docker", "type": "docker-cloud", "containerCap": 3,
                              "docker": {"access": "tcp", "tcpPort": 2376}, "templates": [
                                  template("a", "attach", pullStrategy="PULL_ALWAYS", idleMinutes=1),
                                  template("s", "ssh", pullStrategy="PULL_NEVER", instanceCap=1000,
                                           image="example.org/ssh-agent:1.0"),
                                  template("l", "attach", pullStrategy="PULL_LATEST", idleMinutes=1440,
                                           memoryLimitMb=64, cpus="0.5")]}]},
    "dind-one": {"pools": [{"name": "dind", "type": "docker-cloud-dind", "templates": ALL_CONNECTORS}]},
    "dind-replicas": {"pools": [{"name": "dind", "type": "docker-cloud-dind", "daemon": {"replicas": 3},
                                 "containerCap": 1, "templates": ALL_CONNECTORS}]},
    "swarm-exclusive": {"pools": [{"name": "swarm", "type": "swarm", "labels": ["s"]}]},
    "swarm-normal": {"pools": [{"name": "swarm", "type": "swarm", "labels": ["s", "t"], "mode": "normal",
                                "replicas": 3, "executors": 1}]},
    "swarm-dind": {"pools": [{"name": "sd", "type": "swarm-dind", "labels": ["sd"]}]},
    "kubernetes": {"pools": [{"name": "k8s", "type": "kubernetes", "containerCap": 50, "templates": [
        {"name": "plain", "labels": ["k8s"]},
        {"name": "tools", "labels": ["build", "tools"], "instanceCap": 1, "idleMinutes": 30,
         "containers": [{"name": "buildkit", "image": "moby/buildkit:v0.32.2-rootless"}]}]}]},
    "everything": {"exposure": {"ingress": {"host": "ci.example.org", "tls": "disabled"}}, "pools": [
        {"name": "onmaster", "type": "controller", "labels": ["m"]},
        {"name": "docker", "type": "docker-cloud", "inboundUrl": NODE_URL, "templates": ALL_CONNECTORS},
        {"name": "dind", "type": "docker-cloud-dind", "daemon": {"replicas": 2}, "templates": ALL_CONNECTORS},
        {"name": "swarm", "type": "swarm", "labels": ["s"]},
        {"name": "sd", "type": "swarm-dind", "labels": ["sd"]},
        {"name": "k8s", "type": "kubernetes", "templates": [{"name": "default", "labels": ["k8s"]}]}]},
}


def conforming_document(config: dict) -> dict:
    synthesis = synth_config(config)
    assert synthesis.ok, synthesis.error
    document = casc(synthesis)
    assert jcasc_conformance.problems(document) == []
    return document


@pytest.fixture(scope="module")
def variant_documents() -> dict[str, dict]:
    """Each variant rendered once for the module; tests that change a document copy it first."""
    return {variant: conforming_document(minimal_config(**config)) for variant, config in VARIANTS.items()}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_generated_document_conforms(variant_documents, variant):
    document = variant_documents[variant]
    assert jcasc_conformance.problems(document) == []
    assert document["jenkins"]["crumbIssuer"] == "standard"


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_conform(stack_syntheses, stack):
    assert stack_syntheses[stack].ok, stack_syntheses[stack].error
    assert jcasc_conformance.problems(casc(stack_syntheses[stack])) == []


docker_template = st.builds(
    lambda index, connector, pull, idle, cap, memory, cpus: {
        "name": f"t{index}", "labels": [f"l{index}"], "connector": connector, "pullStrategy": pull,
        "idleMinutes": idle, "instanceCap": cap, "memoryLimitMb": memory, "cpus": cpus},
    index=st.integers(0, 99), connector=st.sampled_from(["attach", "ssh", "inbound"]),
    pull=st.sampled_from(["PULL_ALWAYS", "PULL_LATEST", "PULL_NEVER"]), idle=st.integers(1, 1440),
    cap=st.integers(1, 1000), memory=st.integers(64, 65536), cpus=st.sampled_from(["1", "0.25", "16"]),
)
# A DinD daemon's memory limit must hold its agents (containerCap x memoryLimitMb): generated DinD
# pools get the largest limit and leave containerCap to the program (as many as fit).
BIG_DAEMON = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Ti"}}
docker_pool = st.builds(
    lambda kind, templates, access, replicas, cap: {
        "name": kind.replace("-", ""), "type": kind, "templates": templates,
        **({"docker": {"access": access}, "inboundUrl": NODE_URL, "containerCap": cap} if kind == "docker-cloud"
           else {"daemon": {"replicas": replicas, "resources": BIG_DAEMON}})},
    kind=st.sampled_from(["docker-cloud", "docker-cloud-dind"]),
    templates=st.lists(docker_template, min_size=1, max_size=4, unique_by=lambda t: t["name"]),
    access=st.sampled_from(["socket", "tcp"]), replicas=st.integers(1, 3), cap=st.integers(1, 1000),
)
swarm_pool = st.builds(
    lambda kind, mode, executors: {"name": kind.replace("-", ""), "type": kind, "labels": ["s"],
                                   "mode": mode, "executors": executors},
    kind=st.sampled_from(["swarm", "swarm-dind"]), mode=st.sampled_from(["normal", "exclusive"]),
    executors=st.integers(1, 8),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(docker_pool, swarm_pool), min_size=1, max_size=3, unique_by=lambda p: p["name"]),
       st.booleans())
def test_generated_docker_and_swarm_pools_conform(pools, exposed):
    extra = ({"exposure": {"ingress": {"host": "ci.example.org", "tls": "existing-secret", "tlsSecretName": "ci-tls"}}}
             if exposed else {})
    conforming_document(minimal_config(pools=pools, **extra))


# ------------------------------------------------------------------ refusals through the real program

def refused(config: dict) -> str:
    synthesis = synth_config(config)
    assert synthesis.error is not None, "the program accepted a document JCasC would refuse"
    assert "\n" not in synthesis.error
    # The check runs before the controller registers anything.
    assert [r.name for r in synthesis.records if r.name in ("service-account", "jenkins-home", "casc")] == []
    return synthesis.error


def test_exclude_client_ip_from_crumb_put_back_is_refused(monkeypatch):
    original = jcasc.controller_document

    def with_old_crumb_issuer(**kwargs):
        document = original(**kwargs)
        document["jenkins"]["crumbIssuer"] = {"standard": {"excludeClientIPFromCrumb": True}}
        return document

    monkeypatch.setattr(jcasc, "controller_document", with_old_crumb_issuer)
    error = refused(minimal_config())
    assert error.startswith(
        "jenkins: generated JCasC would stop Jenkins at boot: jenkins.crumbIssuer.standard."
        "excludeClientIPFromCrumb: unknown attribute of hudson.security.csrf.DefaultCrumbIssuer ("), error
    assert "jenkins-2.568.2 core/src/main/java/hudson/security/csrf/DefaultCrumbIssuer.java:55" in error


def test_unknown_key_from_a_pool_builder_is_refused(monkeypatch):
    original = docker_cloud.template_jcasc

    def with_unknown_key(*args, **kwargs):
        return {**original(*args, **kwargs), "privileged": True}

    monkeypatch.setattr(docker_cloud, "template_jcasc", with_unknown_key)
    error = refused(minimal_config(pools=[VARIANTS["docker-socket"]["pools"][0]]))
    assert ("jenkins.clouds[0].docker.templates[0].privileged: unknown attribute of "
            "com.nirima.jenkins.plugins.docker.DockerTemplate (docker-plugin 1327.v9524f1ee134e, read at "
            "jenkinsci/docker-plugin 1324.v2fb_b_df97fe1d") in error
    assert "(and 2 more)" in error  # the same key on the other two templates


def test_wrong_type_from_a_pool_builder_is_refused(monkeypatch):
    original = kubernetes.cloud_jcasc

    def with_string_cap(*args, **kwargs):
        document = original(*args, **kwargs)
        document["jenkins"]["clouds"][0]["kubernetes"]["templates"][0]["instanceCap"] = "10"
        return document

    monkeypatch.setattr(kubernetes, "cloud_jcasc", with_string_cap)
    error = refused(minimal_config(pools=[VARIANTS["kubernetes"]["pools"][0]]))
    assert error.endswith("jenkins.clouds[0].kubernetes.templates[0].instanceCap: expected int, got str '10'")


# ------------------------------------------------------------------ the checker on hand-written documents

@pytest.fixture
def problems_after(variant_documents):
    """The checker's findings on a copy of the `everything` document after `change`."""
    def after(change) -> list[str]:
        document = copy.deepcopy(variant_documents["everything"])
        change(document)
        return jcasc_conformance.problems(document)
    return after


def kubernetes_template(document):
    return next(c["kubernetes"] for c in document["jenkins"]["clouds"] if "kubernetes" in c)["templates"][0]


def docker_template_of(document):
    return next(c["docker"] for c in document["jenkins"]["clouds"] if "docker" in c)["templates"][0]


def test_deprecated_attribute_is_refused(problems_after):
    # PodTemplate.setPrivileged is @Deprecated (kubernetes-plugin PodTemplate.java:534-536).
    found = problems_after(lambda d: kubernetes_template(d).update(privileged=True))
    assert found == ["jenkins.clouds[3].kubernetes.templates[0].privileged: deprecated attribute of "
                     "org.csanchez.jenkins.plugins.kubernetes.PodTemplate, refused by JCasC's default "
                     "(kubernetes 4547.v52f3080db_8cd, read at jenkinsci/kubernetes-plugin "
                     "a82d78a0087e9eaa10ec2339b48891549345c1a4 "
                     "src/main/java/org/csanchez/jenkins/plugins/kubernetes/PodTemplate.java:536)"]


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["jenkins"].update(numExecutors=True), "jenkins.numExecutors: expected int, got bool True"),
    (lambda d: d["jenkins"].update(disableRememberMe="true"), "jenkins.disableRememberMe: expected bool"),
    (lambda d: d["jenkins"].update(mode="exclusive"), "jenkins.mode: expected one of NORMAL, EXCLUSIVE"),
    (lambda d: d["jenkins"].update(slaveAgentPort="50000"), "jenkins.slaveAgentPort: expected int"),
    (lambda d: d["jenkins"].update(clouds={"kubernetes": {}}), "jenkins.clouds: expected a list"),
    (lambda d: d["jenkins"].update(crumbIssuer="strict"),
     "jenkins.crumbIssuer: unknown hudson.security.csrf.CrumbIssuer symbol 'strict' (known: standard)"),
    (lambda d: d["jenkins"].update(securityRealm={"local": {}, "ldap": {}}),
     "jenkins.securityRealm: a hudson.security.SecurityRealm is a symbol or a single-entry mapping"),
    (lambda d: docker_template_of(d).update(connector={"telnet": {}}),
     "jenkins.clouds[0].docker.templates[0].connector: unknown io.jenkins.docker.connector.DockerComputerConnector "
     "symbol 'telnet' (known: attach, jnlp, ssh)"),
    (lambda d: docker_template_of(d).update(pullStrategy="PULL_SOMETIMES"),
     "jenkins.clouds[0].docker.templates[0].pullStrategy: expected one of PULL_ALWAYS, PULL_LATEST, PULL_NEVER"),
    (lambda d: docker_template_of(d).update(retentionStrategy={"idleMinutes": "10"}),
     "jenkins.clouds[0].docker.templates[0].retentionStrategy.idleMinutes: expected int"),
    (lambda d: d["jenkins"]["authorizationStrategy"]["globalMatrix"]["entries"][0].update(
        group={"name": "g", "permissions": ["Overall/Read"]}),
     "jenkins.authorizationStrategy.globalMatrix.entries[0]: "
     "org.jenkinsci.plugins.matrixauth.integrations.casc.DefinitionEntry takes exactly one of user, group, "
     "userOrGroup, got user, group"),
    (lambda d: d["jenkins"]["authorizationStrategy"]["globalMatrix"]["entries"][0]["user"].update(
        permissions=["Overall/Everything"]),
     "jenkins.authorizationStrategy.globalMatrix.entries[0].user.permissions[0]: expected one of"),
    (lambda d: d["unclassified"].update(mailer={}), "unclassified.mailer: unknown attribute of (unclassified)"),
    (lambda d: d.update(tool={}), "tool: unknown JCasC root (known: jenkins, unclassified, credentials, jobs)"),
    (lambda d: d["credentials"]["system"]["domainCredentials"][0]["credentials"][0]["x509ClientCert"].update(
        scope="global"),
     "credentials.system.domainCredentials[0].credentials[0].x509ClientCert.scope: expected one of SYSTEM, "
     "GLOBAL, USER"),
])
def test_checker_refuses(problems_after, change, expected):
    found = problems_after(change)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_checker_accepts_what_jcasc_accepts(problems_after):
    # A symbol scalar, a one-key mapping with no attributes, symbols in another case, `key:` with no value.
    def change(document):
        document["jenkins"]["securityRealm"]["local"]["users"].append({"id": "x", "password": "${p}"})
        kubernetes_template(document)["yamlMergeStrategy"] = {"merge": None}
        docker_template_of(document)["connector"] = "ATTACH"
        document["jenkins"]["crumbIssuer"] = {"standard": {}}
        document["unclassified"]["location"] = None
    assert problems_after(change) == []


# ------------------------------------------------------------------ the data file itself

def test_data_is_read_for_the_pinned_versions():
    assert {name: str(source["pinned"]) for name, source in DATA["sources"].items()} == PINNED
    assert defaults.JENKINS_IMAGE == "jenkins/jenkins:2.568.2-jdk21"
    for plugin, version in PINNED.items():
        if plugin != "core":
            assert load_lock().version(plugin) == version, f"{plugin} was bumped in the plugin lock: re-read it for jcasc.yaml"


def test_data_says_what_was_read_instead_of_the_pinned_revision():
    for name, source in DATA["sources"].items():
        if name in READ_INSTEAD:
            assert source["read"] == READ_INSTEAD[name] and source["not_pinned_because"], name
        else:
            assert "not_pinned_because" not in source
            assert source["read"] in (source["pinned"], f"jenkins-{source['pinned']}"), name


def test_every_entry_cites_its_source():
    repos = {name: source["repo"] for name, source in DATA["sources"].items()}
    assert all(repo.startswith("jenkinsci/") for repo in repos.values())
    for rule in DATA["rules"]:
        assert rule["at"].startswith("plugin/src/main/java/io/jenkins/plugins/casc/"), rule
    for name, enum in DATA["enums"].items():
        assert enum["source"] in repos and ":" in enum["at"] and enum["values"], name
    for name, entry in DATA["classes"].items():
        assert entry["source"] in repos, name
        assert entry["path"].endswith(".java"), name
        if entry.get("symbols"):
            assert entry.get("extends") or name == "jenkins.model.JenkinsLocationConfiguration", name
            assert isinstance(entry.get("symbol_line"), int) or entry.get("symbol_derived"), name
        # A Configurable has one whole value instead of attributes.
        assert ("value" in entry) != ("attributes" in entry), name
        specs = {"(value)": entry["value"]} if "value" in entry else entry["attributes"]
        for attribute, spec in specs.items():
            where = f"{name}.{attribute}"
            assert spec["from"] in ("constructor", "setter", "field", "configurator"), where
            assert isinstance(spec["line"], int) and spec["line"] > 0, where
            assert spec.get("source", entry["source"]) in repos, where
            if spec["from"] == "constructor":
                assert isinstance(entry.get("constructor_line"), int), where


def test_the_old_crumb_issuer_attribute_is_recorded_as_removed():
    crumb = DATA["classes"]["hudson.security.csrf.DefaultCrumbIssuer"]
    assert crumb["attributes"] == {}
    assert "excludeClientIPFromCrumb" in crumb["not_attributes"]


def test_a_broken_data_file_fails_loudly(tmp_path: Path):
    broken = copy.deepcopy(DATA)
    broken["classes"]["jenkins.model.Jenkins"]["attributes"]["clouds"]["of"]["of"] = "hudson.slaves.NoSuchCloud"
    path = tmp_path / "jcasc.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(ValueError, match="no class with a symbol extends 'hudson.slaves.NoSuchCloud'"):
        jcasc_conformance.load(path)
