"""Renders of the real program that several tests (and test files) read, made once per test
process. A shared render is read, never changed."""
from __future__ import annotations

import json

from tests.conftest import synth_config
from tools.harness import Synthesis

_RENDERS: dict[str, Synthesis] = {}


def shared_render(config: dict) -> Synthesis:
    """synth_config(config), rendered the first time this config is asked for."""
    key = json.dumps(config, sort_keys=True)
    if key not in _RENDERS:
        _RENDERS[key] = synth_config(config)
    return _RENDERS[key]
