"""JenkinsPlatform: wires provider, namespace, credentials, pools and controller, in that order."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from . import labels
from .config import StackConfig
from .controller import JenkinsController
from .build_credential import BuildCredential
from .credentials import JenkinsCredentials
from .endpoints import Endpoints
from .network_policies import agent_egress_policy
from .pools import POOL_TYPES
from .pools.base import PoolContext
from .security import controller_needs as security_needs
from .sign_in import SignIn
from .site import from_config as site_from_config
from .site_objects import register_site_objects


def controller_namespace_labels(config: StackConfig) -> tuple[dict, list[str]]:
    """Restricted, unless a pool mounts the node's Docker socket into the controller pod."""
    reasons = [reason for pool in config.pools if (reason := pool.controller_host_access())]
    enforce = "privileged" if reasons else "restricted"
    return {**labels.common("namespace", "jenkins"), **labels.pod_security(enforce)}, reasons


class JenkinsPlatform(pulumi.ComponentResource):
    def __init__(self, name: str, config: StackConfig, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("jenkins:index:JenkinsPlatform", name, None, opts)
        provider = k8s.Provider(
            "kubernetes",
            context=config.kubernetes.context,
            render_yaml_to_directory=config.kubernetes.render_yaml_to_directory,
            opts=pulumi.ResourceOptions(parent=self),
        )
        endpoints = Endpoints.from_config(config)

        # The namespace holds JENKINS_HOME: deleting it would delete the claim, so it is kept
        # exactly when the claim is kept. Its logical name never depends on the pools.
        keep = config.controller.storage.protect
        namespace_labels, host_access = controller_namespace_labels(config)
        namespace = k8s.core.v1.Namespace(
            "controller-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=endpoints.namespace, labels=namespace_labels),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=keep, retain_on_delete=keep),
        )
        for reason in host_access:
            pulumi.log.warn(
                f"namespace {endpoints.namespace} enforces Pod Security 'privileged' (warn/audit stay "
                f"'restricted') because {reason}", resource=namespace)

        credentials = JenkinsCredentials(
            "credentials", namespace=namespace.metadata.name, admin_user=config.controller.admin_user,
            k8s_provider=provider, opts=pulumi.ResourceOptions(parent=self))

        site = site_from_config(config, endpoints.controller_hosts())
        if config.proxy is not None and not any("/" in entry for entry in config.proxy.no_proxy):
            # In-cluster clients (the Kubernetes plugin, kubectl) dial KUBERNETES_SERVICE_HOST, an IP.
            pulumi.log.warn(
                "jenkins:proxy.noProxy lists no CIDR: in-cluster clients reach the API server at the IP in "
                "KUBERNETES_SERVICE_HOST, which would go to the proxy; add the cluster's Service CIDR (and pod CIDR)",
                resource=self)
        register_site_objects(site, "controller", namespace.metadata.name, labels.common("site", "jenkins"),
                              pulumi.ResourceOptions(parent=self, provider=provider))

        context = PoolContext(site=site, 
            endpoints=endpoints, environment=config.environment, k8s_provider=provider,
            controller_namespace=namespace.metadata.name, network_policies=config.network_policies,
            agent_egress=(agent_egress_policy(config.effective_agent_egress, endpoints.namespace)
                          if config.network_policies else None))
        pools = [POOL_TYPES[pool.type][1](pool, context, opts=pulumi.ResourceOptions(parent=self))
                 for pool in config.pools]

        if any(part.inline is not None for part in config.security.realm.secret_parts):
            SignIn("sign-in", security=config.security, namespace=namespace.metadata.name,
                   k8s_provider=provider, opts=pulumi.ResourceOptions(parent=self))
        build_credentials = [
            BuildCredential(f"credential-{credential.id}", credential=credential, namespace=namespace.metadata.name,
                            k8s_provider=provider, opts=pulumi.ResourceOptions(parent=self))
            for credential in config.credentials]

        controller = JenkinsController(
            "controller",
            config=config,
            endpoints=endpoints,
            namespace=namespace.metadata.name,
            secret_files=credentials.secret_files,
            admin_password_file=credentials.admin_password_file,
            needs=[pool.needs for pool in pools],
            other_needs=[("jenkins:security", security_needs(config.security)),
                         *((f"jenkins:credentials[{index}]", credential.needs)
                           for index, credential in enumerate(build_credentials))],
            site=site,
            k8s_provider=provider,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.url = pulumi.Output.from_input(endpoints.url)
        self.namespace = namespace.metadata.name
        self.admin_secret_name = credentials.admin_secret_name
        self.pool_outputs = {pool.config.name: pool.outputs() for pool in pools}
        self.controller = controller
        self.register_outputs({"url": self.url, "namespace": self.namespace,
                               "adminSecretName": self.admin_secret_name})
