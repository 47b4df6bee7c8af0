"""Swarm with Docker-in-Docker: the seed's preferred setup, each swarm client with its own daemon.

Every client pod gets a privileged dockerd as a native sidecar (an init container with
`restartPolicy: Always`, so it starts first and stops last) that speaks TLS on localhost:2376.
`/var/lib/docker` lives on a volumeClaimTemplate, one claim per replica, with dockerd's data root a
directory inside it (dind.DATA_ROOT, so the pod's fsGroup never walks the cache): images pulled by
one build are still there for the next, across pod restarts. That cache is why the seed chose this setup,
and why the workload is a StatefulSet (see swarm.py for the rest of that choice).

Docker Pipeline's `inside` bind-mounts the workspace by path, so the sidecar mounts the same
workspace volume at the same path as the client. The docker CLI and its buildx and compose plugins
come from the pinned `docker:*-cli` image: an init container copies them into an emptyDir that is
on the client's PATH and in the CLI's plugin directory, so the client image stays the stock one.

The pool's namespace enforces Pod Security `privileged` (warn/audit stay `restricted`), and only
the `dind` sidecar is privileged; the client container keeps the restricted context.
The swarm pieces (args, JCasC user, pod spec, login, workload) are swarm.py's builders.
"""
from __future__ import annotations

from typing import Literal, Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from .. import defaults, labels
from ..config_types import OptionalStorageClass, ResourcesConfig, StorageSize
from ..scheduling import DisruptionBudgetConfig
from . import docker_access, swarm
from .base import AgentPool, PoolContext
from .dind import (
    CLIENT_CERT_PATH, DIND_PORT, DindCertificates, client_certs_volume, client_env, dind_container,
    server_certs_volume,
)

TYPE = "swarm-dind"

DOCKER_CLI_DIR = docker_access.CLI_DIR
# The client image's PATH with the docker CLI first; /opt/java/openjdk/bin is where the jenkins/*
# images keep java (jenkinsci/docker-agent @b066c0a debian/Dockerfile:114-116). Kubernetes cannot
# append to an image's PATH, so it is spelt out.
CLIENT_PATH = ":".join((DOCKER_CLI_DIR, "/opt/java/openjdk/bin",
                        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"))
# The daemon is reached on the pod's loopback: the certificate names exactly that.
SERVER_DNS_NAMES = ("localhost",)
SERVER_IP_ADDRESSES = ("127.0.0.1",)
SERVER_CERTS_SECRET = "dind-server-certs"
CLIENT_CERTS_SECRET = "dind-client-certs"
DATA_CLAIM = "docker"
# The client waits for dockerd: a native sidecar's startup probe gates the containers after it.
DIND_STARTUP_PROBE = {"tcpSocket": {"port": DIND_PORT}, "periodSeconds": 2, "failureThreshold": 90}


class SwarmDindPoolConfig(swarm.SwarmClientConfig):
    type: Literal["swarm-dind"]
    """`swarm-dind`: swarm clients, each with a Docker-in-Docker native sidecar sharing its workspace."""
    # Image cache per replica (one PersistentVolumeClaim each, kept when scaling down).
    docker_storage: StorageSize = defaults.DIND_STORAGE
    """Size of each replica's `/var/lib/docker` PersistentVolumeClaim (image cache, kept when scaling down); between 1Gi and 64Ti."""
    storage_class_name: OptionalStorageClass = None
    """StorageClass of the image-cache claims; unset uses the cluster's default."""
    dind_resources: ResourcesConfig = defaults.DIND_RESOURCES
    """Requests and limits of each DinD sidecar."""
    disruption_budget: DisruptionBudgetConfig = Field(DisruptionBudgetConfig(), description=(
        "PodDisruptionBudget of the client pods: an eviction kills the builds running on that client "
        "and its daemon; the default (maxUnavailable 0) blocks node drains until it is changed"))


def dind_sidecar(config: SwarmDindPoolConfig) -> dict:
    """dind.py's privileged dockerd as a native sidecar, sharing the workspace at the client's path."""
    container = dind_container(
        certs_volume="dind-server-certs",
        data_volume=DATA_CLAIM,
        resources=config.dind_resources,
        extra_volume_mounts=[{"name": "workspace", "mountPath": swarm.WORKSPACE_DIR}],
    )
    return {**container, "restartPolicy": "Always", "startupProbe": DIND_STARTUP_PROBE}


def pod_spec(config: SwarmDindPoolConfig, *, url: str) -> dict:
    return swarm.pod_spec(
        config,
        url=url,
        # Sidecar last: regular init containers run before it, the client starts once dockerd answers.
        init_containers=[docker_access.copy_cli_container("install-docker-cli"), dind_sidecar(config)],
        extra_env=[{"name": "PATH", "value": CLIENT_PATH}, *client_env("localhost")],
        extra_mounts=[
            *docker_access.cli_mounts(),
            {"name": "dind-client-certs", "mountPath": CLIENT_CERT_PATH, "readOnly": True},
        ],
        extra_volumes=[
            {"name": docker_access.CLI_VOLUME, "emptyDir": {}},
            client_certs_volume("dind-client-certs", CLIENT_CERTS_SECRET),
            server_certs_volume("dind-server-certs", SERVER_CERTS_SECRET),
        ],
    )


def data_claim_template(config: SwarmDindPoolConfig) -> dict:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": config.docker_storage}}}
    if config.storage_class_name:
        spec["storageClassName"] = config.storage_class_name
    return {"metadata": {"name": DATA_CLAIM}, "spec": spec}


class SwarmDindPool(AgentPool):
    TYPE = TYPE

    def __init__(self, config: SwarmDindPoolConfig, context: PoolContext,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(config, context, opts)
        namespace = self.create_namespace("privileged")
        login = swarm.register_login(self, namespace)

        certificates = DindCertificates.create(self, SERVER_DNS_NAMES, SERVER_IP_ADDRESSES)
        cert_secrets = []
        for logical, secret_name, data in (
            ("dind-server-certs", SERVER_CERTS_SECRET, certificates.server_secret_data()),
            ("dind-client-certs", CLIENT_CERTS_SECRET, certificates.client_secret_data()),
        ):
            cert_secrets.append(k8s.core.v1.Secret(
                self.child_name(logical),
                metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=namespace,
                                                    labels=self.pool_labels("credentials")),
                type="Opaque",
                string_data=data,
                opts=self.child_opts(additional_secret_outputs=["data", "stringData"]),
            ))

        swarm.register_workload(
            self, namespace,
            spec=pod_spec(config, url=context.endpoints.internal_url),
            pod_labels={**self.pool_labels("swarm-agent"), labels.DIND: "true"},
            depends_on=[login.pool_secret, *cert_secrets],
            volume_claim_templates=[data_claim_template(config)],
            disruption_budget=config.disruption_budget,
        )
        self.agent_labels = tuple(config.labels)
        # docker-workflow: Docker Pipeline (`docker.image(...).inside`), what the seed ran on these agents.
        self.needs = swarm.controller_needs(login, self.namespace, plugins=("swarm", "docker-workflow"))
        self.finish()
