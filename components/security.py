"""Sign-in realm and authorization as plain JCasC data, and what the controller needs for them."""
from __future__ import annotations

from typing import Any, Optional

from . import jcasc
from .pools.base import ControllerNeeds, SecretFile
from .secret_values import SecretPart
from .security_config import AuthorizationConfig, GithubRealm, LdapRealm, OidcRealm, Principals, SecurityConfig

# Permission ids as matrix-auth resolves them: "<group title>/<permission name>" (matrix-auth
# PermissionFinder.java:44-75); titles and names from core jenkins-2.568.2 (components/upstream/jcasc.yaml
# enum `permission` cites each line).
ADMINISTER = ("Overall/Administer",)
DEVELOP = ("Overall/Read", "Job/Read", "Job/Build", "Job/Cancel", "View/Read")
VIEW = ("Overall/Read", "Job/Read", "View/Read")

PLUGINS = {"local": (), "oidc": ("oic-auth",), "ldap": ("ldap",), "github": ("github-oauth",)}
REALM_SECRET_NAME = "jenkins-security-realm"


def realm_file_name(part: str) -> str:
    return f"realm-{part}"


def realm_secret_file(part: SecretPart) -> SecretFile:
    if part.ref is not None:
        return SecretFile(part.ref.secret_name, part.ref.key, realm_file_name(part.name))
    return SecretFile(REALM_SECRET_NAME, part.name, realm_file_name(part.name))


def _set(target: dict, key: str, value: Optional[str]) -> None:
    if value is not None:
        target[key] = jcasc.literal(value)


def realm_document(security: SecurityConfig, *, admin_user: str, admin_password_ref: str) -> dict[str, Any]:
    """The securityRealm value: Jenkins' own user database with the generated admin, or a directory."""
    realm = security.realm
    if isinstance(realm, OidcRealm):
        server = {"wellKnownOpenIDConfigurationUrl": realm.well_known_url}
        _set(server, "scopesOverride", realm.scopes)
        oic = {"clientId": jcasc.literal(realm.client_id),
               "clientSecret": jcasc.secret_ref(realm_file_name("clientSecret")),
               "serverConfiguration": {"wellKnown": server}}
        _set(oic, "userNameField", realm.user_name_field)
        _set(oic, "groupsFieldName", realm.groups_field)
        _set(oic, "fullNameFieldName", realm.full_name_field)
        _set(oic, "emailFieldName", realm.email_field)
        return {"oic": oic}
    if isinstance(realm, LdapRealm):
        server = {"server": realm.server}
        for key, value in (("rootDN", realm.root_dn), ("userSearchBase", realm.user_search_base),
                           ("userSearch", realm.user_search), ("groupSearchBase", realm.group_search_base),
                           ("groupSearchFilter", realm.group_search_filter), ("managerDN", realm.manager_dn),
                           ("displayNameAttributeName", realm.display_name_attribute),
                           ("mailAddressAttributeName", realm.mail_address_attribute)):
            _set(server, key, value)
        if realm.manager_dn is not None:
            server["managerPasswordSecret"] = jcasc.secret_ref(realm_file_name("managerPassword"))
        return {"ldap": {"configurations": [server]}}
    if isinstance(realm, GithubRealm):
        # Every constructor parameter is given: a missing one reaches the plugin as null, and it
        # compares and splits these fields without a null check (GithubSecurityRealm.java:198,740-744).
        return {"github": {"githubWebUri": jcasc.literal(realm.github_web_uri),
                           "githubApiUri": jcasc.literal(realm.api_uri),
                           "clientID": jcasc.literal(realm.client_id),
                           "clientSecret": jcasc.secret_ref(realm_file_name("clientSecret")),
                           "oauthScopes": realm.oauth_scopes}}
    return {"local": {"allowsSignup": False, "users": [{"id": admin_user, "password": admin_password_ref}]}}


def _entries(principals: Principals, permissions: tuple[str, ...]) -> list[dict]:
    return ([{"user": {"name": jcasc.literal(name), "permissions": list(permissions)}} for name in principals.users]
            + [{"group": {"name": jcasc.literal(name), "permissions": list(permissions)}} for name in principals.groups])


def authorization_entries(security: SecurityConfig, *, admin_user: str) -> list[dict]:
    """globalMatrix entries: the generated admin (realm local only), then administrators, developers, viewers."""
    authorization: AuthorizationConfig = security.authorization
    entries = []
    if security.realm.type == "local":
        entries.append({"user": {"name": admin_user, "permissions": list(ADMINISTER)}})
    entries += _entries(authorization.administrators, ADMINISTER)
    entries += _entries(authorization.developers, DEVELOP)
    entries += _entries(authorization.viewers, VIEW)
    return entries


def controller_needs(security: SecurityConfig) -> ControllerNeeds:
    """The realm's plugin and the files its secrets are read from."""
    parts = [part for part in security.realm.secret_parts if part.given]
    return ControllerNeeds(plugins=PLUGINS[security.realm.type],
                           secret_files=tuple(realm_secret_file(part) for part in parts))
