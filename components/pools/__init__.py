"""Registry of agent pool types: adding one is a new file here plus one line below."""
from __future__ import annotations

from .controller_executors import ControllerExecutorsPool, ControllerPoolConfig
from .docker_cloud import DockerCloudPool, DockerCloudPoolConfig
from .docker_cloud_dind import DockerCloudDindPool, DockerCloudDindPoolConfig
from .kubernetes import KubernetesPool, KubernetesPoolConfig
from .swarm import SwarmPool, SwarmPoolConfig
from .swarm_dind import SwarmDindPool, SwarmDindPoolConfig

# type name -> (config model, component)
POOL_TYPES = {
    "kubernetes": (KubernetesPoolConfig, KubernetesPool),
    "controller": (ControllerPoolConfig, ControllerExecutorsPool),
    "docker-cloud": (DockerCloudPoolConfig, DockerCloudPool),
    "docker-cloud-dind": (DockerCloudDindPoolConfig, DockerCloudDindPool),
    "swarm": (SwarmPoolConfig, SwarmPool),
    "swarm-dind": (SwarmDindPoolConfig, SwarmDindPool),
}

POOL_CONFIGS = tuple(config for config, _ in POOL_TYPES.values())
