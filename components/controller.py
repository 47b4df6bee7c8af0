"""The Jenkins controller: one pod, its data, its config, its Services, and who may reach it."""
from __future__ import annotations

from typing import Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from . import defaults, jcasc, jcasc_fragments, labels, metrics as metrics_, scheduling
from .backup import JenkinsHomeBackup
from .controller_pod import (
    CASC_CONFIG_MAP, SELECTOR, MergedNeeds, controller_files, merge_controller_document, pod_template,
    uses_kubernetes_api,
)
from .endpoints import Endpoints
from .plugin_lock import load_lock
from .pools.base import ControllerNeeds, SecretFile
from .site import Site


class JenkinsController(pulumi.ComponentResource):
    """Registers everything namespace-scoped that the controller needs, from merged pool needs."""

    def __init__(self, name: str, *, config, endpoints: Endpoints, namespace: pulumi.Input[str],
                 secret_files: Sequence[SecretFile], admin_password_file: SecretFile,
                 needs: Sequence[ControllerNeeds], k8s_provider: k8s.Provider,
                 other_needs: Sequence[tuple[str, ControllerNeeds]] = (), site: Site = Site(),
                 opts: Optional[pulumi.ResourceOptions] = None):
        """`needs`: one per pool, in pool order; `other_needs`: (owner, needs) of the sign-in realm
        and the build credentials, merged after the pools'."""
        super().__init__("jenkins:index:JenkinsController", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=k8s_provider)
        merged = MergedNeeds.of([*needs, *(need for _, need in other_needs)])
        selector = SELECTOR
        controller = config.controller

        # Before any controller resource: a document the pinned Jenkins would refuse, or a plugin
        # outside the lock, stops here.
        fragments = config.jcasc
        try:
            merged_document = merge_controller_document(
                controller, endpoints, admin_password_file, merged,
                pool_names=[pool.name for pool in config.pools], user_fragments=fragments, jobs=config.jobs,
                security=config.security, other_owners=[owner for owner, _ in other_needs], site=site)
        except jcasc.JcascConflict as exc:
            blamed = exc.second_owner if exc.second_owner.startswith("jenkins:") else "jenkins:pools"
            raise pulumi.RunError(f"{blamed}: {exc}") from None
        refused = jcasc_fragments.conformance_error(
            merged_document, {jcasc_fragments.owner(name) for name, f in fragments.items() if f.unverified})
        if refused:
            raise pulumi.RunError(f"{refused[0]}: {refused[1]}")
        document = merged_document.document
        try:
            files = controller_files(document, merged, controller, load_lock(),
                                     extra_plugins=metrics_.PLUGINS if config.metrics else ())
        except ValueError as exc:
            raise pulumi.RunError(f"jenkins:pools: {exc}") from None

        def meta(object_name: str, component: str = "controller", **extra) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=namespace,
                                              labels=labels.common(component, "jenkins"), **extra)

        service_account = k8s.core.v1.ServiceAccount(
            "service-account",
            metadata=meta(endpoints.service_account),
            automount_service_account_token=uses_kubernetes_api(merged),
            opts=child,
        )

        # JENKINS_HOME: a PVC of its own (not a volumeClaimTemplate) so protect and retainOnDelete
        # apply to it; its logical name and parent are constants, whatever the pools are. An adopted
        # claim (existingClaim) is not registered at all: nothing in this program can delete it.
        storage = controller.storage
        home = None
        if storage.existing_claim is None:
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
                    data_source=home_data_source(storage),
                ),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                    protect=storage.protect, retain_on_delete=storage.protect)),
            )
        claim_name = home_claim_name(storage)

        if controller.backup is not None:
            JenkinsHomeBackup("backup", backup=controller.backup, namespace=namespace, claim_name=claim_name,
                              k8s_provider=k8s_provider, site=site, opts=pulumi.ResourceOptions(parent=self))

        k8s.core.v1.ConfigMap(
            "casc",
            metadata=meta(CASC_CONFIG_MAP),
            data={"jenkins.yaml": files.casc_yaml, "plugins.txt": files.plugin_list},
            opts=child,
        )
        # serviceName names the Service "responsible for the network identity of the set" (API field
        # doc, pulumi-kubernetes 4.34.2 sdk pulumi_kubernetes/apps/v1/_inputs.py:3307); only a
        # headless Service gets per-pod DNS records. Clients keep the ClusterIP Service `jenkins`
        # below, which every ingress controller can route to.
        governing = k8s.core.v1.Service(
            "governing",
            metadata=meta(endpoints.governing_service),
            spec={"clusterIP": "None", "selector": selector,
                  "ports": [{"name": "http", "port": defaults.HTTP_PORT, "targetPort": "http"}]},
            opts=child,
        )
        k8s.apps.v1.StatefulSet(
            "jenkins",
            metadata=meta("jenkins"),
            spec={
                "serviceName": endpoints.governing_service,
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": pod_template(controller, merged, files, secret_files, service_account.metadata.name,
                                         claim_name, site),
            },
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=[home, governing] if home else [governing])),
        )

        budget = scheduling.disruption_budget_spec(controller.disruption_budget, selector)
        if budget is not None:
            k8s.policy.v1.PodDisruptionBudget(
                "disruption-budget",
                metadata=meta("jenkins"),
                spec=budget,
                opts=child,
            )

        k8s.core.v1.Service(
            "http",
            metadata=meta(endpoints.http_service),
            spec={"type": "ClusterIP", "selector": selector,
                  "ports": [{"name": "http", "port": defaults.HTTP_PORT, "targetPort": "http"}]},
            opts=child,
        )

        ingress = config.exposure.ingress
        if ingress is not None:
            if not ingress.serves_tls:
                pulumi.log.warn(
                    f"jenkins:exposure.ingress.tls is disabled: {ingress.host} serves plain HTTP, so "
                    "passwords, API tokens and session cookies cross the network in clear text", resource=self)
            k8s.networking.v1.Ingress(
                "ingress",
                metadata=meta("jenkins", annotations=ingress.all_annotations() or None),
                spec={
                    "ingressClassName": ingress.class_name,
                    "rules": [{"host": ingress.host, "http": {"paths": [{
                        "path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": endpoints.http_service,
                                                "port": {"number": defaults.HTTP_PORT}}},
                    }]}}],
                    # cert-manager's ingress-shim issues a certificate only for a tls entry with
                    # hosts and secretName (cert-manager v1.21.1 (24e3319)
                    # pkg/controller/certificate-shim/sync.go:257-265).
                    "tls": ([{"hosts": [ingress.host], "secretName": ingress.secret_name}]
                            if ingress.serves_tls else None),
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
                spec=controller_network_policy(selector, web_clients),
                opts=child,
            )

        if config.metrics is not None:
            metrics_.ControllerMetrics(
                "metrics", metrics=config.metrics, namespace=namespace, pod_selector=selector,
                service_selector=labels.common("controller", "jenkins"), service_namespace=endpoints.namespace,
                network_policies=config.network_policies, k8s_provider=k8s_provider,
                opts=pulumi.ResourceOptions(parent=self))

        self.service_account_name = service_account.metadata.name
        self.home_claim_name = home.metadata.name if home else pulumi.Output.from_input(claim_name)
        self.jcasc = document
        self.plugins = files.plugin_list.splitlines()
        self.register_outputs({"serviceAccount": self.service_account_name,
                               "homeClaim": self.home_claim_name})


def home_claim_name(storage) -> str:
    return storage.existing_claim or "jenkins-home"


def home_data_source(storage) -> Optional[dict]:
    """A claim restored from a VolumeSnapshot. The API server refuses to change a bound claim's spec
    (resources.requests aside), so this only works for a claim that does not exist yet."""
    if storage.restore_from is None:
        return None
    return {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
            "name": storage.restore_from.volume_snapshot_name}


def _from_namespaces(names: Sequence[str]) -> list[dict]:
    return [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: name}}}
            for name in dict.fromkeys(names)]


def controller_network_policy(selector: dict, web_clients: Sequence[str]) -> dict:
    """8080 (web UI, API, agents' WebSocket) for the controller's clients and agents; nothing else gets in."""
    rules = []
    if web_clients:
        rules.append({"from": _from_namespaces(web_clients),
                      "ports": [{"protocol": "TCP", "port": defaults.HTTP_PORT}]})
    return {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": rules}
