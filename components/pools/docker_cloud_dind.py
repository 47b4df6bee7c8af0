"""Docker-plugin pool on a Docker-in-Docker daemon of its own: no host path, no node socket.

The daemon is a StatefulSet (pinned docker:*-dind) in a namespace of its own that enforces Pod
Security `privileged`; only its `dind` container is privileged. It speaks TLS only, on 2376
(mutual TLS: dockerd runs with --tlsverify). Certificates come from pulumi-tls (dind.py): the
server certificate names the Service's DNS names and, with several replicas, each pod's own
name; its key lives in a Secret in the DinD namespace. The client certificate and key live in a
Secret in the controller's namespace, mounted as files that JCasC reads into the docker-commons
`x509ClientCert` credential the Docker plugin uses. /var/lib/docker is a PVC per replica, so
pulled images stay cached across restarts. A NetworkPolicy lets only the controller's pods reach
2376 (and, for ssh agents, the ports the daemon publishes).

With several replicas there is one Docker cloud per replica (per-pod DNS name): the plugin must
talk to the daemon that holds its container, which a load-balanced Service would not guarantee.

Docker Pipeline's `inside` on these agents: the daemon resolves the workspace path in its own
filesystem; docker-workflow detects that the agent is itself a container on that daemon and
passes --volumes-from, and the agent images declare their workdir a VOLUME, so it works when the
pipeline talks to this daemon (`docker.withServer(uri, credentialsId)`, values in the cloud
config) and the agent image has the docker CLI. See docs/topologies/docker-cloud-dind.md.
"""
from __future__ import annotations

from typing import Annotated, Literal, Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, ValidationInfo, field_validator, model_validator

from .. import defaults, labels, scheduling
from ..config_types import (
    Model, OptionalStorageClass, PinnedImage, Replicas, ResourcesConfig, StorageSize, memory_bytes,
)
from ..site import Site
from .base import AgentPool, ControllerNeeds, PoolConfig, PoolContext, SecretFile
from .dind import DindCertificates, dind_container, server_certs_volume, x509_credential_jcasc
from .docker_cloud import DockerTemplateConfig, _unique_names, cloud_jcasc

TYPE = "docker-cloud-dind"
SERVICE = "dind"
# Ports dockerd publishes containers on (the kernel's default ip_local_port_range): the ssh
# connector connects there.
EPHEMERAL_PORTS = (32768, 60999)


class DindDaemonConfig(Model):
    image: PinnedImage = defaults.DIND_IMAGE
    """Docker-in-Docker image, pinned."""
    replicas: Replicas = 1
    """Number of DinD daemons (a StatefulSet), each a separate Docker cloud (1-100)."""
    resources: ResourcesConfig = defaults.DIND_RESOURCES
    """Requests and limits of each daemon container."""
    storage_size: StorageSize = defaults.DIND_STORAGE
    """Size of each daemon's `/var/lib/docker` PersistentVolumeClaim (image cache); between 1Gi and 64Ti."""
    storage_class_name: OptionalStorageClass = None
    """StorageClass of the daemons' claims; unset uses the cluster's default."""


MIB = 2**20


def peak_agent_memory_mib(templates, container_cap: int) -> int:
    """The most memory `container_cap` agent containers can be limited to together: each template up to
    its instanceCap, the largest first. The Docker plugin sets each container's limit to memoryLimit
    MiB (jenkinsci/docker-plugin @2fbbdf9 DockerTemplateBase.java:841-844) and counts containerCap and
    instanceCap per cloud, that is per daemon (DockerCloud.java:647-672)."""
    total, left = 0, container_cap
    for template in sorted(templates, key=lambda t: t.memory_limit_mb, reverse=True):
        count = min(template.instance_cap, left)
        total, left = total + count * template.memory_limit_mb, left - count
    return total


