"""Shared fixtures: run the real program under the harness with a stack file or a config dict."""
from __future__ import annotations

import copy
import gc
import json
import pickle
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from components import yaml_data
from tools.harness import ROOT, Synthesis, config_as_cli_passes_it, known_stacks, stack_file, synthesize

# Hypothesis draws the same examples on every run and machine, so CI and a laptop test the same
# configs and a failure reproduces; no example database is kept between runs.
settings.register_profile("project", derandomize=True, database=None)
settings.load_profile("project")

STACKS = known_stacks()


def stack_config(stack: str) -> dict:
    """The `config:` mapping of a stack file, as Python data (keys like 'jenkins:pools')."""
    return yaml_data.load(stack_file(stack).read_text())["config"]


# Renders by (stack, config, secret keys), pickled: many tests render the same small config, and the
# program gives the same resources for a given config (the mocks generate the same values every
# time). Each caller gets its own unpickled copy, so a test that edits its render cannot change
# another's. A test that monkeypatches (the program's code, most often) neither reads nor fills it.
_RENDERS: dict[str, bytes] = {}
_CACHE_RENDERS = [True]


@pytest.fixture(autouse=True)
def _no_shared_renders_under_monkeypatch(request):
    # pytest loads this file as a plugin and the tests import it as tests.conftest: two module
    # objects. The switch that counts is the one in the copy the tests call.
    from tests import conftest as imported

    imported._CACHE_RENDERS[0] = "monkeypatch" not in request.fixturenames
    yield
    imported._CACHE_RENDERS[0] = True


def synth_config(config: dict, stack: str = "test") -> Synthesis:
    """Synthesize the real program with this config mapping instead of a stack file."""
    values, secret_keys = config_as_cli_passes_it(copy.deepcopy(config))
    if not _CACHE_RENDERS[0]:
        return synthesize(stack, config=values, secret_keys=secret_keys)
    key = json.dumps([stack, values, sorted(secret_keys)], sort_keys=True)
    if key not in _RENDERS:
        _RENDERS[key] = pickle.dumps(synthesize(stack, config=values, secret_keys=secret_keys))
    return pickle.loads(_RENDERS[key])


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


# The files whose tests run longest (real scripts, pip installs, many renders), in that order: run
# first, so that the short files fill the other workers' time and no worker is left with a long
# file at the end. `--dist loadfile --no-loadscope-reorder` (scripts/test.sh) hands out files in
# collection order; without that flag xdist orders them by number of tests instead. Order within a
# file is unchanged. `python -m tools.bench --only suite` lists the slowest files.
LONGEST_FIRST = ("test_preview.py", "test_e2e_script.py", "test_pod_security_fixtures.py", "test_jcasc_conformance.py",
                 "test_policy_corpus.py", "test_diff.py", "test_up_script.py", "test_hostile_config.py",
                 "test_config_errors.py", "test_harness_engine_rules.py", "test_bench_smoke.py", "test_site.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), order[id(item)]))


def pytest_collection_finish(session):
    # Everything alive now (the SDKs, pydantic's schemas, the collected tests) lives for the whole
    # session: move it out of the collector's reach, so that the collections the renders trigger
    # scan only the objects tests make. Only what collecting costs changes, never what is collected.
    gc.collect()
    gc.freeze()
