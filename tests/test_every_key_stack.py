"""One stack that uses every production key at once (placement and disruption budgets, private
registry, pull secrets, plugin mirror, CA bundle, proxy, exposure with cert-manager and a public URL,
backups, restore, metrics, rich pod templates) renders, is schema-valid on both Kubernetes versions,
passes the real policy pack with its environment's config, and really carries each key. The keys
interact (every image under the registry, proxy variables next to template env, placement on
every workload), which separate tests cannot show."""
from __future__ import annotations

import copy

import pytest
import yaml

from tests.conftest import ROOT
from tests.helpers import casc, containers, pod_templates
from tests.policy_pack import shared_pack
from tests.test_placement import PLACED
from tests.test_pod_templates import PLAIN, RICH
from tests.test_site import PREFIX, site_config
from tools.check import policy_resources, schema_problems
from tools.harness import config_as_cli_passes_it, synthesize

POOLS = [
    {"name": "onctl", "type": "controller", "labels": ["controller"]},
    {"name": "dcd", "type": "docker-cloud-dind", "scheduling": PLACED, "disruptionBudget": {"maxUnavailable": 1},
     "templates": [{"name": "attach", "labels": ["dind-attach"]}]},
    {"name": "swarm", "type": "swarm", "labels": ["swarm"], "scheduling": PLACED},
    {"name": "sdind", "type": "swarm-dind", "labels": ["swarm-docker"], "scheduling": PLACED},
    {"name": "k8s", "type": "kubernetes", "scheduling": PLACED,
     "templates": [{**copy.deepcopy(RICH), "jnlpImage": f"{PREFIX}/jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21"},
                   PLAIN]},
]
EVERY_KEY = {
    "controller": {
        "scheduling": {"nodeSelector": {"jenkins": "controller"}, "priorityClassName": "jenkins-controller"},
        "disruptionBudget": {"maxUnavailable": 0},
        "storage": {"restoreFrom": {"volumeSnapshotName": "jenkins-home-20261101"}},
        "backup": {"schedule": "0 2 * * *", "volumeSnapshotClassName": "csi-snap", "retention": 5},
    },
    "exposure": {"url": "https://ci.example.org/",
                 "ingress": {"host": "ci.example.org", "tls": "cert-manager",
                             "issuer": {"kind": "ClusterIssuer", "name": "letsencrypt-prod"},
                             "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "50m"}}},
    "metrics": {"monitoringNamespace": "monitoring", "serviceMonitor": {"interval": "1m"}},
}


@pytest.fixture(scope="module")
def synthesis():
    config = site_config()
    config["jenkins:pools"] = POOLS
    config.update({f"jenkins:{k}": v for k, v in EVERY_KEY.items()})
    values, secret_keys = config_as_cli_passes_it(config)
    result = synthesize("every", config=values, secret_keys=secret_keys)
    assert result.ok, result.error
    return result


def test_the_stack_is_schema_valid_on_both_kubernetes_versions(synthesis):
    assert schema_problems(synthesis) == []


def test_the_stack_passes_the_policy_pack_of_its_environment(request, synthesis):
    violations = shared_pack(request).check(policy_resources(synthesis), ROOT / "policy" / "config" / "dev.json")
    assert [v.message for v in violations if v.enforcement_level == "mandatory"] == []


def test_every_key_reaches_the_rendered_objects(synthesis):
    kinds = {(r.inputs["kind"], r.inputs["metadata"]["name"]) for r in synthesis.kubernetes_objects()}
    assert {("PodDisruptionBudget", "jenkins"), ("CronJob", "jenkins-home-backup"),
            ("ServiceMonitor", "jenkins"), ("NetworkPolicy", "jenkins-metrics")} <= kinds
    claim = synthesis.find(":PersistentVolumeClaim", "jenkins-home").inputs
    assert claim["spec"]["dataSource"]["name"] == "jenkins-home-20261101"
    ingress = synthesis.find(":Ingress", "ingress").inputs
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert casc(synthesis)["unclassified"]["location"]["url"] == "https://ci.example.org/"
    workloads = dict(pod_templates(synthesis))
    assert workloads["StatefulSet/jenkins"]["priorityClassName"] == "jenkins-controller"
    for name, spec in workloads.items():
        assert {"name": "corp-pull"} in spec.get("imagePullSecrets", []), name
        for container in containers(spec):
            assert container["image"].startswith(PREFIX + "/"), (name, container["name"], container["image"])
            env = {e["name"] for e in container.get("env", [])}
            assert {"HTTPS_PROXY", "NO_PROXY"} <= env, (name, container["name"])


def test_kubernetes_plugin_pods_carry_placement_registry_and_template_keys(synthesis):
    cloud = next(c["kubernetes"] for c in casc(synthesis)["jenkins"]["clouds"] if "kubernetes" in c)
    rich = next(t for t in cloud["templates"] if t["name"] == "rich")
    pod = yaml.safe_load(rich["yaml"])
    assert pod["spec"]["priorityClassName"] == "jenkins-agents"
    assert pod["spec"]["serviceAccountName"] == "deployer"
    assert all(c["image"].startswith(PREFIX + "/") for c in pod["spec"]["containers"])
    assert rich["workspaceVolume"]

