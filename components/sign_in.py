"""The sign-in realm's secret values given as secure config, in a Secret the controller mounts."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from . import labels
from .security import REALM_SECRET_NAME
from .security_config import SecurityConfig


class SignIn(pulumi.ComponentResource):
    """Registers the realm's Secret; made only when a client secret or bind password comes from secure config."""

    def __init__(self, name: str, *, security: SecurityConfig, namespace: pulumi.Input[str],
                 k8s_provider: k8s.Provider, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("jenkins:index:SignIn", name, None, opts)
        inline = {part.name: pulumi.Output.secret(part.inline)
                  for part in security.realm.secret_parts if part.inline is not None}
        if inline:
            k8s.core.v1.Secret(
                "realm-secret",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=REALM_SECRET_NAME, namespace=namespace,
                    labels=labels.common("security-realm", security.realm.type)),
                type="Opaque",
                string_data=inline,
                opts=pulumi.ResourceOptions(parent=self, provider=k8s_provider,
                                            additional_secret_outputs=["data", "stringData"]),
            )
        self.register_outputs({"realm": security.realm.type})
