"""Sign-in realm and authorization from jenkins:security, through the real program."""
from __future__ import annotations

import pytest

from components import jcasc_conformance
from tests.conftest import minimal_config, synth_config
from tests.helpers import K8S_POOL, SWARM_POOL, casc, controller_pod, plugins, schema_errors, secret_leaks, unmarked
from tools.harness import is_secret

SECURE = {"secure": "v1:ciphertext"}
WELL_KNOWN = "https://idp.example.com/realms/eng/.well-known/openid-configuration"
OIDC = {"type": "oidc", "wellKnownUrl": WELL_KNOWN, "clientId": "jenkins", "clientSecret": SECURE,
        "groupsField": "groups", "userNameField": "preferred_username"}
GROUPS = {"administrators": {"groups": ["platform"], "users": ["alice"]},
          "developers": {"groups": ["eng"]}, "viewers": {"groups": ["authenticated"]}}
CLIENT_SECRET = "offline-placeholder-for-jenkins:security.realm.clientSecret"
GITHUB = {"type": "github", "clientId": "Iv1.0a1b2c3d4e5f", "clientSecret": SECURE}
# github-oauth names an organization by its login and a team `org*team-slug`.
GITHUB_GROUPS = {"administrators": {"groups": ["acme*platform"], "users": ["octocat"]},
                 "developers": {"groups": ["acme"]}, "viewers": {"groups": ["authenticated"]}}


@pytest.fixture(scope="module")
def github():
    synthesis = synth_config(minimal_config(security={"realm": GITHUB, "authorization": GITHUB_GROUPS}, pools=[K8S_POOL]))
    assert synthesis.ok, synthesis.error
    return synthesis


def entries(document: dict) -> list[dict]:
    return document["jenkins"]["authorizationStrategy"]["globalMatrix"]["entries"]


@pytest.fixture(scope="module")
def oidc():
    synthesis = synth_config(minimal_config(security={"realm": OIDC, "authorization": GROUPS}, pools=[K8S_POOL]))
    assert synthesis.ok, synthesis.error
    return synthesis


def test_default_is_the_local_admin_alone():
    document = casc(synth_config(minimal_config()))
    assert document["jenkins"]["securityRealm"] == {"local": {
        "allowsSignup": False, "users": [{"id": "admin", "password": "${admin-password}"}]}}
    assert entries(document) == [{"user": {"name": "admin", "permissions": ["Overall/Administer"]}}]


def test_oidc_realm_with_group_authorization(oidc):
    document = casc(oidc)
    assert document["jenkins"]["securityRealm"] == {"oic": {
        "clientId": "jenkins",
        "clientSecret": "${realm-clientSecret}",
        "serverConfiguration": {"wellKnown": {"wellKnownOpenIDConfigurationUrl": WELL_KNOWN}},
        "userNameField": "preferred_username",
        "groupsFieldName": "groups",
    }}
    develop = ["Overall/Read", "Job/Read", "Job/Build", "Job/Cancel", "View/Read"]
    assert entries(document) == [
        {"user": {"name": "alice", "permissions": ["Overall/Administer"]}},
        {"group": {"name": "platform", "permissions": ["Overall/Administer"]}},
        {"group": {"name": "eng", "permissions": develop}},
        {"group": {"name": "authenticated", "permissions": ["Overall/Read", "Job/Read", "View/Read"]}},
    ]
    assert jcasc_conformance.problems(document) == []
    assert "oic-auth" in plugins(oidc)
    assert schema_errors(oidc, "1.33") == []


@pytest.mark.parametrize("realm", ["oidc", "github"])
def test_client_secret_only_in_the_realm_secret_marked(realm, request):
    synthesis = request.getfixturevalue(realm)
    holders = []
    for record in synthesis.records:
        assert unmarked(record.raw_inputs, [CLIENT_SECRET]) == [], record.urn
        if CLIENT_SECRET in str(record.inputs):
            holders.append(record)
    assert [(r.type, r.inputs["metadata"]["name"]) for r in holders] == [
        ("kubernetes:core/v1:Secret", "jenkins-security-realm")]
    assert is_secret(holders[0].raw_inputs["stringData"])
    volume = next(v for v in controller_pod(synthesis)["spec"]["volumes"] if v["name"] == "secrets")
    assert {"secret": {"name": "jenkins-security-realm", "items": [{"key": "clientSecret", "path": "realm-clientSecret"}]}} \
        in volume["projected"]["sources"]
    assert unmarked(synthesis.outputs, [CLIENT_SECRET]) == []
    assert secret_leaks(synthesis) == []


