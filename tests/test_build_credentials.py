"""Build credentials from the stack config: each type from secure config and from an existing Secret,
through the real program; values only in Secrets, secret-marked; plain text refused."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from components import jcasc_conformance
from tests.conftest import minimal_config, synth_config
from tests.helpers import K8S_POOL, casc, controller_pod, plugins, schema_errors, secret_leaks, unmarked
from tests.test_config_errors import load_config_as_under_pulumi_up
from tools import check
from tools.harness import ROOT, config_as_cli_passes_it, is_secret, stack_file_config, synthesize

SECURE = {"secure": "v1:ciphertext-only-the-stack-key-can-read"}
FROM_SECURE = [
    {"id": "git-login", "type": "usernamePassword", "description": "Git bot", "username": "bot", "password": SECURE},
    {"id": "registry-token", "type": "secretText", "description": "Registry", "secret": SECURE},
    {"id": "deploy-key", "type": "sshPrivateKey", "username": "git", "privateKey": SECURE, "passphrase": SECURE},
    {"id": "settings", "type": "file", "fileName": "settings.xml", "content": SECURE},
    {"id": "gh-app", "type": "githubApp", "description": "CI app", "appId": "123456", "privateKey": SECURE,
     "owner": "acme", "repositories": ["app", "lib"]},
]
FROM_SECRETS = [
    {"id": "git-login-2", "type": "usernamePassword", "username": "bot",
     "passwordFrom": {"secretName": "team-git", "key": "password"}},
    {"id": "registry-token-2", "type": "secretText", "secretFrom": {"secretName": "team-tokens", "key": "registry"}},
    {"id": "deploy-key-2", "type": "sshPrivateKey", "username": "git",
     "privateKeyFrom": {"secretName": "team-ssh", "key": "id_ed25519"}},
    {"id": "kubeconfig", "type": "file", "fileName": "kubeconfig",
     "contentFrom": {"secretName": "team-files", "key": "kubeconfig"}},
    {"id": "gh-app-2", "type": "githubApp", "appId": "654321", "apiUri": "https://ghe.example.com/api/v3",
     "privateKeyFrom": {"secretName": "team-github-app", "key": "private-key.pem"}},
]
PLACEHOLDERS = [
    "offline-placeholder-for-jenkins:credentials[0].password",
    "offline-placeholder-for-jenkins:credentials[1].secret",
    "offline-placeholder-for-jenkins:credentials[2].privateKey",
    "offline-placeholder-for-jenkins:credentials[2].passphrase",
    "offline-placeholder-for-jenkins:credentials[3].content",
    "offline-placeholder-for-jenkins:credentials[4].privateKey",
]


@pytest.fixture(scope="module")
def both():
    synthesis = synth_config(minimal_config(credentials=FROM_SECURE + FROM_SECRETS, pools=[K8S_POOL]))
    assert synthesis.ok, synthesis.error
    return synthesis


def credentials_by_id(document: dict) -> dict[str, tuple[str, dict]]:
    out = {}
    for domain in document["credentials"]["system"]["domainCredentials"]:
        assert "domain" not in domain  # the global domain
        for entry in domain["credentials"]:
            (symbol, attributes), = entry.items()
            out[attributes["id"]] = (symbol, attributes)
    return out


def test_each_type_from_secure_config_is_jcasc_reading_mounted_files(both):
    found = credentials_by_id(casc(both))
    assert found["git-login"] == ("usernamePassword", {
        "scope": "GLOBAL", "id": "git-login", "description": "Git bot", "username": "bot",
        "password": "${credential-git-login-password}"})
    assert found["registry-token"] == ("string", {
        "scope": "GLOBAL", "id": "registry-token", "description": "Registry",
        "secret": "${credential-registry-token-secret}"})
    assert found["deploy-key"] == ("basicSSHUserPrivateKey", {
        "scope": "GLOBAL", "id": "deploy-key", "description": "", "username": "git",
        "privateKeySource": {"directEntry": {
            "privateKey": "${readFile:/run/secrets/jenkins/credential-deploy-key-privateKey}"}},
        "passphrase": "${credential-deploy-key-passphrase}"})
    assert found["settings"] == ("file", {
        "scope": "GLOBAL", "id": "settings", "description": "", "fileName": "settings.xml",
        "secretBytes": "${readFileBase64:/run/secrets/jenkins/credential-settings-content}"})
    # github-branch-source GitHubAppCredentials: symbol gitHubApp, attribute appID, the owner as a
    # specificRepositories access strategy
    assert found["gh-app"] == ("gitHubApp", {
        "scope": "GLOBAL", "id": "gh-app", "description": "CI app", "appID": "123456",
        "privateKey": "${readFile:/run/secrets/jenkins/credential-gh-app-privateKey}",
        "repositoryAccessStrategy": {"specificRepositories": {"owner": "acme", "repositories": ["app", "lib"]}}})


def test_each_type_from_an_existing_secret_mounts_that_secret_and_creates_none(both):
    found = credentials_by_id(casc(both))
    assert "passphrase" not in found["deploy-key-2"][1]
    assert found["gh-app-2"] == ("gitHubApp", {
        "scope": "GLOBAL", "id": "gh-app-2", "description": "", "appID": "654321",
        "privateKey": "${readFile:/run/secrets/jenkins/credential-gh-app-2-privateKey}",
        "apiUri": "https://ghe.example.com/api/v3"})
    secrets = next(v for v in controller_pod(both)["spec"]["volumes"] if v["name"] == "secrets")
    sources = {s["secret"]["name"]: s["secret"]["items"] for s in secrets["projected"]["sources"]}
    assert sources["team-git"] == [{"key": "password", "path": "credential-git-login-2-password"}]
    assert sources["team-tokens"] == [{"key": "registry", "path": "credential-registry-token-2-secret"}]
    assert sources["team-ssh"] == [{"key": "id_ed25519", "path": "credential-deploy-key-2-privateKey"}]
    assert sources["team-files"] == [{"key": "kubeconfig", "path": "credential-kubeconfig-content"}]
    assert sources["team-github-app"] == [{"key": "private-key.pem", "path": "credential-gh-app-2-privateKey"}]
    assert sources["jenkins-credential-deploy-key"] == [
        {"key": "privateKey", "path": "credential-deploy-key-privateKey"},
        {"key": "passphrase", "path": "credential-deploy-key-passphrase"}]
    made = sorted(r.inputs["metadata"]["name"] for r in both.records
                  if r.type == "kubernetes:core/v1:Secret" and "BuildCredential" in r.urn)
    assert made == ["jenkins-credential-deploy-key", "jenkins-credential-gh-app", "jenkins-credential-git-login",
                    "jenkins-credential-registry-token", "jenkins-credential-settings"]


def test_one_component_per_credential(both):
    components = [r for r in both.records if r.type == "jenkins:index:BuildCredential"]
    assert sorted(r.name for r in components) == sorted(f"credential-{c['id']}" for c in FROM_SECURE + FROM_SECRETS)
    assert len({r.urn for r in both.records}) == len(both.records)


def test_credential_jcasc_passes_conformance_and_plugins_are_installed(both):
    assert jcasc_conformance.problems(casc(both)) == []
    assert {"credentials", "plain-credentials", "ssh-credentials", "github-branch-source", "github-api",
            "jjwt-api", "github"} <= plugins(both)
    assert schema_errors(both, "1.33") == []


def test_secret_values_appear_only_secret_marked_in_secrets(both):
    holders = set()
    for record in both.records:
        assert unmarked(record.raw_inputs, PLACEHOLDERS) == [], record.urn
        if any(p in yaml.safe_dump(record.inputs) for p in PLACEHOLDERS):
            holders.add((record.type, record.inputs["metadata"]["name"]))
    assert holders == {("kubernetes:core/v1:Secret", name) for name in (
        "jenkins-credential-git-login", "jenkins-credential-registry-token",
        "jenkins-credential-deploy-key", "jenkins-credential-settings", "jenkins-credential-gh-app")}
    for record in both.records:
        if ("kubernetes:core/v1:Secret", record.inputs.get("metadata", {}).get("name")) in holders:
            assert is_secret(record.raw_inputs["stringData"])
    assert unmarked(both.outputs, PLACEHOLDERS) == []
    assert secret_leaks(both) == []


def test_dind_credential_and_build_credentials_share_the_store():
    synthesis = synth_config(minimal_config(credentials=FROM_SECURE[:1], pools=[
        {"name": "dind", "type": "docker-cloud-dind", "templates": [{"name": "t", "labels": ["dind"], "connector": "inbound"}]}]))
    assert synthesis.ok, synthesis.error
    symbols = [symbol for symbol, _ in credentials_by_id(casc(synthesis)).values()]
    assert sorted(symbols) == ["usernamePassword", "x509ClientCert"]
    assert jcasc_conformance.problems(casc(synthesis)) == []
    assert "github-branch-source" not in plugins(synthesis)  # only a githubApp credential (or realm github) asks for it


def test_text_the_user_wrote_is_not_resolved_by_jcasc():
    credential = {**FROM_SECRETS[0], "description": "uses ${HOME}", "username": "${USER}"}
    synthesis = synth_config(minimal_config(credentials=[credential]))
    _, attributes = credentials_by_id(casc(synthesis))["git-login-2"]
    assert attributes["description"] == "uses ^${HOME}"
    assert attributes["username"] == "^${USER}"


@pytest.mark.parametrize("credential, part", [
    ({"id": "a", "type": "usernamePassword", "username": "u", "password": "hunter2-in-git"}, "password"),
    ({"id": "a", "type": "secretText", "secret": "hunter2-in-git"}, "secret"),
    ({"id": "a", "type": "sshPrivateKey", "username": "u", "privateKeyFrom": {"secretName": "s", "key": "k"},
      "passphrase": "hunter2-in-git"}, "passphrase"),
    ({"id": "a", "type": "file", "fileName": "f", "content": "hunter2-in-git"}, "content"),
    ({"id": "a", "type": "githubApp", "appId": "1", "privateKey": "hunter2-in-git"}, "privateKey"),
])
def test_a_plain_text_secret_is_refused_with_the_command_that_sets_it(credential, part):
    synthesis = synth_config(minimal_config(credentials=[credential]))
    assert synthesis.error == (
        f"jenkins:credentials[0].{part}: a secret in plain text in the stack file; set it with "
        f"`pulumi config set --secret --path 'jenkins:credentials[0].{part}' <value>`, "
        f"or point {part}From at an existing Kubernetes Secret")
    assert "hunter2" not in synthesis.error
    assert synthesis.records == [] or all(r.type == "pulumi:pulumi:Stack" for r in synthesis.records)


@pytest.mark.parametrize("credential, message", [
    ({"id": "a", "type": "secretText"}, "jenkins:credentials[0]: secret or secretFrom is required"),
    ({"id": "a", "type": "secretText", "secret": SECURE, "secretFrom": {"secretName": "s", "key": "k"}},
     "jenkins:credentials[0]: set either secret or secretFrom, not both"),
    ({"id": "A_b", "type": "secretText", "secretFrom": {"secretName": "s", "key": "k"}},
     "jenkins:credentials[0].id: 'A_b' is not allowed (must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)"),
    ({"id": "a", "type": "gitlabToken"},
     "jenkins:credentials[0].type: 'gitlabToken' is not a credential type (one of: usernamePassword, secretText, "
     "sshPrivateKey, file, githubApp)"),
    ({"id": "a", "type": "githubApp", "appId": "12345"},
     "jenkins:credentials[0]: privateKey or privateKeyFrom is required"),
    ({"id": "a", "type": "githubApp", "appId": "my-app", "privateKey": SECURE},
     "jenkins:credentials[0].appId: 'my-app' is not allowed (must match ^[1-9][0-9]*$)"),
    ({"id": "a", "type": "githubApp", "appId": "1", "privateKey": SECURE, "repositories": ["app"]},
     "jenkins:credentials[0]: repositories is set but owner is not; name the owner the repositories belong to"),
    ({"id": "a", "type": "githubApp", "appId": "1", "privateKey": SECURE, "apiUri": "http://ghe.example.com/api/v3"},
     "jenkins:credentials[0].apiUri: 'http://ghe.example.com/api/v3' is not allowed "
     "(must match ^https://[^\\s/]+(/\\S*[^\\s/])?$)"),
    ({"id": "a", "type": "githubApp", "appId": "1", "privateKey": SECURE, "appID": "1"},
     "jenkins:credentials[0].appID: unknown key (allowed: apiUri, appId, description, id, owner, privateKey, "
     "privateKeyFrom, repositories, type)"),
])
def test_bad_credentials_are_one_line_naming_the_key(credential, message):
    assert synth_config(minimal_config(credentials=[credential])).error == message


def test_an_id_used_twice_is_refused():
    twice = [FROM_SECRETS[1], {**FROM_SECRETS[0], "id": "registry-token-2"}]
    assert synth_config(minimal_config(credentials=twice)).error == (
        "jenkins:credentials: credential id 'registry-token-2' is used twice; ids must be unique")


def test_secure_values_in_a_stack_file_render_and_pass_tools_check(tmp_path, capsys, monkeypatch):
    """A stack file as `pulumi config set --secret --path` leaves it (each credential type from secure
    config and from a Secret, an oidc realm with group rules, a JCasC fragment and a seed job); the
    real check, policy pack included."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "stacks", project / "stacks")
    shutil.copy2(ROOT / "__main__.py", project / "__main__.py")
    shutil.copy2(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    security = {"realm": {"type": "oidc", "wellKnownUrl": "https://idp.example.com/.well-known/openid-configuration",
                          "clientId": "jenkins", "clientSecret": SECURE, "groupsField": "groups"},
                "authorization": {"administrators": {"groups": ["platform"]}, "developers": {"groups": ["eng"]},
                                  "viewers": {"groups": ["authenticated"]}}}
    fragment = {"contact": {"config": {"unclassified": {"location": {"adminAddress": "ci-team@example.org"}}}}}
    job = {"name": "app", "repository": "https://github.com/acme/app.git", "credentialsId": "gh-app"}
    stack = {"config": {"jenkins:environment": "creds", "jenkins:namespace": "jenkins-creds",
                        "jenkins:pools": [K8S_POOL], "jenkins:credentials": FROM_SECURE + FROM_SECRETS,
                        "jenkins:security": security, "jenkins:jcasc": fragment, "jenkins:jobs": [job]}}
    path = project / "stacks" / "Pulumi.creds.yaml"
    path.write_text(yaml.safe_dump(stack, sort_keys=False))

    values, secret_keys = config_as_cli_passes_it(stack_file_config(path))
    assert secret_keys == ["jenkins:credentials", "jenkins:security"]
    synthesis = synthesize("creds", project_dir=project, config=values, secret_keys=secret_keys)
    assert synthesis.ok, synthesis.error
    document = casc(synthesis)
    assert jcasc_conformance.problems(document) == []
    assert list(document["jenkins"]["securityRealm"]) == ["oic"]
    assert document["unclassified"]["location"]["adminAddress"] == "ci-team@example.org"
    assert "multibranchPipelineJob('app')" in document["jobs"][0]["script"]
    assert len(credentials_by_id(document)) == len(FROM_SECURE + FROM_SECRETS)

    monkeypatch.chdir(ROOT)
    for mode in ([], ["--preview"]):
        code = check.main([*mode, "--policy-config", "policy/config/restricted.json", "creds"], project_dir=project)
        printed = capsys.readouterr()
        assert code == 0, printed.out + printed.err
        assert printed.out.splitlines()[-1].endswith(": ok"), printed.out


def test_credentials_and_oidc_render_in_a_preview_of_a_new_stack():
    """`pulumi preview` runs the program with unknown provider values: the refusals and the render
    do not depend on them."""
    realm = {"type": "oidc", "wellKnownUrl": "https://idp.example.com/.well-known/openid-configuration",
             "clientId": "jenkins", "clientSecret": SECURE}
    config = minimal_config(credentials=FROM_SECURE + FROM_SECRETS, pools=[K8S_POOL],
                            security={"realm": realm, "authorization": {"administrators": {"groups": ["platform"]}}})
    values, secret_keys = config_as_cli_passes_it(config)
    assert sorted(secret_keys) == ["jenkins:credentials", "jenkins:security"]
    synthesis = synthesize("test", config=values, secret_keys=secret_keys, preview=True)
    assert synthesis.ok, synthesis.error
    assert jcasc_conformance.problems(casc(synthesis)) == []
    plain = minimal_config(pools=[K8S_POOL, {"name": "swarm", "type": "swarm", "labels": ["s"]}],
                           security={"realm": {**realm, "clientSecret": "plain"}})
    values, secret_keys = config_as_cli_passes_it(plain)
    error = synthesize("test", config=values, secret_keys=secret_keys, preview=True).error
    assert error.startswith("jenkins:security: no administrator") and "\n" not in error


@pytest.mark.parametrize("secret_keys, accepted", [(["jenkins:credentials"], True), (None, False), ([], False)])
def test_under_pulumi_up_the_engines_secret_key_list_decides(monkeypatch, capsys, secret_keys, accepted):
    """`pulumi up` hands config in PULUMI_CONFIG and the keys holding a secret in
    PULUMI_CONFIG_SECRET_KEYS (pulumi-language-python main.go:1073-1074), not through set_all_config."""
    credentials = [{"id": "git", "type": "secretText", "secret": "decrypted-by-the-engine"}]
    result = load_config_as_under_pulumi_up(
        monkeypatch, {"jenkins:environment": "t", "jenkins:namespace": "t",
                      "jenkins:credentials": json.dumps(credentials)}, secret_keys)
    expected = "git" if accepted else (
        "jenkins:credentials[0].secret: a secret in plain text in the stack file; set it with "
        "`pulumi config set --secret --path 'jenkins:credentials[0].secret' <value>`, "
        "or point secretFrom at an existing Kubernetes Secret")
    assert result == expected
    printed = capsys.readouterr()
    assert "decrypted-by-the-engine" not in result + printed.out + printed.err


def test_an_id_a_dind_pool_generates_is_refused():
    pool = {"name": "dind", "type": "docker-cloud-dind", "templates": [{"name": "t", "labels": ["d"], "connector": "inbound"}]}
    clash = {**FROM_SECRETS[1], "id": "dind-docker-client"}
    assert synth_config(minimal_config(pools=[pool], credentials=[clash])).error == (
        "jenkins:credentials[0].id: 'dind-docker-client' is the id of the TLS credential pool dind generates; "
        "choose another id")
