"""A build credential: its Secret (for values set as secure config), the files JCasC reads and its
JCasC entry in the system credentials store. Builders are pure; the component only registers the Secret."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from . import defaults, jcasc, labels
from .credential_config import (
    FileCredential, GitHubAppCredential, SecretTextCredential, SshPrivateKeyCredential, UsernamePasswordCredential,
)
from .pools.base import ControllerNeeds, SecretFile
from .secret_values import SecretPart

# Credentials built here go to the global domain of the system store with scope GLOBAL (usable by
# jobs). JCasC replaces the whole system store on every load (credentials-plugin
# SystemCredentialsProviderConfigurator.java:66 -> SystemCredentialsProvider.setDomainCredentialsMap,
# SystemCredentialsProvider.java:186-188): see README "Credentials" for what that means for the UI.
SCOPE = "GLOBAL"

# The plugin each credential type comes from (symbols as JCasC derives them, components/upstream/jcasc.yaml).
PLUGINS = {
    "usernamePassword": ("credentials",),
    "secretText": ("plain-credentials",),
    "file": ("plain-credentials",),
    "sshPrivateKey": ("ssh-credentials",),
    "githubApp": ("github-branch-source",),
}


def secret_name(credential_id: str) -> str:
    return f"jenkins-credential-{credential_id}"


def file_name(credential_id: str, part: str) -> str:
    return f"credential-{credential_id}-{part}"


def secret_file(credential_id: str, part: SecretPart) -> SecretFile:
    """Where one secret part is mounted: from the credential's own Secret or the referenced one."""
    if part.ref is not None:
        return SecretFile(part.ref.secret_name, part.ref.key, file_name(credential_id, part.name))
    return SecretFile(secret_name(credential_id), part.name, file_name(credential_id, part.name))


def secret_files(credential) -> tuple[SecretFile, ...]:
    return tuple(secret_file(credential.id, part) for part in credential.secret_parts() if part.given)


def jcasc_entry(credential) -> dict[str, Any]:
    """The credential as JCasC describes it (symbol -> attributes); secrets only as file references."""
    def ref(part: str) -> str:
        return jcasc.secret_ref(file_name(credential.id, part))

    def path(part: str) -> str:
        return f"{defaults.SECRETS_DIR}/{file_name(credential.id, part)}"

    common = {"scope": SCOPE, "id": credential.id, "description": jcasc.literal(credential.description)}
    if isinstance(credential, UsernamePasswordCredential):
        return {"usernamePassword": {**common, "username": jcasc.literal(credential.username),
                                     "password": ref("password")}}
    if isinstance(credential, SecretTextCredential):
        return {"string": {**common, "secret": ref("secret")}}
    if isinstance(credential, FileCredential):
        return {"file": {**common, "fileName": jcasc.literal(credential.file_name),
                         "secretBytes": jcasc.secret_file_ref(path("content"), base64=True)}}
    if isinstance(credential, SshPrivateKeyCredential):
        entry = {**common, "username": jcasc.literal(credential.username),
                 # the key file as written: a PEM/OpenSSH key keeps its final newline
                 "privateKeySource": {"directEntry": {"privateKey": jcasc.secret_file_ref(path("privateKey"))}}}
        if credential.passphrase is not None or credential.passphrase_from is not None:
            entry["passphrase"] = ref("passphrase")
        return {"basicSSHUserPrivateKey": entry}
    if isinstance(credential, GitHubAppCredential):
        entry = {**common, "appID": credential.app_id,
                 "privateKey": jcasc.secret_file_ref(path("privateKey"))}
        if credential.api_uri is not None:
            entry["apiUri"] = jcasc.literal(credential.api_uri)
        if credential.owner is not None:
            # The access strategy, not the `owner` setter: that one also flags the credential as
            # migrated on an admin monitor (GitHubAppCredentials.java:167-176).
            strategy = {"owner": credential.owner}
            if credential.repositories:
                strategy["repositories"] = list(credential.repositories)
            entry["repositoryAccessStrategy"] = {"specificRepositories": strategy}
        return {"gitHubApp": entry}
    raise TypeError(f"no JCasC for credential type {credential.type}")


def controller_needs(credential) -> ControllerNeeds:
    return ControllerNeeds(
        plugins=PLUGINS[credential.type],
        jcasc={"credentials": {"system": {"domainCredentials": [{"credentials": [jcasc_entry(credential)]}]}}},
        secret_files=secret_files(credential),
    )


class BuildCredential(pulumi.ComponentResource):
    """One credential: a Secret holding the parts given as secure config (none when every part
    references an existing Secret), and what the controller must mount and merge."""

    def __init__(self, name: str, *, credential, namespace: pulumi.Input[str], k8s_provider: k8s.Provider,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("jenkins:index:BuildCredential", name, None, opts)
        inline = {part.name: pulumi.Output.secret(part.inline)
                  for part in credential.secret_parts() if part.inline is not None}
        self.secret_name: Optional[pulumi.Output[str]] = None
        if inline:
            # A child's URN holds its parent's type, not its name: the logical name carries the id.
            secret = k8s.core.v1.Secret(
                name,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=secret_name(credential.id), namespace=namespace,
                    labels=labels.common("credential", credential.id)),
                type="Opaque",
                string_data=inline,
                opts=pulumi.ResourceOptions(parent=self, provider=k8s_provider,
                                            additional_secret_outputs=["data", "stringData"]),
            )
            self.secret_name = secret.metadata.name
        self.needs = controller_needs(credential)
        self.register_outputs({"id": credential.id})
