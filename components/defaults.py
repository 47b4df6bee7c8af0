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
# Swarm client (and its jar download): the plain agent image of the inbound agent's release, so a
# default pool runs a normal pipeline: it has git and curl, java 21 in /opt/java/openjdk/bin, user
# jenkins (uid 1000) with HOME /home/jenkins. The swarm jar itself comes from the controller.
SWARM_CLIENT_IMAGE = AGENT_IMAGE
# Docker-in-Docker daemon; its TLS listener on 2376 is the only way in.
DIND_IMAGE = "docker:29.7.2-dind"
# Docker CLI copied into agents that drive a daemon (Docker Pipeline's `inside` needs the binary).
DOCKER_CLI_IMAGE = "docker:29.7.2-cli"
# Runs the JENKINS_HOME snapshot job: bash, kubectl and GNU coreutils on Debian, USER 1001,
# ENTRYPOINT kubectl (bitnami/containers@0a6dd9e0 bitnami/kubectl/1.33/debian-12/Dockerfile, the
# SHELL, USER and ENTRYPOINT lines; org.opencontainers.image.ref.name 1.33.1-debian-12-r2).
KUBECTL_IMAGE = "bitnami/kubectl:1.33.1-debian-12-r2"
KUBECTL_UID = 1001
# Rootless image builds in `kubernetes` pools with `builder: buildkit-rootless` (no privileged container).
ROOTLESS_BUILDER_IMAGE = "moby/buildkit:v0.32.2-rootless"

# Plugin versions live in the plugin lock (components/upstream/plugins.lock.yaml), not here.
# Every controller gets these: JCasC, users and permissions, pipelines, git, and instance-identity,
# because JCasC opens the TCP agent port and core's JNLP4 listener needs the identity key that
# plugin provides (jenkinsci/jenkins jenkins-2.568.2 core/src/main/java/jenkins/slaves/
# JnlpSlaveAgentProtocol4.java:86-92); core splits it out since 2.356 (jenkins/split-plugins.txt).
BASE_PLUGINS = ("configuration-as-code", "matrix-auth", "workflow-aggregator", "git", "credentials",
                "instance-identity")

CONTROLLER_RESOURCES = resources("500m", "2Gi", "2", "4Gi")
CONTROLLER_STORAGE = "20Gi"
AGENT_RESOURCES = resources("250m", "512Mi", "1", "1Gi")
DIND_RESOURCES = resources("500m", "1Gi", "2", "4Gi")
DIND_STORAGE = "50Gi"
# An image build (BuildKit) is as heavy as a daemon's work.
BUILDER_RESOURCES = resources("500m", "1Gi", "2", "4Gi")
# Small sidecar/init containers (plugin install, docker CLI copy).
HELPER_RESOURCES = resources("50m", "128Mi", "500m", "512Mi")
# jenkins-plugin-cli parses update-center.json and plugin-versions.json into memory before it
# downloads anything (plugin-installation-manager-tool 2.15.0 PluginManager.java:850-873); their
# size is not knowable offline, so the heap is set explicitly with room under the limit for the
# JVM's own memory. It only runs when the plugin list changed.
PLUGIN_INSTALL_JAVA_OPTS = "-Xmx1g"
PLUGIN_INSTALL_RESOURCES = resources("100m", "1536Mi", "1", "1536Mi")

HTTP_PORT = 8080
# Jenkins' TCP agent listener, off: every connector here speaks WebSocket over HTTP_PORT.
# jenkinsci/jenkins jenkins-2.568.2 (41a9ef0) core/src/main/java/jenkins/model/Jenkins.java:648-652
# ("0 for random, -1 to disable"; the field defaults to 0, a random port, when nothing sets it)
# and :1251-1261 (launchTcpSlaveAgentListener opens no socket for -1).
AGENT_LISTENER_DISABLED = -1
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
