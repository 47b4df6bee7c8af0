"""The `jenkins:credentials` list: typed build credentials, each secret part from secure config or a Secret."""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Optional, Union

from pydantic import Field, model_validator

from .config_types import Model
from .secret_values import SecretKeyRef, SecretPart, SecretText, choice_problem

# The id names the Kubernetes Secret and the mounted files too, so it is a DNS label.
CredentialId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
Description = Annotated[str, Field(max_length=200)]
Username = Annotated[str, Field(min_length=1, max_length=200)]
FileName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^/\\]+$")]
# github-branch-source 1983.vfa_27ed961853 (read at jenkinsci/github-branch-source-plugin 57edfa33,
# src/main/java/org/jenkinsci/plugins/github_branch_source/): the app ID is checked as an integer
# (GitHubAppCredentials.java:830-833), the key must be PKCS#8 (:220-226, help-privateKey.html:2),
# no apiUri means https://api.github.com (:373-375); owners and repositories are GitHub names.
GithubAppId = Annotated[str, Field(min_length=1, max_length=10, pattern=r"^[1-9][0-9]*$")]
GithubOwner = Annotated[str, Field(min_length=1, max_length=39, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$")]
GithubRepository = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
GithubApiUrl = Annotated[str, Field(max_length=2000, pattern=r"^https://[^\s/]+(/\S*[^\s/])?$")]


class _Credential(Model):
    id: CredentialId = Field(description="Credential id that jobs use (credentialsId); also names its Secret.")
    description: Description = Field("", description="Shown next to the credential in Jenkins.")

    # (config key, attribute, required) of each secret part; `<key>From` is the Secret reference.
    SECRET_FIELDS: ClassVar[tuple[tuple[str, str, bool], ...]] = ()

    def secret_parts(self) -> tuple[SecretPart, ...]:
        return tuple(SecretPart(key, getattr(self, attr), getattr(self, f"{attr}_from"))
                     for key, attr, _ in self.SECRET_FIELDS)

    @model_validator(mode="after")
    def _one_source_per_part(self):
        problems = [p for part, (_, _, required) in zip(self.secret_parts(), self.SECRET_FIELDS)
                    if (p := choice_problem(part.inline, part.ref, part.name, required))]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class UsernamePasswordCredential(_Credential):
    type: Literal["usernamePassword"] = Field(description="A user name and a password.")
    username: Username = Field(description="User name (not secret).")
    password: Optional[SecretText] = Field(None, repr=False, description="Password: set with `pulumi config set --secret --path`.")
    password_from: Optional[SecretKeyRef] = Field(None, description="Password from an existing Secret's key.")
    SECRET_FIELDS = (("password", "password", True),)


class SecretTextCredential(_Credential):
    type: Literal["secretText"] = Field(description="One secret string (a token).")
    secret: Optional[SecretText] = Field(None, repr=False, description="The token: set with `pulumi config set --secret --path`.")
    secret_from: Optional[SecretKeyRef] = Field(None, description="The token from an existing Secret's key.")
    SECRET_FIELDS = (("secret", "secret", True),)


class SshPrivateKeyCredential(_Credential):
    type: Literal["sshPrivateKey"] = Field(description="An SSH user and private key.")
    username: Username = Field(description="User name the key signs in as (not secret).")
    private_key: Optional[SecretText] = Field(None, repr=False, description="The private key (PEM/OpenSSH text), as secure config.")
    private_key_from: Optional[SecretKeyRef] = Field(None, description="The private key from an existing Secret's key.")
    passphrase: Optional[SecretText] = Field(None, repr=False, description="Passphrase of the key, if it has one, as secure config.")
    passphrase_from: Optional[SecretKeyRef] = Field(None, description="Passphrase from an existing Secret's key.")
    SECRET_FIELDS = (("privateKey", "private_key", True), ("passphrase", "passphrase", False))


class FileCredential(_Credential):
    type: Literal["file"] = Field(description="A secret file.")
    file_name: FileName = Field(description="File name builds see (withCredentials file binding).")
    content: Optional[SecretText] = Field(None, repr=False, description="File content as secure config (text).")
    content_from: Optional[SecretKeyRef] = Field(None, description="File content from an existing Secret's key (any bytes).")
    SECRET_FIELDS = (("content", "content", True),)


class GitHubAppCredential(_Credential):
    type: Literal["githubApp"] = Field(
        description="A GitHub App (github-branch-source plugin): Jenkins signs with the app's key and uses "
                    "short-lived installation tokens.")
    app_id: GithubAppId = Field(description="The App ID GitHub shows on the app's settings page (digits).")
    private_key: Optional[SecretText] = Field(
        None, repr=False, description="The app's private key in PKCS#8 PEM (convert GitHub's download with "
                                      "`openssl pkcs8 -topk8 -nocrypt`), as secure config.")
    private_key_from: Optional[SecretKeyRef] = Field(None, description="The private key from an existing Secret's key.")
    owner: Optional[GithubOwner] = Field(
        None, description="Organization or user whose installation issues tokens; needed when the app is "
                          "installed in more than one.")
    repositories: tuple[GithubRepository, ...] = Field(
        (), description="Limit tokens to these repositories of owner; empty means all the installation can see.")
    api_uri: Optional[GithubApiUrl] = Field(
        None, description="API address of a GitHub Enterprise Server (https://host/api/v3); github.com when left out.")
    SECRET_FIELDS = (("privateKey", "private_key", True),)

    @model_validator(mode="after")
    def _repositories_need_owner(self):
        if self.repositories and self.owner is None:
            raise ValueError("repositories is set but owner is not; name the owner the repositories belong to")
        return self


CREDENTIAL_TYPES = (UsernamePasswordCredential, SecretTextCredential, SshPrivateKeyCredential, FileCredential,
                    GitHubAppCredential)
CredentialConfig = Annotated[Union[CREDENTIAL_TYPES], Field(discriminator="type")]
CREDENTIAL_TYPE_NAMES = ("usernamePassword", "secretText", "sshPrivateKey", "file", "githubApp")
