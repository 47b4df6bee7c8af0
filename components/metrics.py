"""Prometheus metrics of the controller: who may scrape it, and the ServiceMonitor when asked for.
Builders are pure; the component registers."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from . import defaults, labels

# The Prometheus plugin (jenkinsci/prometheus-plugin@317db5d1, the newest commit stored before the
# locked 860.v532442b_44e9a_; re-check on a bump):
# - path "prometheus" unless the PROMETHEUS_ENDPOINT variable says otherwise
#   (config/PrometheusConfiguration.java:33,100), with no extra path after it (:104), and the action
#   answers only when the rest of the path equals that empty extra path
#   (rest/PrometheusAction.java:39): so `/prometheus`, not `/prometheus/`, which the chart's
#   scrapeEndpoint default agrees with;
# - no authentication unless useAuthenticatedEndpoint is set (PrometheusConfiguration.java:42,
#   PrometheusAction.java:19 is an UnprotectedRootAction, :49-52). The program sets neither, so
#   the NetworkPolicy below is what keeps the endpoint to the monitoring namespace.
PLUGINS = ("prometheus",)
METRICS_PATH = "/prometheus"
SERVICE_MONITOR_API_VERSION = "monitoring.coreos.com/v1"


def network_policy_spec(selector: dict, monitoring_namespace: str) -> dict:
    """8080 from the monitoring namespace only. NetworkPolicies are additive: this one opens that
    path beside the controller's own policy without touching it."""
    return {
        "podSelector": {"matchLabels": selector},
        "policyTypes": ["Ingress"],
        "ingress": [{
            "from": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: monitoring_namespace}}}],
            "ports": [{"protocol": "TCP", "port": defaults.HTTP_PORT}],
        }],
    }


def service_monitor_spec(service_monitor, namespace: str, service_selector: dict) -> dict:
    return {
        "selector": {"matchLabels": service_selector},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [{"port": "http", "path": METRICS_PATH, "interval": service_monitor.interval}],
    }


class ControllerMetrics(pulumi.ComponentResource):
    def __init__(self, name: str, *, metrics, namespace: pulumi.Input[str], pod_selector: dict,
                 service_selector: dict, service_namespace: str, network_policies: bool, k8s_provider: k8s.Provider,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("jenkins:index:ControllerMetrics", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=k8s_provider)
        if network_policies:
            k8s.networking.v1.NetworkPolicy(
                "metrics-ingress",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="jenkins-metrics", namespace=namespace,
                                                    labels=labels.common("metrics", "jenkins")),
                spec=network_policy_spec(pod_selector, metrics.monitoring_namespace),
                opts=child)
        else:
            pulumi.log.warn("metrics: networkPolicies is false, so every pod in the cluster can read "
                            f"{METRICS_PATH} without authentication", resource=self)
        if metrics.service_monitor is not None:
            pulumi.log.warn(
                f"metrics.serviceMonitor: needs the ServiceMonitor CRD ({SERVICE_MONITOR_API_VERSION}, from the "
                "Prometheus Operator) in the cluster; without it `pulumi up` fails on this resource", resource=self)
            k8s.apiextensions.CustomResource(
                "service-monitor",
                api_version=SERVICE_MONITOR_API_VERSION,
                kind="ServiceMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name="jenkins", namespace=namespace,
                    labels={**labels.common("metrics", "jenkins"), **metrics.service_monitor.labels}),
                spec=service_monitor_spec(metrics.service_monitor, service_namespace, service_selector),
                opts=child)
        self.register_outputs({})
