"""The Jenkins controller: one pod, its data, its config, its Services, and who may reach it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from . import defaults, jcasc, jcasc_conformance, labels
from .endpoints import Endpoints
from .plugin_install import CACHE_DIR, controller_plugin_mounts, init_container, stack_plugins
from .plugin_lock import load_lock, plugins_txt
from .pod_security import restricted_container_context, restricted_pod_context
from .pools.base import ControllerNeeds, SecretFile, combine

CASC_CONFIG_MAP = "jenkins-casc"


@dataclass(frozen=True)
class MergedNeeds:
    """All pools' needs folded into one, in pool order."""

    plugins: tuple[str, ...]
    fragments: tuple[dict, ...]
    executors: int
    labels: tuple[str, ...]
    env: tuple[dict, ...]
    volumes: tuple[dict, ...]
    volume_mounts: tuple[dict, ...]
    init_containers: tuple[dict, ...]
    secret_files: tuple[SecretFile, ...]
    pod_labels: dict
    supplemental_groups: tuple[int, ...]
    agent_namespaces: tuple[str, ...]

    @classmethod
    def of(cls, needs: Sequence[ControllerNeeds]) -> "MergedNeeds":
        joined = combine(*needs)

        def by_name(attr, key="name"):
            """Two pools may ask for the same entry (both mount the node's socket): keep one.
            The same name with different contents would be rejected by the API server: say so now."""
            kept: dict = {}
            for item in getattr(joined, attr):
                item = dict(item)
                if item[key] in kept and kept[item[key]] != item:
                    raise pulumi.RunError(f"jenkins:pools: two pools ask for different controller {attr} named {item[key]!r}")
                kept.setdefault(item[key], item)
            return tuple(kept.values())

        return cls(
            plugins=tuple(dict.fromkeys(joined.plugins)),
            fragments=tuple(dict(need.jcasc) for need in needs),
            executors=sum(need.executors for need in needs),
            labels=joined.labels,
            env=by_name("env"),
            volumes=by_name("volumes"),
            volume_mounts=by_name("volume_mounts", key="mountPath"),
            init_containers=by_name("init_containers"),
            secret_files=joined.secret_files,
            pod_labels=dict(joined.pod_labels),
            supplemental_groups=tuple(sorted(set(joined.supplemental_groups))),
            agent_namespaces=tuple(dict.fromkeys(joined.agent_namespaces)),
        )


def merge_controller_document(controller, endpoints: Endpoints, admin_password_file: SecretFile,
                              merged: MergedNeeds) -> dict:
    """The controller's own JCasC with every pool's fragment merged in, in pool order."""
    return jcasc.merge_all(
        jcasc.controller_document(
            admin_user=controller.admin_user,
            admin_password_ref=jcasc.secret_ref(admin_password_file.file_name),
            url=endpoints.url,
            system_message=controller.system_message,
            executors=merged.executors,
            labels=merged.labels,
        ),
        merged.fragments,
    )


def java_opts(extra: Sequence[str]) -> str:
    return " ".join([
        "-Djenkins.install.runSetupWizard=false",
        "-XX:+UseContainerSupport",
        "-XX:MaxRAMPercentage=75.0",
        *extra,
    ])


