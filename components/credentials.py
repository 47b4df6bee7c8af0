"""Generated credentials, published as Kubernetes Secrets; callers get references, never values."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from . import labels
from .pools.base import SecretFile

ADMIN_SECRET_NAME = "jenkins-admin"


class JenkinsCredentials(pulumi.ComponentResource):
    """The admin login: a random password in a Secret that JCasC reads as a mounted file."""

    def __init__(self, name: str, *, namespace: pulumi.Input[str], admin_user: str,
                 k8s_provider: k8s.Provider, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("jenkins:index:JenkinsCredentials", name, None, opts)
        password = random.RandomPassword(
            "admin-password",
            length=32,
            special=False,  # JCasC and shells take it verbatim; length carries the strength
            opts=pulumi.ResourceOptions(parent=self),
        )
        secret = k8s.core.v1.Secret(
            "admin",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ADMIN_SECRET_NAME, namespace=namespace, labels=labels.common("credentials", "admin")),
            type="kubernetes.io/basic-auth",
            string_data={"username": admin_user, "password": password.result},
            opts=pulumi.ResourceOptions(parent=self, provider=k8s_provider,
                                        additional_secret_outputs=["data", "stringData"]),
        )
        self.admin_secret_name: pulumi.Output[str] = secret.metadata.name
        self.admin_password_file = SecretFile(ADMIN_SECRET_NAME, "password", "admin-password")
        self.secret_files = (self.admin_password_file,)
        self.register_outputs({"adminSecretName": self.admin_secret_name})
