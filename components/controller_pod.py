"""Pure builders for the controller: pool needs folded into one, the JCasC document, the files the
controller reads, and its pod template. The component in controller.py only registers resources."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import pulumi

from . import defaults, jcasc, jcasc_fragments, labels, scheduling, seed_jobs
from .endpoints import Endpoints
from .plugin_install import CACHE_DIR, controller_plugin_mounts, init_container, stack_plugins
from .plugin_lock import PluginLock, plugins_txt
from .pod_security import restricted_container_context, restricted_pod_context
from .pools.base import ControllerNeeds, SecretFile, combine
from .security import authorization_entries, realm_document
from .security_config import SecurityConfig
from .site import Site

CASC_CONFIG_MAP = "jenkins-casc"
# JCasC roots provided by a plugin outside the base set (job-dsl SeedJobConfigurator.java:36-37).
ROOT_PLUGINS = {"jobs": seed_jobs.PLUGIN}
SELECTOR = dict(labels.CONTROLLER_SELECTOR)


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
                              merged: MergedNeeds, *, pool_names: Sequence[str] = (),
                              user_fragments: Mapping[str, Any] = {}, jobs: Sequence = (),
                              security: Optional[SecurityConfig] = None,
                              other_owners: Sequence[str] = (), site: Site = Site()) -> jcasc.MergedDocument:
    """The controller's own JCasC (sign-in realm and matrix from `security`), then every pool's
    fragment in pool order, then the other needs' (credentials) named by `other_owners`, the site's
    proxy, the seed jobs, then the user's `jenkins:jcasc` fragments in the order given; each key remembers who set it."""
    security = security or SecurityConfig()
    pool_owners = [f"pool {name}" for name in pool_names] or [
        f"pool {i}" for i in range(len(merged.fragments) - len(other_owners))]
    return jcasc.merge_owned(
        jcasc.Owned("controller", jcasc.controller_document(
            security_realm=realm_document(security, admin_user=controller.admin_user,
                                          admin_password_ref=jcasc.secret_ref(admin_password_file.file_name)),
            authorization_entries=authorization_entries(security, admin_user=controller.admin_user),
            url=endpoints.url,
            system_message=controller.system_message,
            executors=merged.executors,
            labels=merged.labels,
        )),
        [*(jcasc.Owned(owner, fragment) for owner, fragment in zip([*pool_owners, *other_owners], merged.fragments,
                                                                   strict=True)),
         jcasc.Owned("jenkins:proxy", site.controller_jcasc()),
         jcasc.Owned(seed_jobs.OWNER, seed_jobs.jobs_fragment(jobs)),
         *(jcasc.Owned(jcasc_fragments.owner(name), fragment.config) for name, fragment in user_fragments.items())],
    )


def document_plugins(document: Mapping[str, Any]) -> tuple[str, ...]:
    """Plugins a JCasC root needs whoever wrote it: without job-dsl, a `jobs:` root is an unknown
    root and JCasC stops Jenkins at boot."""
    return tuple(plugin for root, plugin in ROOT_PLUGINS.items() if root in document)


def java_opts(extra: Sequence[str]) -> str:
    return " ".join([
        "-Djenkins.install.runSetupWizard=false",
        # JCasC's slaveAgentPort: -1 is applied inside the init reactor, before the constructor opens
        # the listener (jenkinsci/jenkins jenkins-2.568.2 Jenkins.java:985-989 then :1008; JCasC 2117
        # ConfigurationAsCode.java:386 runs after SYSTEM_CONFIG_LOADED). This property makes -1 the
        # starting value as well (Jenkins.java:652-655), so no JCasC gap reopens the port the image
        # would otherwise give it: 50000 from JENKINS_SLAVE_AGENT_PORT, unless JAVA_OPTS names the
        # property (jenkinsci/docker 2.568.2 (53f5d61) jenkins.sh:33-36, debian/Dockerfile:98,103).
        f"-Djenkins.model.Jenkins.slaveAgentPort={defaults.AGENT_LISTENER_DISABLED}",
        "-XX:+UseContainerSupport",
        "-XX:MaxRAMPercentage=75.0",
        *extra,
    ])


