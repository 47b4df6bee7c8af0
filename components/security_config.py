"""The `jenkins:security` key: who signs in (realm) and who may do what (authorization)."""
from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from pydantic import Field, model_validator

from .config_types import Model
from .secret_values import SecretKeyRef, SecretPart, SecretText, choice_problem

Principal = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\s,][^,]*$")]
HttpsUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$")]
LdapUrl = Annotated[str, Field(max_length=2000, pattern=r"^ldaps?://\S+$")]
Attribute = Annotated[str, Field(min_length=1, max_length=200)]
# github-oauth appends paths to these URLs (`<web>/login/oauth/authorize`, GithubSecurityRealm.java:368),
# so no trailing slash; https only, as the client secret travels in the token request (:457-459).
GithubUrl = Annotated[str, Field(max_length=2000, pattern=r"^https://[^\s/]+(/\S*[^\s/])?$")]
# The plugin splits the scopes on commas (GithubSecurityRealm.java:198).
GithubScopes = Annotated[str, Field(max_length=500, pattern=r"^[a-z][a-z_:]*(,[a-z][a-z_:]*)*$")]


class LocalRealm(Model):
    type: Literal["local"] = Field("local", description="Jenkins' own user database with the generated admin.")

    @property
    def secret_parts(self) -> tuple[SecretPart, ...]:
        return ()


class _OAuthClientRealm(Model):
    """A realm that signs in as an OAuth client: its fields client_secret and client_secret_from
    hold the one required secret, clientSecret."""

    @property
    def secret_parts(self) -> tuple[SecretPart, ...]:
        return (SecretPart("clientSecret", self.client_secret, self.client_secret_from),)

    @model_validator(mode="after")
    def _secret(self):
        problem = choice_problem(self.client_secret, self.client_secret_from, "clientSecret", True)
        if problem:
            raise ValueError(problem)
        return self


class OidcRealm(_OAuthClientRealm):
    type: Literal["oidc"] = Field(description="OpenID Connect (oic-auth plugin).")
    well_known_url: HttpsUrl = Field(
        description="The provider's discovery document, e.g. https://idp.example.com/.well-known/openid-configuration.")
    client_id: Attribute = Field(description="Client id registered at the provider for this Jenkins.")
    client_secret: Optional[SecretText] = Field(None, repr=False, description="Client secret, as secure config.")
    client_secret_from: Optional[SecretKeyRef] = Field(None, description="Client secret from an existing Secret's key.")
    scopes: Optional[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        None, description="Space-separated scopes to request instead of the discovery document's (e.g. 'openid email groups').")
    user_name_field: Optional[Attribute] = Field(None, description="Claim holding the Jenkins user id (plugin default: sub).")
    groups_field: Optional[Attribute] = Field(None, description="Claim holding the user's groups; needed for group rules.")
    full_name_field: Optional[Attribute] = Field(None, description="Claim holding the display name.")
    email_field: Optional[Attribute] = Field(None, description="Claim holding the e-mail address.")


class LdapRealm(Model):
    type: Literal["ldap"] = Field(description="LDAP directory (ldap plugin).")
    server: LdapUrl = Field(description="Server URL, e.g. ldaps://ldap.example.com:636.")
    root_dn: Optional[Attribute] = Field(None, description="Root DN; inferred from the server when left out.")
    user_search_base: Optional[str] = Field(None, description="Where users are searched, relative to the root DN.")
    user_search: Optional[Attribute] = Field(None, description="User search filter (plugin default: uid={0}).")
    group_search_base: Optional[str] = Field(None, description="Where groups are searched, relative to the root DN.")
    group_search_filter: Optional[Attribute] = Field(None, description="Group search filter.")
    manager_dn: Optional[Attribute] = Field(None, description="Bind DN; anonymous bind when left out.")
    manager_password: Optional[SecretText] = Field(None, repr=False, description="Bind password, as secure config.")
    manager_password_from: Optional[SecretKeyRef] = Field(None, description="Bind password from an existing Secret's key.")
    display_name_attribute: Optional[Attribute] = Field(None, description="Attribute holding the display name.")
    mail_address_attribute: Optional[Attribute] = Field(None, description="Attribute holding the e-mail address.")

    @property
    def secret_parts(self) -> tuple[SecretPart, ...]:
        return (SecretPart("managerPassword", self.manager_password, self.manager_password_from),)

    @model_validator(mode="after")
    def _bind(self):
        problem = choice_problem(self.manager_password, self.manager_password_from, "managerPassword",
                                 self.manager_dn is not None)
        if problem:
            raise ValueError(problem)
        if self.manager_dn is None and (self.manager_password or self.manager_password_from):
            raise ValueError("managerPassword is set but managerDn is not")
        return self


