"""JENKINS_HOME adoption, restore from a snapshot, scheduled snapshots, and Prometheus metrics, read
from what the program renders."""
from __future__ import annotations

import pytest

from tests.conftest import minimal_config, synth_config
from tests.helpers import K8S_POOL, controller_pod, plugins
from tests.stack_checks import checked
from tools.check import custom_resources, schema_problems, summary_line

BACKUP = {"schedule": "0 2 * * *", "volumeSnapshotClassName": "csi-snap", "retention": 5}


def synth(**overrides):
    """The render of a Kubernetes pool with these settings (several tests read the same render)."""
    synthesis = synth_config(minimal_config(pools=[K8S_POOL], **overrides))
    assert synthesis.ok, synthesis.error
    return synthesis


def fails(**overrides) -> str:
    synthesis = synth_config(minimal_config(pools=[K8S_POOL], **overrides))
    assert not synthesis.ok
    return synthesis.error


def kinds(synthesis, kind):
    return [m for m in synthesis.manifests(redacted=False) if m["kind"] == kind]


def home_volume(synthesis) -> dict:
    return next(v for v in controller_pod(synthesis)["spec"]["volumes"] if v["name"] == "jenkins-home")


# ------------------------------------------------------------------ existingClaim, restoreFrom

def test_existing_claim_is_mounted_and_no_claim_is_created():
    synthesis = synth(controller={"storage": {"existingClaim": "jenkins"}})
    assert home_volume(synthesis) == {"name": "jenkins-home", "persistentVolumeClaim": {"claimName": "jenkins"}}
    assert kinds(synthesis, "PersistentVolumeClaim") == []
    assert schema_problems(synthesis) == []


def test_default_claim_keeps_its_logical_name_and_protection():
    synthesis = synth()
    record = synthesis.find(":PersistentVolumeClaim", "jenkins-home")
    assert record.protect and record.retain_on_delete
    assert home_volume(synthesis)["persistentVolumeClaim"] == {"claimName": "jenkins-home"}
    assert "dataSource" not in record.inputs["spec"]


@pytest.mark.parametrize("extra, named", [({"size": "5Gi"}, "size"),
                                          ({"storageClassName": "fast"}, "storageClassName"),
                                          ({"restoreFrom": {"volumeSnapshotName": "s1"}}, "restoreFrom")])
def test_existing_claim_refuses_what_only_a_created_claim_has(extra, named):
    error = fails(controller={"storage": {"existingClaim": "jenkins", **extra}})
    assert error.startswith("jenkins:controller.storage: existingClaim mounts a claim the program does not create; "
                            f"remove {named}"), error


def test_existing_claim_must_be_a_kubernetes_name():
    assert "jenkins:controller.storage.existingClaim:" in fails(controller={"storage": {"existingClaim": "Bad_Name"}})


def test_restore_creates_the_protected_claim_from_the_snapshot():
    synthesis = synth(controller={"storage": {"restoreFrom": {"volumeSnapshotName": "jenkins-home-20260101-020000"}}})
    record = synthesis.find(":PersistentVolumeClaim", "jenkins-home")
    assert record.urn.endswith("$kubernetes:core/v1:PersistentVolumeClaim::jenkins-home")
    assert record.protect
    assert record.inputs["spec"]["dataSource"] == {
        "apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "jenkins-home-20260101-020000"}
    assert schema_problems(synthesis) == []


# ------------------------------------------------------------------ backup

def test_backup_cron_job_snapshots_the_claim_with_the_class_and_retention():
    synthesis = synth(controller={"backup": BACKUP})
    [cron] = kinds(synthesis, "CronJob")
    assert cron["metadata"]["namespace"] == "jenkins-test"
    assert cron["spec"]["schedule"] == "0 2 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["CLAIM"] == "jenkins-home" and env["SNAPSHOT_CLASS"] == "csi-snap" and env["KEEP"] == "5"
    script = container["command"][-1]
    assert "kind: VolumeSnapshot" in script and "apiVersion: snapshot.storage.k8s.io/v1" in script
    assert "persistentVolumeClaimName: \"$CLAIM\"" in script
    assert "kubectl delete" in script and 'head -n "-$KEEP"' in script
    assert container["image"] == "bitnami/kubectl:1.33.1-debian-12-r2"
    assert pod["serviceAccountName"] == "jenkins-home-backup"
    assert schema_problems(synthesis) == []


def test_backup_snapshots_the_adopted_claim():
    synthesis = synth(controller={"backup": BACKUP, "storage": {"existingClaim": "jenkins"}})
    [cron] = kinds(synthesis, "CronJob")
    env = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "CLAIM", "value": "jenkins"} in env