class DockerCloudDindPoolConfig(PoolConfig):
    type: Literal["docker-cloud-dind"]
    """`docker-cloud-dind`: the Docker plugin starts agent containers on Docker-in-Docker daemons in the pool's namespace, over mutual TLS."""
    daemon: DindDaemonConfig = DindDaemonConfig()
    """The DinD daemons."""
    templates: Annotated[tuple[DockerTemplateConfig, ...], Field(min_length=1)]
    """Agent container templates (at least one)."""
    # After `daemon` and `templates`: its validator reads both.
    container_cap: Optional[Annotated[int, Field(ge=1, le=1000)]] = Field(
        None, validate_default=True, description=(
            "agent containers per daemon (per replica). Every agent container runs inside the dind "
            "container's memory limit, so the templates' memoryLimitMb at this many containers must fit "
            "in daemon.resources.limits.memory; unset, it is the most that fit"))

    disruption_budget: scheduling.DisruptionBudgetConfig = Field(
        scheduling.DisruptionBudgetConfig(), description=(
            "PodDisruptionBudget of the daemon pods (`scheduling` places them, and with them every agent "
            "container): an eviction kills every build on that daemon; the default (maxUnavailable 0) "
            "blocks node drains until it is changed"))

    @field_validator("templates")
    @classmethod
    def _each_template_fits(cls, templates: tuple, info: ValidationInfo) -> tuple:
        daemon = info.data.get("daemon")
        if daemon is None:
            return templates
        limit_mib = memory_bytes(daemon.resources.limits.memory) // MIB
        for template in templates:
            if template.memory_limit_mb > limit_mib:
                raise ValueError(
                    f"template '{template.name}': memoryLimitMb {template.memory_limit_mb} does not fit in "
                    f"daemon.resources.limits.memory {daemon.resources.limits.memory}")
        return templates

    @field_validator("container_cap")
    @classmethod
    def _fits_the_daemon(cls, container_cap: Optional[int], info: ValidationInfo) -> Optional[int]:
        daemon, templates = info.data.get("daemon"), info.data.get("templates")
        if daemon is None or not templates:
            return container_cap  # reported on their own keys
        limit_mib = memory_bytes(daemon.resources.limits.memory) // MIB
        if container_cap is None:
            most = min(sum(t.instance_cap for t in templates), 1000)
            # At least 1: _each_template_fits checked the largest container alone.
            return max(n for n in range(1, most + 1) if peak_agent_memory_mib(templates, n) <= limit_mib)
        peak = peak_agent_memory_mib(templates, container_cap)
        if peak > limit_mib:
            raise ValueError(
                f"{container_cap} agent containers may use {peak} MiB but the daemon's memory limit "
                f"(daemon.resources.limits.memory) is {daemon.resources.limits.memory} (lower containerCap, "
                "instanceCap or memoryLimitMb, or raise the limit)")
        return container_cap

    @model_validator(mode="after")
    def _unique_templates(self) -> "DockerCloudDindPoolConfig":
        _unique_names(self.templates)
        return self


def service_dns_names(namespace: str, replicas: int) -> list[str]:
    """The server certificate's SANs: the Service in every form, and each pod's name if replicas > 1."""
    names = [SERVICE, f"{SERVICE}.{namespace}", f"{SERVICE}.{namespace}.svc",
             f"{SERVICE}.{namespace}.svc.cluster.local"]
    if replicas > 1:
        for index in range(replicas):
            pod = f"{SERVICE}-{index}.{SERVICE}.{namespace}"
            names += [f"{pod}.svc", f"{pod}.svc.cluster.local"]
    return names


def daemon_uris(namespace: str, replicas: int) -> list[tuple[str, str]]:
    """(suffix, uri) per Docker cloud: the Service with one replica, each pod's DNS name otherwise."""
    port = defaults.DIND_PORT
    if replicas == 1:
        return [("", f"tcp://{SERVICE}.{namespace}.svc.cluster.local:{port}")]
    return [(f"-{i}", f"tcp://{SERVICE}-{i}.{SERVICE}.{namespace}.svc.cluster.local:{port}")
            for i in range(replicas)]


def client_secret_files(pool_name: str) -> tuple[SecretFile, ...]:
    secret = client_secret_name(pool_name)
    return (SecretFile(secret, "key.pem", f"{pool_name}-docker-client-key"),
            SecretFile(secret, "cert.pem", f"{pool_name}-docker-client-cert"),
            SecretFile(secret, "ca.pem", f"{pool_name}-docker-ca"))


def client_secret_name(pool_name: str) -> str:
    return f"{pool_name}-docker-client"


def credential_id(pool_name: str) -> str:
    return f"{pool_name}-docker-client"


def controller_jcasc(config: DockerCloudDindPoolConfig, namespace: str, jenkins_url: str, site: Site = Site()) -> dict:
    key, cert, ca = client_secret_files(config.name)
    clouds = [
        cloud_jcasc(name=f"{config.name}{suffix}", uri=uri, templates=config.templates,
                    container_cap=config.container_cap, pool_name=config.name, jenkins_url=jenkins_url,
                    credentials_id=credential_id(config.name), site=site)
        for suffix, uri in daemon_uris(namespace, config.daemon.replicas)
    ]
    return {
        "jenkins": {"clouds": clouds},
        **x509_credential_jcasc(
            credential_id(config.name), f"Docker daemon of pool {config.name} (TLS client)",
            key_file=key.file_name, cert_file=cert.file_name, ca_file=ca.file_name),
    }


