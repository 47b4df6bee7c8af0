"""Build pods hold no Kubernetes API credentials: only the controller, and only when the Kubernetes
plugin needs the API, mounts a service-account token."""
from __future__ import annotations

import pytest
import yaml

from tests.conftest import STACKS
from tests.helpers import casc, pod_templates


def kubernetes_plugin_pods(synthesis) -> list[tuple[str, dict]]:
    out = []
    for cloud in casc(synthesis)["jenkins"].get("clouds", []):
        for template in cloud.get("kubernetes", {}).get("templates", []):
            out.append((f"{cloud['kubernetes']['name']}/{template['name']}", yaml.safe_load(template["yaml"])))
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_plugin_agent_pods_mount_no_token(stack_syntheses, stack):
    pods = kubernetes_plugin_pods(stack_syntheses[stack])
    assert pods, f"{stack} has no Kubernetes-plugin template to check"
    for name, pod in pods:
        assert pod["spec"].get("automountServiceAccountToken") is False, name


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_controller_workload_may_mount_a_token(stack_syntheses, stack):
    for name, spec in pod_templates(stack_syntheses[stack]):
        if name == "StatefulSet/jenkins":
            continue
        assert spec.get("automountServiceAccountToken") is False, name
