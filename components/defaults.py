"""Every default in one place: images, plugin versions, sizes, probes. Each is pinned, each says why."""
from __future__ import annotations

from .config_types import resources

# Controller image: the LTS line on JDK 21, so controller and agents share one Java release.
JENKINS_IMAGE = "jenkins/jenkins:2.568.2-jdk21"
# Inbound (WebSocket/JNLP) agent for Kubernetes-plugin pods; same JDK as the controller.
INBOUND_AGENT_IMAGE = "jenkins/inbound-agent:3385.vf1123fb_515da_-1-jdk21"
# Plain agent image (java, no entrypoint) for the Docker plugin's attach connector; same release as
# the inbound agent (both are built from jenkinsci/docker-agent).
AGENT_IMAGE = "jenkins/agent:3385.vf1123fb_515da_-1-jdk21"
# SSH agent for the Docker plugin's ssh connector (injectSSHKey needs sshd in the image).
SSH_AGENT_IMAGE = "jenkins/ssh-agent:8.9.0-jdk21"
# Plain JDK 21 image for the swarm client: the jar itself comes from the controller.
SWARM_CLIENT_IMAGE = "eclipse-temurin:21.0.8_9-jre"
# Docker-in-Docker daemon; its TLS listener on 2376 is the only way in.
DIND_IMAGE = "docker:29.7.2-dind"
# Docker CLI copied into agents that drive a daemon (Docker Pipeline's `inside` needs the binary).
DOCKER_CLI_IMAGE = "docker:29.7.2-cli"
# Rootless image builds where privileged pods are forbidden.
ROOTLESS_BUILDER_IMAGE = "moby/buildkit:v0.32.2-rootless"

# Pinned plugin versions, as the Jenkins plugin BOM (jenkinsci/bom, 2026-08) manages them for the
# 2.568.x LTS line: jenkins-plugin-cli installs exactly these, so a start-up never depends
# on what the update centre serves that day. Pools add to this set by id; the version lives here.
PLUGIN_VERSIONS: dict[str, str] = {
    "configuration-as-code": "2117.vc05a_0b_e6b_f4e",
    "matrix-auth": "3.3",
    "workflow-aggregator": "608.v67378e9d3db_1",
    "git": "5.10.1",
    "credentials": "1511.v2e3cb_0008ef0",
    "instance-identity": "203.v15e81a_1b_7a_38",
    "kubernetes": "4547.v52f3080db_8cd",
    "kubernetes-credentials-provider": "1.315.v92008589c044",
    "swarm": "1258.vda_14ddda_0613",
    "docker-plugin": "1327.v9524f1ee134e",
    "docker-workflow": "653.v2f2c08eff0ec",
    "docker-commons": "477.v289085a_b_6896",
    "ssh-slaves": "3.1097.v868116049892",
}

# Every controller gets these: JCasC, users and permissions, pipelines, git.
BASE_PLUGINS = ("configuration-as-code", "matrix-auth", "workflow-aggregator", "git", "credentials")

CONTROLLER_RESOURCES = resources("500m", "2Gi", "2", "4Gi")
CONTROLLER_STORAGE = "20Gi"
AGENT_RESOURCES = resources("250m", "512Mi", "1", "1Gi")
DIND_RESOURCES = resources("500m", "1Gi", "2", "4Gi")
DIND_STORAGE = "50Gi"
# Small sidecar/init containers (plugin install, docker CLI copy).
HELPER_RESOURCES = resources("50m", "128Mi", "500m", "512Mi")

HTTP_PORT = 8080
AGENT_PORT = 50000
DIND_PORT = 2376
DOCKER_HOST_TCP_PORT = 2375

# Probes on /login, as the upstream chart hardened them: a slow first start (plugins, JCasC) is
# covered by the startup probe so liveness can stay strict afterwards.
STARTUP_PROBE = {"httpGet": {"path": "/login", "port": "http"}, "periodSeconds": 10,
                 "timeoutSeconds": 5, "failureThreshold": 30}
LIVENESS_PROBE = {"httpGet": {"path": "/login", "port": "http"}, "periodSeconds": 10,
                  "timeoutSeconds": 5, "failureThreshold": 5}
READINESS_PROBE = {"httpGet": {"path": "/login", "port": "http"}, "periodSeconds": 10,
                   "timeoutSeconds": 5, "failureThreshold": 3}

# The jenkins user of the official images.
JENKINS_UID = 1000
JENKINS_HOME = "/var/jenkins_home"
# JCasC resolves ${name} from files in this directory (the SECRETS variable).
SECRETS_DIR = "/run/secrets/jenkins"
CASC_DIR = "/var/jenkins_home/casc_configs"
AGENT_WORKDIR = "/home/jenkins/agent"