def test_github_realm_is_the_plugins_constructor_with_github_com_defaults(github):
    document = casc(github)
    assert document["jenkins"]["securityRealm"] == {"github": {
        "githubWebUri": "https://github.com",
        "githubApiUri": "https://api.github.com",
        "clientID": "Iv1.0a1b2c3d4e5f",
        "clientSecret": "${realm-clientSecret}",
        "oauthScopes": "read:org,user:email",
    }}
    assert entries(document) == [
        {"user": {"name": "octocat", "permissions": ["Overall/Administer"]}},
        {"group": {"name": "acme*platform", "permissions": ["Overall/Administer"]}},
        {"group": {"name": "acme", "permissions": ["Overall/Read", "Job/Read", "Job/Build", "Job/Cancel", "View/Read"]}},
        {"group": {"name": "authenticated", "permissions": ["Overall/Read", "Job/Read", "View/Read"]}},
    ]
    assert jcasc_conformance.problems(document) == []
    installed = plugins(github)
    # github-oauth 685.v53b_070455063 requires github-branch-source, github-api and matrix-project (its pom.xml)
    assert {"github-oauth", "github-branch-source", "github-api", "matrix-project"} <= installed
    assert "oic-auth" not in installed and "ldap" not in installed


def test_github_enterprise_derives_the_api_address_and_reads_the_secret_from_an_existing_secret():
    realm = {"type": "github", "clientId": "jenkins-ci", "githubWebUri": "https://ghe.example.com",
             "clientSecretFrom": {"secretName": "ghe-oauth", "key": "secret"}, "oauthScopes": "read:org,user:email,repo"}
    synthesis = synth_config(minimal_config(security={"realm": realm, "authorization": GITHUB_GROUPS}))
    assert synthesis.ok, synthesis.error
    github_realm = casc(synthesis)["jenkins"]["securityRealm"]["github"]
    assert github_realm["githubApiUri"] == "https://ghe.example.com/api/v3"
    assert github_realm["oauthScopes"] == "read:org,user:email,repo"
    assert [r for r in synthesis.records if r.type == "jenkins:index:SignIn"] == []
    volume = next(v for v in controller_pod(synthesis)["spec"]["volumes"] if v["name"] == "secrets")
    assert {"secret": {"name": "ghe-oauth", "items": [{"key": "secret", "path": "realm-clientSecret"}]}} \
        in volume["projected"]["sources"]


def test_client_secret_from_an_existing_secret_makes_no_secret():
    realm = {**{k: v for k, v in OIDC.items() if k != "clientSecret"},
             "clientSecretFrom": {"secretName": "sso", "key": "client-secret"}}
    synthesis = synth_config(minimal_config(security={"realm": realm, "authorization": GROUPS}))
    assert synthesis.ok, synthesis.error
    assert [r for r in synthesis.records if r.type == "jenkins:index:SignIn"] == []
    volume = next(v for v in controller_pod(synthesis)["spec"]["volumes"] if v["name"] == "secrets")
    assert {"secret": {"name": "sso", "items": [{"key": "client-secret", "path": "realm-clientSecret"}]}} \
        in volume["projected"]["sources"]


def test_ldap_realm_with_bind_password_from_a_secret():
    realm = {"type": "ldap", "server": "ldaps://ldap.example.com:636", "rootDn": "dc=example,dc=com",
             "userSearchBase": "ou=people", "groupSearchBase": "ou=groups", "managerDn": "cn=jenkins,dc=example,dc=com",
             "managerPasswordFrom": {"secretName": "ldap-bind", "key": "password"}}
    synthesis = synth_config(minimal_config(security={"realm": realm, "authorization": GROUPS}))
    assert synthesis.ok, synthesis.error
    document = casc(synthesis)
    assert document["jenkins"]["securityRealm"] == {"ldap": {"configurations": [{
        "server": "ldaps://ldap.example.com:636", "rootDN": "dc=example,dc=com", "userSearchBase": "ou=people",
        "groupSearchBase": "ou=groups", "managerDN": "cn=jenkins,dc=example,dc=com",
        "managerPasswordSecret": "${realm-managerPassword}"}]}}
    assert jcasc_conformance.problems(document) == []
    assert "ldap" in plugins(synthesis)


def test_local_realm_keeps_the_admin_and_adds_groups():
    synthesis = synth_config(minimal_config(security={"authorization": {"developers": {"users": ["bob"]}}}))
    assert entries(casc(synthesis)) == [
        {"user": {"name": "admin", "permissions": ["Overall/Administer"]}},
        {"user": {"name": "bob", "permissions": ["Overall/Read", "Job/Read", "Job/Build", "Job/Cancel", "View/Read"]}},
    ]
    assert "oic-auth" not in plugins(synthesis) and "ldap" not in plugins(synthesis)


def test_no_administrator_under_another_realm_is_refused():
    synthesis = synth_config(minimal_config(security={"realm": OIDC, "authorization": {"developers": {"groups": ["eng"]}}}))
    assert synthesis.error == (
        "jenkins:security: no administrator: under realm oidc the local admin user does not exist, so nobody could "
        "manage Jenkins; list at least one user or group in authorization.administrators")


