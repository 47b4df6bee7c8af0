"""Facts about upstream images and tools that the program relies on, each with its source.

Tests compare the rendered program with these literals, so a version bump shows what to re-read.
"""
from __future__ import annotations

# docker-library/docker @3289af8, 29/cli/Dockerfile: the static CLI (:28-58) in /usr/local/bin, the buildx
# plugin (:99) and the compose plugin (:145) in /usr/local/libexec/docker/cli-plugins.
DOCKER_CLI_IMAGE = "docker:29.7.2-cli"
DOCKER_CLI_BINARY = "/usr/local/bin/docker"
DOCKER_CLI_PLUGINS = ("/usr/local/libexec/docker/cli-plugins/docker-buildx",
                      "/usr/local/libexec/docker/cli-plugins/docker-compose")
# docker/cli @f738c98, cli-plugins/manager/manager_unix.go:15-20: the fixed plugin directories the CLI
# searches after $DOCKER_CONFIG/cli-plugins.
DOCKER_CLI_SYSTEM_PLUGIN_DIRS = ("/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                                 "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")

# docker-library/docker @3289af8, 29/dind/dockerd-entrypoint.sh:102-131: with a first argument starting
# with '-', the entrypoint keeps its TLS flags and appends the arguments to dockerd.
# moby/moby @0e8eea5, daemon/daemon_unix.go setupDaemonRoot: the data root (`--data-root`, default
# /var/lib/docker) is chmod 0711 by root at every start.
DOCKERD_DEFAULT_DATA_ROOT = "/var/lib/docker"

# jenkinsci/docker-agent @b066c0a (newest stored; the agent image of the pinned release is built from it),
# debian/Dockerfile: user jenkins uid 1000 (:72-78), home /home/jenkins (:78, WORKDIR :124), curl and git
# installed (:88, :90), java in /opt/java/openjdk/bin (:114-116).
AGENT_IMAGE = "jenkins/agent:3385.vf1123fb_515da_-1-jdk21"
AGENT_UID = 1000
AGENT_HOME = "/home/jenkins"
AGENT_JAVA_BIN = "/opt/java/openjdk/bin"
AGENT_TOOLS = ("curl", "git", "java")

# moby/buildkit v0.32.2: the rootless image runs as 1000:1000 (Dockerfile:501) with XDG_RUNTIME_DIR
# /run/user/1000 (:504) and its state in /home/user/.local/share/buildkit (:507);
# examples/kubernetes/pod.rootless.yaml:10-11 (`--oci-worker-no-process-sandbox`, because Kubernetes has
# no systempaths=unconfined: docs/rootless.md:98-105), :28-37 (seccomp and AppArmor Unconfined, uid/gid
# 1000), :38-47 (an emptyDir on the state directory); docs/rootless.md:88-91 (unshare and mount need
# seccomp and AppArmor unconfined); examples/buildctl-daemonless/buildctl-daemonless.sh:14,33
# (BUILDKITD_FLAGS reach buildkitd, started through rootlesskit for a non-root user).
BUILDKIT_ROOTLESS_IMAGE = "moby/buildkit:v0.32.2-rootless"
BUILDKIT_UID = 1000
BUILDKIT_STATE_DIR = "/home/user/.local/share/buildkit"
BUILDKIT_FLAGS = "--oci-worker-no-process-sandbox"
BUILDKIT_PROFILES = {"seccompProfile": "Unconfined", "appArmorProfile": "Unconfined"}