def test_backup_runs_restricted_as_the_images_user():
    pod = kinds(synth(controller={"backup": BACKUP}), "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    # bitnami/kubectl's Dockerfile: USER 1001.
    assert pod["securityContext"]["runAsUser"] == 1001 and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = pod["containers"][0]["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert {"name": "HOME", "value": "/tmp"} in pod["containers"][0]["env"]
    assert {"name": "tmp", "mountPath": "/tmp"} in pod["containers"][0]["volumeMounts"]


def test_backup_role_may_only_create_list_and_delete_volume_snapshots():
    synthesis = synth(controller={"backup": BACKUP})
    [role] = [r for r in kinds(synthesis, "Role") if r["metadata"]["name"] == "jenkins-home-backup"]
    assert role["rules"] == [{"apiGroups": ["snapshot.storage.k8s.io"], "resources": ["volumesnapshots"],
                              "verbs": ["create", "list", "delete"]}]
    [binding] = [b for b in kinds(synthesis, "RoleBinding") if b["metadata"]["name"] == "jenkins-home-backup"]
    assert binding["roleRef"]["name"] == "jenkins-home-backup"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "jenkins-home-backup",
                                    "namespace": "jenkins-test"}]


def test_backup_warns_that_the_snapshot_crds_must_exist():
    synthesis = synth(controller={"backup": BACKUP})
    assert any("VolumeSnapshots" in w and "csi-snap" in w for w in synthesis.warnings), synthesis.warnings
    assert not any("VolumeSnapshot" in w for w in synth().warnings)


@pytest.mark.parametrize("backup, key", [({**BACKUP, "schedule": "daily"}, "schedule"),
                                         ({**BACKUP, "retention": 0}, "retention"),
                                         ({"schedule": "0 2 * * *"}, "volumeSnapshotClassName")])
def test_bad_backup_config_names_the_key(backup, key):
    assert f"jenkins:controller.backup.{key}:" in fails(controller={"backup": backup})


# ------------------------------------------------------------------ metrics

def test_metrics_installs_the_locked_prometheus_plugin_and_its_dependencies():
    synthesis = synth(metrics={"monitoringNamespace": "monitoring"})
    text = synthesis.find(":ConfigMap", "casc").inputs["data"]["plugins.txt"]
    assert "prometheus:860.v532442b_44e9a_" in text.splitlines()
    assert {"junit", "pipeline-rest-api", "metrics", "echarts-api"} <= plugins(synthesis)
    assert "prometheus" not in plugins(synth())


def test_metrics_opens_8080_to_the_monitoring_namespace_only():
    synthesis = synth(metrics={"monitoringNamespace": "monitoring"})
    [policy] = [p for p in kinds(synthesis, "NetworkPolicy") if p["metadata"]["name"] == "jenkins-metrics"]
    assert policy["metadata"]["namespace"] == "jenkins-test"
    assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "jenkins",
                                                             "app.kubernetes.io/component": "controller"}}
    assert policy["spec"]["ingress"] == [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"protocol": "TCP", "port": 8080}]}]


