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


class LocalRealm(Model):
    type: Literal["local"] = Field("local", description="Jenkins' own user database with the generated admin.")

    @property
    def secret_parts(self) -> tuple[SecretPart, ...]:
        return ()


class OidcRealm(Model):
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

    @property
    def secret_parts(self) -> tuple[SecretPart, ...]:
        return (SecretPart("clientSecret", self.client_secret, self.client_secret_from),)

    @model_validator(mode="after")
    def _secret(self):
        problem = choice_problem(self.client_secret, self.client_secret_from, "clientSecret", True)
        if problem:
            raise ValueError(problem)
        return self


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


RealmConfig = Annotated[Union[LocalRealm, OidcRealm, LdapRealm], Field(discriminator="type")]
REALM_TYPES = ("local", "oidc", "ldap")


class Principals(Model):
    users: tuple[Principal, ...] = Field((), description="User ids as the realm names them.")
    groups: tuple[Principal, ...] = Field((), description="Group names as the realm names them (oidc: values of groupsField).")

    @property
    def empty(self) -> bool:
        return not self.users and not self.groups


class AuthorizationConfig(Model):
    administrators: Principals = Field(Principals(), description="Overall/Administer. Under realm local the generated admin user is always one.")
    developers: Principals = Field(Principals(), description="Read, build and cancel jobs.")
    viewers: Principals = Field(Principals(), description="Read jobs and views.")


class SecurityConfig(Model):
    realm: RealmConfig = Field(LocalRealm(), description="Who signs in: local (default), oidc or ldap.")
    authorization: AuthorizationConfig = Field(AuthorizationConfig(), description="Who may do what, by user and group.")

    @model_validator(mode="after")
    def _someone_administers(self):
        if self.realm.type != "local" and self.authorization.administrators.empty:
            raise ValueError(
                f"no administrator: under realm {self.realm.type} the local admin user does not exist, so nobody "
                f"could manage Jenkins; list at least one user or group in authorization.administrators")
        return self