def dind_network_policy(selector: dict, controller_namespace: str, controller_selector: dict,
                        publishes_ports: bool) -> dict:
    """2376 from the controller's pods only; with ssh agents also the published ports."""
    controller = [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: controller_namespace}},
                   "podSelector": {"matchLabels": controller_selector}}]
    rules = [{"from": controller, "ports": [{"protocol": "TCP", "port": defaults.DIND_PORT}]}]
    if publishes_ports:
        low, high = EPHEMERAL_PORTS
        rules.append({"from": controller, "ports": [{"protocol": "TCP", "port": low, "endPort": high}]})
    return {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": rules}


class DockerCloudDindPool(AgentPool):
    TYPE = TYPE

    def __init__(self, config: DockerCloudDindPoolConfig, context: PoolContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(config, context, opts)
        endpoints = context.endpoints
        daemon = config.daemon
        namespace = self.create_namespace("privileged")

        certificates = DindCertificates.create(self, service_dns_names(self.namespace, daemon.replicas))
        server_secret = k8s.core.v1.Secret(
            self.child_name("dind-server-tls"),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="dind-server-tls", namespace=namespace, labels=self.pool_labels("dind")),
            type="Opaque",
            string_data=certificates.server_secret_data(),
            opts=self.child_opts(additional_secret_outputs=["data", "stringData"]),
        )
        k8s.core.v1.Secret(
            self.child_name("docker-client"),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=client_secret_name(config.name), namespace=context.controller_namespace,
                labels=self.pool_labels("credentials")),
            type="Opaque",
            string_data=certificates.client_secret_data(),
            opts=self.child_opts(additional_secret_outputs=["data", "stringData"]),
        )

        selector = {labels.NAME: "jenkins", labels.COMPONENT: "dind", labels.POOL: config.name}
        pod_labels = {**self.pool_labels("dind"), labels.DIND: "true"}
        service = k8s.core.v1.Service(
            self.child_name("dind"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SERVICE, namespace=namespace,
                                                labels=self.pool_labels("dind")),
            spec={
                # Headless: per-pod DNS names for the StatefulSet, and no load balancing between daemons.
                "clusterIP": "None",
                "selector": selector,
                "ports": [{"name": "docker-tls", "port": defaults.DIND_PORT, "targetPort": "docker-tls"}],
            },
            opts=self.child_opts(),
        )
        data_volume = "docker-data"
        claim_spec = {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": daemon.storage_size}}}
        if daemon.storage_class_name:
            claim_spec["storageClassName"] = daemon.storage_class_name
        k8s.apps.v1.StatefulSet(
            self.child_name("dind"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SERVICE, namespace=namespace,
                                                labels=self.pool_labels("dind")),
            spec={
                "serviceName": SERVICE,
                "replicas": daemon.replicas,
                "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": {**pod_labels, **selector}},
                    "spec": context.site.pod_spec(scheduling.apply({
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        # Pod level stays minimal: the one container is privileged and runs as root.
                        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [dind_container(
                            certs_volume="tls", data_volume=data_volume, image=daemon.image,
                            resources=daemon.resources)],
                        "volumes": [server_certs_volume("tls", "dind-server-tls")],
                    }, config.scheduling, own_labels=selector), truststore_image=None, dockerd_containers=("dind",)),
                },
                "volumeClaimTemplates": [{
                    "metadata": {"name": data_volume, "labels": self.pool_labels("dind")},
                    "spec": claim_spec,
                }],
            },
            opts=self.child_opts(depends_on=[server_secret, service, *self.site_objects]),
        )

        budget = scheduling.disruption_budget_spec(config.disruption_budget, selector)
        if budget is not None:
            k8s.policy.v1.PodDisruptionBudget(
                self.child_name("dind-disruption-budget"),
                metadata=k8s.meta.v1.ObjectMetaArgs(name=SERVICE, namespace=namespace,
                                                    labels=self.pool_labels("dind")),
                spec=budget,
                opts=self.child_opts(),
            )

        controller_selector = dict(labels.CONTROLLER_SELECTOR)
        if context.network_policies:
            k8s.networking.v1.NetworkPolicy(
                self.child_name("dind-ingress"),
                metadata=k8s.meta.v1.ObjectMetaArgs(name="dind", namespace=namespace,
                                                    labels=self.pool_labels("dind")),
                spec=dind_network_policy(selector, endpoints.namespace, controller_selector,
                                         publishes_ports=any(t.connector == "ssh" for t in config.templates)),
                opts=self.child_opts(),
            )

        uses_ssh = any(t.connector == "ssh" for t in config.templates)
        self.agent_labels = tuple(label for t in config.templates for label in t.labels)
        self.needs = ControllerNeeds(
            plugins=("docker-plugin", "docker-workflow", "docker-commons",
                     *(("ssh-slaves",) if uses_ssh else ())),
            jcasc=controller_jcasc(config, self.namespace, endpoints.internal_url, context.site),
            secret_files=client_secret_files(config.name),
            # Agent containers reach the controller through the DinD pod's address (NAT).
            agent_namespaces=(self.namespace,),
        )
        self.finish()
