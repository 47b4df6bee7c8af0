"""Jenkins-specific rules: Docker socket, pinned images, resources, secret literals (resource
policies) and JENKINS_HOME protection, namespace Pod Security labels (stack policies)."""
from . import docker_socket, image_pinned, jenkins_home, namespace_pod_security, resources, secret_literals

POLICIES = (
    docker_socket.policy, image_pinned.policy, resources.policy, secret_literals.policy,
    jenkins_home.policy, namespace_pod_security.policy,
)
