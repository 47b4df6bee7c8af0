"""Label keys the program, the policy pack and the docs agree on."""
from __future__ import annotations

NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
INSTANCE = "app.kubernetes.io/instance"
MANAGED_BY = "app.kubernetes.io/managed-by"
POOL = "jenkins-k8s.io/pool"
# Marks the pods that are allowed privilege, so a policy allow-list can name them.
DIND = "jenkins-k8s.io/dind"
DOCKER_SOCKET = "jenkins-k8s.io/docker-socket"

PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_WARN = "pod-security.kubernetes.io/warn"
PSA_AUDIT = "pod-security.kubernetes.io/audit"
PSA_VERSION = "v1.30"

NAMESPACE_NAME = "kubernetes.io/metadata.name"

# The controller's pods, as Services and NetworkPolicies select them.
CONTROLLER_SELECTOR = {NAME: "jenkins", COMPONENT: "controller"}


def common(component: str, instance: str) -> dict[str, str]:
    return {NAME: "jenkins", COMPONENT: component, INSTANCE: instance, MANAGED_BY: "pulumi"}


def pod_security(enforce: str, warn: str = "restricted") -> dict[str, str]:
    """PSA labels: enforce the level the namespace needs, warn and audit at restricted."""
    return {
        PSA_ENFORCE: enforce,
        f"{PSA_ENFORCE}-version": PSA_VERSION,
        PSA_WARN: warn,
        f"{PSA_WARN}-version": PSA_VERSION,
        PSA_AUDIT: warn,
        f"{PSA_AUDIT}-version": PSA_VERSION,
    }
