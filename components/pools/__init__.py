"""Registry of agent pool types: adding one is a new file here plus one line below."""
from __future__ import annotations

from .kubernetes import KubernetesPool, KubernetesPoolConfig
from .swarm import SwarmPool, SwarmPoolConfig

# type name -> (config model, component)
POOL_TYPES = {
    "kubernetes": (KubernetesPoolConfig, KubernetesPool),
    "swarm": (SwarmPoolConfig, SwarmPool),
}

POOL_CONFIGS = tuple(config for config, _ in POOL_TYPES.values())
