"""Shared fixtures: run the real program under the harness with a stack file or a config dict."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from tools.harness import ROOT, Synthesis, config_as_cli_passes_it, known_stacks, stack_file, synthesize

# Hypothesis draws the same examples on every run and machine, so CI and a laptop test the same
# configs and a failure reproduces; no example database is kept between runs.
settings.register_profile("project", derandomize=True, database=None)
settings.load_profile("project")

STACKS = known_stacks()


def stack_config(stack: str) -> dict:
    """The `config:` mapping of a stack file, as Python data (keys like 'jenkins:pools')."""
    return yaml.safe_load(stack_file(stack).read_text())["config"]


def synth_config(config: dict, stack: str = "test") -> Synthesis:
    """Synthesize the real program with this config mapping instead of a stack file."""
    values, secret_keys = config_as_cli_passes_it(copy.deepcopy(config))
    return synthesize(stack, config=values, secret_keys=secret_keys)


def minimal_config(**overrides) -> dict:
    config = {"jenkins:environment": "test", "jenkins:namespace": "jenkins-test"}
    config.update({f"jenkins:{k}": v for k, v in overrides.items()})
    return config


@pytest.fixture(scope="session")
def stack_syntheses() -> dict[str, Synthesis]:
    return {stack: synthesize(stack) for stack in STACKS}


@pytest.fixture(scope="module")
def kubernetes_only():
    """Only a Kubernetes pool: the reference for what switching pool types must leave alone."""
    from tests.helpers import K8S_POOL, synth_pools

    return synth_pools(K8S_POOL)