# Facts below: jenkinsci/github-oauth-plugin 685.v53b_070455063 src/main/java/org/jenkinsci/plugins/.
GITHUB_WEB_URI = "https://github.com"  # GithubSecurityRealm.java:108
GITHUB_API_URI = "https://api.github.com"  # :109
GITHUB_ENTERPRISE_API_SUFFIX = "/api/v3"  # :110, the plugin's own web-to-API rule (:153-158)
# Any one of these lets the plugin read the user's organizations and teams, the groups that
# authorization rules name (GithubAuthenticationToken.java:221).
GITHUB_GROUP_SCOPES = ("read:org", "admin:org", "user", "repo")


class GithubRealm(_OAuthClientRealm):
    type: Literal["github"] = Field(description="GitHub or GitHub Enterprise Server OAuth app (github-oauth plugin).")
    client_id: Attribute = Field(description="Client ID of the OAuth app registered for this Jenkins.")
    client_secret: Optional[SecretText] = Field(None, repr=False, description="Client secret of the OAuth app, as secure config.")
    client_secret_from: Optional[SecretKeyRef] = Field(None, description="Client secret from an existing Secret's key.")
    github_web_uri: GithubUrl = Field(
        GITHUB_WEB_URI, description="Web address of GitHub (or of a GitHub Enterprise Server), no trailing slash.")
    github_api_uri: Optional[GithubUrl] = Field(
        None, description="API address; by default https://api.github.com for github.com, else githubWebUri + /api/v3.")
    oauth_scopes: GithubScopes = Field(
        "read:org,user:email",
        description="Comma-separated OAuth scopes. read:org (or admin:org, user, repo) is needed for "
                    "organization and team groups; the plugin's own default adds repo, which only its "
                    "repository-based authorization uses, not the matrix this program sets.")

    @property
    def api_uri(self) -> str:
        if self.github_api_uri is not None:
            return self.github_api_uri
        if self.github_web_uri == GITHUB_WEB_URI:
            return GITHUB_API_URI
        return self.github_web_uri + GITHUB_ENTERPRISE_API_SUFFIX

    @property
    def reads_groups(self) -> bool:
        return any(scope in GITHUB_GROUP_SCOPES for scope in self.oauth_scopes.split(","))


RealmConfig = Annotated[Union[LocalRealm, OidcRealm, LdapRealm, GithubRealm], Field(discriminator="type")]
REALM_TYPES = ("local", "oidc", "ldap", "github")
REALM_TAGS = {"local": LocalRealm, "oidc": OidcRealm, "ldap": LdapRealm, "github": GithubRealm}


class Principals(Model):
    users: tuple[Principal, ...] = Field((), description="User ids as the realm names them.")
    groups: tuple[Principal, ...] = Field((), description="Group names as the realm names them (oidc: values of groupsField; "
                                                           "github: an organization `org` or a team `org*team-slug`).")

    @property
    def empty(self) -> bool:
        return not self.users and not self.groups


class AuthorizationConfig(Model):
    administrators: Principals = Field(Principals(), description="Overall/Administer. Under realm local the generated admin user is always one.")
    developers: Principals = Field(Principals(), description="Read, build and cancel jobs.")
    viewers: Principals = Field(Principals(), description="Read jobs and views.")


class SecurityConfig(Model):
    realm: RealmConfig = Field(LocalRealm(), description="Who signs in: local (default), oidc, ldap or github.")
    authorization: AuthorizationConfig = Field(AuthorizationConfig(), description="Who may do what, by user and group.")

    @model_validator(mode="after")
    def _someone_administers(self):
        if self.realm.type != "local" and self.authorization.administrators.empty:
            raise ValueError(
                f"no administrator: under realm {self.realm.type} the local admin user does not exist, so nobody "
                f"could manage Jenkins; list at least one user or group in authorization.administrators")
        return self

    @model_validator(mode="after")
    def _github_groups_readable(self):
        realm = self.realm
        roles = (self.authorization.administrators, self.authorization.developers, self.authorization.viewers)
        # every signed-in user holds `authenticated` whatever the scopes (github-oauth
        # GithubAuthenticationToken.java:209; core SecurityRealm.java:934)
        groups = {group for role in roles for group in role.groups} - {"authenticated"}
        if isinstance(realm, GithubRealm) and not realm.reads_groups and groups:
            raise ValueError(
                f"realm.oauthScopes '{realm.oauth_scopes}' lets github-oauth read no organization or team, so "
                f"groups such as '{sorted(groups)[0]}' would match nobody; add one of {', '.join(GITHUB_GROUP_SCOPES)}")
        return self