class JenkinsController(pulumi.ComponentResource):
    """Registers everything namespace-scoped that the controller needs, from merged pool needs."""

    def __init__(self, name: str, *, config, endpoints: Endpoints, namespace: pulumi.Input[str],
                 secret_files: Sequence[SecretFile], admin_password_file: SecretFile,
                 needs: Sequence[ControllerNeeds], k8s_provider: k8s.Provider,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("jenkins:index:JenkinsController", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=k8s_provider)
        merged = MergedNeeds.of(needs)
        selector = {labels.NAME: "jenkins", labels.COMPONENT: "controller"}
        controller = config.controller

        # Before any controller resource: a document the pinned Jenkins would refuse stops here.
        try:
            document = merge_controller_document(controller, endpoints, admin_password_file, merged)
        except jcasc.JcascConflict as exc:
            raise pulumi.RunError(f"jenkins:pools: {exc}") from None
        try:
            jcasc_conformance.check(document)
        except ValueError as exc:
            raise pulumi.RunError(f"jenkins: {exc}") from None

        def meta(object_name: str, component: str = "controller", **extra) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=namespace,
                                              labels=labels.common(component, "jenkins"), **extra)

        uses_kubernetes_api = "kubernetes" in merged.plugins
        service_account = k8s.core.v1.ServiceAccount(
            "service-account",
            metadata=meta(endpoints.service_account),
            automount_service_account_token=uses_kubernetes_api,
            opts=child,
        )

        # JENKINS_HOME: a PVC of its own (not a volumeClaimTemplate) so protect and retainOnDelete
        # apply to it; its logical name and parent are constants, whatever the pools are.
        storage = controller.storage
        home = k8s.core.v1.PersistentVolumeClaim(
            "jenkins-home",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="jenkins-home", namespace=namespace,
                labels=labels.common("jenkins-home", "jenkins"),
            ),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                storage_class_name=storage.storage_class_name,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": storage.size}),
            ),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                protect=storage.protect, retain_on_delete=storage.protect)),
        )

        casc_yaml = jcasc.to_yaml(document)
        plugin_versions = stack_plugins(load_lock(), merged.plugins, controller.extra_plugins)
        plugin_list = plugins_txt(plugin_versions)
        k8s.core.v1.ConfigMap(
            "casc",
            metadata=meta(CASC_CONFIG_MAP),
            data={"jenkins.yaml": casc_yaml, "plugins.txt": plugin_list},
            opts=child,
        )
        # A changed JCasC or plugin list changes this annotation, which rolls the pod.
        checksum = hashlib.sha256((casc_yaml + plugin_list).encode()).hexdigest()

        secret_sources = {}
        for secret_file in (*secret_files, *merged.secret_files):
            secret_sources.setdefault(secret_file.secret_name, []).append(
                {"key": secret_file.key, "path": secret_file.file_name})
        volumes = [
            {"name": "jenkins-home", "persistentVolumeClaim": {"claimName": "jenkins-home"}},
            {"name": "casc", "configMap": {"name": CASC_CONFIG_MAP,
                                           "items": [{"key": "jenkins.yaml", "path": "jenkins.yaml"}]}},
            {"name": "plugin-list", "configMap": {"name": CASC_CONFIG_MAP,
                                                  "items": [{"key": "plugins.txt", "path": "plugins.txt"}]}},
            {"name": "secrets", "projected": {"sources": [
                {"secret": {"name": name, "items": items}} for name, items in secret_sources.items()]}},
            {"name": "cache", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
            *merged.volumes,
        ]
        plugin_source = controller.plugins.source
        install_plugins = init_container(plugin_source, controller.image, plugin_list)
        jenkins = {
            "name": "jenkins",
            "image": controller.image,
            "env": [
                {"name": "JAVA_OPTS", "value": java_opts(controller.java_opts)},
                {"name": "JENKINS_OPTS",
                 "value": f"--webroot={CACHE_DIR}/war"},
                {"name": "CASC_JENKINS_CONFIG", "value": defaults.CASC_DIR},
                {"name": "SECRETS", "value": defaults.SECRETS_DIR},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                *merged.env,
            ],
            "ports": [
                {"name": "http", "containerPort": defaults.HTTP_PORT},
                {"name": "agent", "containerPort": defaults.AGENT_PORT},
            ],
            "startupProbe": defaults.STARTUP_PROBE,
            "livenessProbe": defaults.LIVENESS_PROBE,
            "readinessProbe": defaults.READINESS_PROBE,
            "resources": controller.resources.as_kubernetes(),
            "securityContext": restricted_container_context(),
            "volumeMounts": [
                {"name": "jenkins-home", "mountPath": defaults.JENKINS_HOME},
                {"name": "casc", "mountPath": defaults.CASC_DIR, "readOnly": True},
                {"name": "secrets", "mountPath": defaults.SECRETS_DIR, "readOnly": True},
                *controller_plugin_mounts(plugin_source),
                {"name": "cache", "mountPath": CACHE_DIR},
                {"name": "tmp", "mountPath": "/tmp"},
                *merged.volume_mounts,
            ],
        }
        pod_labels = {**labels.common("controller", "jenkins"), **merged.pod_labels}
        k8s.apps.v1.StatefulSet(
            "jenkins",
            metadata=meta("jenkins"),
            spec={
                "serviceName": endpoints.http_service,
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": pod_labels, "annotations": {"jenkins-k8s.io/config-checksum": checksum}},
                    "spec": {
                        "serviceAccountName": service_account.metadata.name,
                        "automountServiceAccountToken": uses_kubernetes_api,
                        "enableServiceLinks": False,
                        "securityContext": restricted_pod_context(
                            supplemental_groups=merged.supplemental_groups),
                        "initContainers": [install_plugins, *merged.init_containers],
                        "containers": [jenkins],
                        "volumes": volumes,
                    },
                },
            },
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[home])),
        )

        k8s.core.v1.Service(
            "http",
            metadata=meta(endpoints.http_service),
            spec={"type": "ClusterIP", "selector": selector,
                  "ports": [{"name": "http", "port": defaults.HTTP_PORT, "targetPort": "http"}]},
            opts=child,
        )
        k8s.core.v1.Service(
            "agent",
            metadata=meta(endpoints.agent_service),
            spec={"type": "ClusterIP", "selector": selector,
                  "ports": [{"name": "agent", "port": defaults.AGENT_PORT, "targetPort": "agent"}]},
            opts=child,
        )

        ingress = config.exposure.ingress
        if ingress is not None:
            k8s.networking.v1.Ingress(
                "ingress",
                metadata=meta("jenkins"),
                spec={
                    "ingressClassName": ingress.class_name,
                    "rules": [{"host": ingress.host, "http": {"paths": [{
                        "path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": endpoints.http_service,
                                                "port": {"number": defaults.HTTP_PORT}}},
                    }]}}],
                    "tls": ([{"hosts": [ingress.host], "secretName": ingress.tls_secret_name}]
                            if ingress.tls_secret_name else None),
                },
                opts=child,
            )

        if config.network_policies:
            web_clients = [*merged.agent_namespaces, *config.exposure.allow_from_namespaces]
            if ingress is not None:
                web_clients.append(ingress.controller_namespace)
            k8s.networking.v1.NetworkPolicy(
                "controller-ingress",
                metadata=meta("jenkins-controller"),
                spec=controller_network_policy(selector, web_clients, merged.agent_namespaces),
                opts=child,
            )

        self.service_account_name = service_account.metadata.name
        self.home_claim_name = home.metadata.name
        self.jcasc = document
        self.plugins = plugin_list.splitlines()
        self.register_outputs({"serviceAccount": self.service_account_name,
                               "homeClaim": self.home_claim_name})


def _from_namespaces(names: Sequence[str]) -> list[dict]:
    return [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: name}}}
            for name in dict.fromkeys(names)]


def controller_network_policy(selector: dict, web_clients: Sequence[str], agent_namespaces: Sequence[str]) -> dict:
    """8080 for the controller's clients and agents, 50000 for agents only; nothing else gets in."""
    rules = []
    if web_clients:
        rules.append({"from": _from_namespaces(web_clients),
                      "ports": [{"protocol": "TCP", "port": defaults.HTTP_PORT}]})
    if agent_namespaces:
        rules.append({"from": _from_namespaces(agent_namespaces),
                      "ports": [{"protocol": "TCP", "port": defaults.AGENT_PORT}]})
    return {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": rules}
