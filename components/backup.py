"""Scheduled VolumeSnapshots of JENKINS_HOME: a CronJob whose ServiceAccount may only create, list
and delete VolumeSnapshots in the controller's namespace. Builders are pure; the component registers."""
from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from . import defaults, labels
from .pod_security import restricted_container_context, restricted_pod_context
from .site import Site

# snapshot.storage.k8s.io/v1 VolumeSnapshot: spec.source.persistentVolumeClaimName (same namespace)
# and spec.volumeSnapshotClassName (kubernetes-csi/external-snapshotter@06266730
# client/apis/volumesnapshot/v1/types.go, VolumeSnapshotSpec and VolumeSnapshotSource).
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
SNAPSHOT_API_VERSION = f"{SNAPSHOT_GROUP}/v1"
# Marks the snapshots this job made: pruning deletes only those.
BACKUP_LABEL = "jenkins-k8s.io/backup"
# What the script does with kubectl: create (kubectl create -f), list (kubectl get -l), delete.
VERBS = ("create", "list", "delete")
NAME = "jenkins-home-backup"

SCRIPT = f"""set -euo pipefail
name="jenkins-home-$(date -u +%Y%m%d-%H%M%S)"
kubectl create -f - <<MANIFEST
apiVersion: {SNAPSHOT_API_VERSION}
kind: VolumeSnapshot
metadata:
  name: $name
  labels:
    {BACKUP_LABEL}: "$BACKUP_ID"
spec:
  volumeSnapshotClassName: "$SNAPSHOT_CLASS"
  source:
    persistentVolumeClaimName: "$CLAIM"
MANIFEST
kubectl get volumesnapshots.{SNAPSHOT_GROUP} -l "{BACKUP_LABEL}=$BACKUP_ID" \\
  --sort-by=.metadata.creationTimestamp -o name \\
  | head -n "-$KEEP" | xargs --no-run-if-empty kubectl delete
"""


def role_rules() -> list[dict]:
    return [{"apiGroups": [SNAPSHOT_GROUP], "resources": ["volumesnapshots"], "verbs": list(VERBS)}]


def job_pod_spec(backup, claim_name: str, backup_id: str, service_account: str) -> dict:
    return {
        "serviceAccountName": service_account,
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "securityContext": restricted_pod_context(uid=defaults.KUBECTL_UID),
        "containers": [{
            "name": "snapshot",
            "image": backup.image,
            "command": ["/bin/bash", "-c", SCRIPT],
            "env": [
                {"name": "CLAIM", "value": claim_name},
                {"name": "SNAPSHOT_CLASS", "value": backup.volume_snapshot_class_name},
                {"name": "KEEP", "value": str(backup.retention)},
                {"name": "BACKUP_ID", "value": backup_id},
                # kubectl keeps its discovery cache under $HOME/.kube: the only writable place is /tmp.
                {"name": "HOME", "value": "/tmp"},
            ],
            "resources": defaults.HELPER_RESOURCES.as_kubernetes(),
            "securityContext": restricted_container_context(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }


def cron_job_spec(backup, claim_name: str, backup_id: str, service_account: str, site: Site = Site()) -> dict:
    return {
        "schedule": backup.schedule,
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {"spec": {
            "backoffLimit": 2,
            "template": {
                "metadata": {"labels": labels.common("backup", "jenkins")},
                # kubectl needs no truststore: it trusts the API server through its ServiceAccount's CA.
                "spec": site.pod_spec(job_pod_spec(backup, claim_name, backup_id, service_account),
                                      truststore_image=None),
            },
        }},
    }


class JenkinsHomeBackup(pulumi.ComponentResource):
    """ServiceAccount, Role, RoleBinding and the CronJob that snapshots JENKINS_HOME."""

    def __init__(self, name: str, *, backup, namespace: pulumi.Input[str], claim_name: str,
                 k8s_provider: k8s.Provider, site: Site = Site(), opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("jenkins:index:JenkinsHomeBackup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=k8s_provider)

        def meta() -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=namespace, labels=labels.common("backup", "jenkins"))

        pulumi.log.warn(
            f"controller.backup: the CronJob creates {SNAPSHOT_API_VERSION} VolumeSnapshots at run time; the "
            f"cluster needs the snapshot CRDs, a snapshot controller and the VolumeSnapshotClass "
            f"'{backup.volume_snapshot_class_name}', which this program cannot check before the first run",
            resource=self)
        account = k8s.core.v1.ServiceAccount("backup-account", metadata=meta(),
                                             automount_service_account_token=True, opts=child)
        role = k8s.rbac.v1.Role("backup-role", metadata=meta(), rules=role_rules(), opts=child)
        k8s.rbac.v1.RoleBinding(
            "backup-binding", metadata=meta(),
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata.name},
            subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": namespace}],
            opts=child)
        k8s.batch.v1.CronJob(
            "backup", metadata=meta(),
            spec=cron_job_spec(backup, claim_name, NAME, account.metadata.name, site),
            opts=child)
        self.register_outputs({})