@pytest.mark.parametrize("realm", [OIDC, GITHUB])
def test_a_plain_text_client_secret_is_refused(realm):
    realm = {**realm, "clientSecret": "s3cr3t-in-the-file"}
    error = synth_config(minimal_config(security={"realm": realm, "authorization": GROUPS})).error
    assert error == (
        "jenkins:security.realm.clientSecret: a secret in plain text in the stack file; set it with "
        "`pulumi config set --secret --path 'jenkins:security.realm.clientSecret' <value>`, "
        "or point clientSecretFrom at an existing Kubernetes Secret")


@pytest.mark.parametrize("pool_type, realm", [("swarm", OIDC), ("swarm-dind", OIDC), ("swarm", GITHUB)])
def test_swarm_under_another_realm_is_refused_naming_the_pool(pool_type, realm):
    pool = {**SWARM_POOL, "type": pool_type}
    error = synth_config(minimal_config(pools=[K8S_POOL, pool], security={"realm": realm, "authorization": GROUPS})).error
    assert error == (
        f"jenkins:pools[1]: a {pool_type} pool signs in as a Jenkins user of the local realm, which realm {realm['type']} "
        f"replaces, so its agents could not connect; use a kubernetes pool (its agents need no Jenkins user) or "
        f"keep realm local")


def test_swarm_under_the_local_realm_keeps_its_user_beside_the_groups():
    synthesis = synth_config(minimal_config(pools=[SWARM_POOL], security={"authorization": GROUPS}))
    assert synthesis.ok, synthesis.error
    document = casc(synthesis)
    assert [u["id"] for u in document["jenkins"]["securityRealm"]["local"]["users"]] == ["admin", "swarm-swarm"]
    names = [next(iter(e.values()))["name"] for e in entries(document)]
    assert names[:1] == ["admin"] and "swarm-swarm" in names and "platform" in names
    assert jcasc_conformance.problems(document) == []


@pytest.mark.parametrize("security, message", [
    ({"realm": {"type": "saml"}},
     "jenkins:security.realm.type: 'saml' is not a realm type (one of: local, oidc, ldap, github)"),
    ({"realm": {"type": "github", "clientId": "x"}, "authorization": GITHUB_GROUPS},
     "jenkins:security.realm: clientSecret or clientSecretFrom is required"),
    ({"realm": {**GITHUB, "githubWebUri": "https://ghe.example.com/"}, "authorization": GITHUB_GROUPS},
     "jenkins:security.realm.githubWebUri: 'https://ghe.example.com/' is not allowed "
     "(must match ^https://[^\\s/]+(/\\S*[^\\s/])?$)"),
    ({"realm": {**GITHUB, "oauthScopes": "read:org user:email"}, "authorization": GITHUB_GROUPS},
     "jenkins:security.realm.oauthScopes: 'read:org user:email' is not allowed "
     "(must match ^[a-z][a-z_:]*(,[a-z][a-z_:]*)*$)"),
    ({"realm": {**GITHUB, "oauthScopes": "user:email"}, "authorization": GITHUB_GROUPS},
     "jenkins:security: realm.oauthScopes 'user:email' lets github-oauth read no organization or team, so groups "
     "such as 'acme' would match nobody; add one of read:org, admin:org, user, repo"),
    ({"realm": {**OIDC, "wellKnownUrl": "idp.example.com"}},
     "jenkins:security.realm.wellKnownUrl: 'idp.example.com' is not allowed (must match ^https?://\\S+$)"),
    ({"realm": {"type": "ldap", "server": "ldap://x", "managerDn": "cn=x"}, "authorization": GROUPS},
     "jenkins:security.realm: managerPassword or managerPasswordFrom is required"),
    ({"authorization": {"owners": {}}},
     "jenkins:security.authorization.owners: unknown key (allowed: administrators, developers, viewers)"),
])
def test_bad_security_config_is_one_line_naming_the_key(security, message):
    assert synth_config(minimal_config(security=security)).error == message


def test_every_credential_and_security_key_is_described():
    from components import credential_config, secret_values, security_config

    models = [*credential_config.CREDENTIAL_TYPES, secret_values.SecretKeyRef, security_config.LocalRealm,
              security_config.OidcRealm, security_config.LdapRealm, security_config.GithubRealm, security_config.Principals,
              security_config.AuthorizationConfig, security_config.SecurityConfig]
    undescribed = [f"{model.__name__}.{name}" for model in models
                   for name, field in model.model_fields.items() if not field.description]
    assert undescribed == []


def test_github_without_org_scopes_still_takes_users_and_the_authenticated_group():
    from components.config import parse_stack_config

    security = {"realm": {**GITHUB, "clientSecretFrom": {"secretName": "gh", "key": "secret"}, "oauthScopes": "user:email"},
                "authorization": {"administrators": {"users": ["octocat"]}, "viewers": {"groups": ["authenticated"]}}}
    del security["realm"]["clientSecret"]
    config = parse_stack_config({"environment": "test", "namespace": "jenkins-test", "security": security})
    assert config.security.realm.oauth_scopes == "user:email"