@dataclass(frozen=True)
class ControllerFiles:
    """What the ConfigMap holds; its checksum rolls the pod when either file changes."""

    casc_yaml: str
    plugin_list: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256((self.casc_yaml + self.plugin_list).encode()).hexdigest()


def controller_files(document: dict, merged: MergedNeeds, controller, lock: PluginLock,
                     extra_plugins: Sequence[str] = ()) -> ControllerFiles:
    """`extra_plugins`: what the controller's own features (metrics) need beside the pools."""
    versions = stack_plugins(lock, (*merged.plugins, *document_plugins(document), *extra_plugins),
                             controller.extra_plugins)
    return ControllerFiles(casc_yaml=jcasc.to_yaml(document), plugin_list=plugins_txt(versions))


def pod_volumes(secret_files: Sequence[SecretFile], merged: MergedNeeds, claim_name: str = "jenkins-home") -> list[dict]:
    secret_sources: dict[str, list[dict]] = {}
    for secret_file in (*secret_files, *merged.secret_files):
        secret_sources.setdefault(secret_file.secret_name, []).append(
            {"key": secret_file.key, "path": secret_file.file_name})
    return [
        {"name": "jenkins-home", "persistentVolumeClaim": {"claimName": claim_name}},
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


def jenkins_container(controller, merged: MergedNeeds) -> dict:
    return {
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
        "ports": [{"name": "http", "containerPort": defaults.HTTP_PORT}],
        "startupProbe": defaults.STARTUP_PROBE,
        "livenessProbe": defaults.LIVENESS_PROBE,
        "readinessProbe": defaults.READINESS_PROBE,
        "resources": controller.resources.as_kubernetes(),
        "securityContext": restricted_container_context(),
        "volumeMounts": [
            {"name": "jenkins-home", "mountPath": defaults.JENKINS_HOME},
            {"name": "casc", "mountPath": defaults.CASC_DIR, "readOnly": True},
            {"name": "secrets", "mountPath": defaults.SECRETS_DIR, "readOnly": True},
            *controller_plugin_mounts(controller.plugins.source),
            {"name": "cache", "mountPath": CACHE_DIR},
            {"name": "tmp", "mountPath": "/tmp"},
            *merged.volume_mounts,
        ],
    }


def uses_kubernetes_api(merged: MergedNeeds) -> bool:
    return "kubernetes" in merged.plugins


def pod_template(controller, merged: MergedNeeds, files: ControllerFiles, secret_files: Sequence[SecretFile],
                 service_account_name: Any, claim_name: str = "jenkins-home", site: Site = Site()) -> dict:
    """The controller pod: the plugin init container first, then the pools' own, then Jenkins; the
    site's CA truststore (keytool from the controller image) before them all."""
    template = {
        "metadata": {"labels": {**labels.common("controller", "jenkins"), **merged.pod_labels},
                     "annotations": {"jenkins-k8s.io/config-checksum": files.checksum}},
        "spec": scheduling.apply({
            "serviceAccountName": service_account_name,
            "automountServiceAccountToken": uses_kubernetes_api(merged),
            "enableServiceLinks": False,
            "securityContext": restricted_pod_context(supplemental_groups=merged.supplemental_groups),
            "initContainers": [init_container(controller.plugins.source, controller.image, files.plugin_list,
                                              site.plugin_cli_options),
                               *merged.init_containers],
            "containers": [jenkins_container(controller, merged)],
            "volumes": pod_volumes(secret_files, merged, claim_name),
        }, controller.scheduling, own_labels=SELECTOR),
    }
    template["spec"] = site.pod_spec(template["spec"], truststore_image=controller.image)
    return template