def test_metrics_without_network_policies_warns_that_the_endpoint_is_open():
    synthesis = synth(metrics={"monitoringNamespace": "monitoring"}, networkPolicies=False)
    assert not [p for p in kinds(synthesis, "NetworkPolicy") if p["metadata"]["name"] == "jenkins-metrics"]
    assert any("/prometheus" in w and "without authentication" in w for w in synthesis.warnings)


def test_service_monitor_scrapes_the_http_port_at_the_plugins_path():
    synthesis = synth(metrics={"monitoringNamespace": "monitoring",
                               "serviceMonitor": {"interval": "1m", "labels": {"release": "prom"}}})
    [monitor] = kinds(synthesis, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    # PrometheusConfiguration.java: DEFAULT_ENDPOINT "prometheus".
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/prometheus", "interval": "1m"}]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["jenkins-test"]}
    [service] = [s for s in kinds(synthesis, "Service") if s["metadata"]["name"] == "jenkins"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert any("ServiceMonitor CRD" in w for w in synthesis.warnings)
    assert custom_resources(synthesis) == ["ServiceMonitor jenkins-test/jenkins"]
    assert schema_problems(synthesis) == []


def test_no_service_monitor_unless_asked():
    assert kinds(synth(metrics={"monitoringNamespace": "monitoring"}), "ServiceMonitor") == []


def test_prod_check_passes_and_says_what_it_did_not_schema_check():
    report = checked("prod")
    assert report.ok, report.problems
    assert report.not_schema_checked == ["ServiceMonitor jenkins/jenkins"]
    assert "(1 custom resource not schema-checked, their schema is the CRD's in the cluster: " \
           "ServiceMonitor jenkins/jenkins)" in summary_line(report)
    assert [m for m in report.warnings if "VolumeSnapshots" in m]


# ------------------------------------------------------------------ the backup script, run

FAKE_KUBECTL = """#!/bin/bash
echo "kubectl $*" >> "$LOG"
case "$1" in
  create) cat >> "$LOG" ;;
  get) printf '%s\\n' $SNAPSHOTS ;;
esac
"""


def run_backup_script(tmp_path, snapshots: list[str], keep: int):
    import subprocess

    synthesis = synth(controller={"backup": {**BACKUP, "retention": keep}})
    [container] = kinds(synthesis, "CronJob")[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    fake = tmp_path / "kubectl"
    fake.write_text(FAKE_KUBECTL)
    fake.chmod(0o755)
    log = tmp_path / "log"
    env = {e["name"]: e["value"] for e in container["env"]}
    env.update(PATH=f"{tmp_path}:/usr/bin:/bin", LOG=str(log), SNAPSHOTS=" ".join(snapshots))
    result = subprocess.run(container["command"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return log.read_text()


def test_backup_script_creates_one_snapshot_then_deletes_all_but_the_newest(tmp_path):
    listed = [f"volumesnapshot.snapshot.storage.k8s.io/jenkins-home-2026010{i}-020000" for i in range(1, 8)]
    log = run_backup_script(tmp_path, listed, keep=5)
    assert "kubectl create -f -" in log
    assert "kind: VolumeSnapshot" in log and 'persistentVolumeClaimName: "jenkins-home"' in log
    assert 'volumeSnapshotClassName: "csi-snap"' in log
    assert 'jenkins-k8s.io/backup: "jenkins-home-backup"' in log
    assert ("kubectl get volumesnapshots.snapshot.storage.k8s.io -l jenkins-k8s.io/backup=jenkins-home-backup "
            "--sort-by=.metadata.creationTimestamp -o name") in log
    deletes = [line for line in log.splitlines() if line.startswith("kubectl delete")]
    assert deletes == [f"kubectl delete {listed[0]} {listed[1]}"]


def test_backup_script_deletes_nothing_within_retention(tmp_path):
    log = run_backup_script(tmp_path, ["volumesnapshot.snapshot.storage.k8s.io/a"], keep=5)
    assert "kubectl delete" not in log
