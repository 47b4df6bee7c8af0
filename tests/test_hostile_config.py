"""Property-based: generated invalid configs are refused cleanly; generated valid ones render valid."""
from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from components.config import ConfigError, parse_stack_config
from components.jcasc_conformance import problems as jcasc_problems
from tests.conftest import synth_config
from tests.helpers import casc
from tools.check import schema_problems

POOL = {"name": "k8s", "type": "kubernetes",
        "templates": [{"name": "default", "labels": ["linux"],
                       "agentResources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                                          "limits": {"cpu": "1", "memory": "1Gi"}}}]}
BASE = {
    "environment": "test",
    "namespace": "jenkins-test",
    "controller": {"storage": {"size": "10Gi", "protect": True},
                   "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                 "limits": {"cpu": "1", "memory": "2Gi"}}},
    "exposure": {"ingress": {"host": "ci.example.org", "tls": "existing-secret", "tlsSecretName": "ci-tls"}},
    "pools": [POOL],
}

# (path, values that must be refused there). Paths are what the error must name.
BAD_VALUES = {
    ("environment",): ["", "Prod", "a b", "x" * 64, 7, ["dev"]],
    ("namespace",): ["", "-jenkins", "jenkins_", "JENKINS", "x" * 43, {"a": 1}],
    ("controller", "storage", "size"): ["-1Gi", "0Gi", "100Ti", "ten", "10GB", 10, None],
    ("controller", "storage", "protect"): ["maybe", 3, [True]],
    ("controller", "resources", "requests", "cpu"): ["0", "-1", "1000", "fast", ""],
    ("controller", "resources", "limits", "memory"): ["0", "2Ti", "lots", 5],
    ("controller", "image"): ["jenkins/jenkins", "jenkins/jenkins:latest", "Jenkins:1", "", 3],
    ("controller", "adminUser"): ["", "Admin User", "a" * 64],
    ("exposure", "ingress", "host"): ["", "not a host", "-a.example", "a..b", 42],
    ("exposure", "ingress", "tls"): ["", "off", False, None, "letsencrypt"],
    ("exposure", "ingress", "tlsSecretName"): ["", "Not_A_Secret", 7],
    ("pools", 0, "name"): ["", "K8s", "a" * 21, "1pool", "pool_1", None],
    ("pools", 0, "containerCap"): [0, -5, 100000, "many"],
    ("pools", 0, "templates"): [[], "default", None],
    ("pools", 0, "templates", 0, "labels"): [[], ["has space"], "linux"],
    ("pools", 0, "templates", 0, "instanceCap"): [0, -1, 1001],
    ("pools", 0, "templates", 0, "agentResources", "requests", "memory"): ["1Gb", "0", "-1Mi"],
}
CONTRADICTIONS = [
    # limits below requests
    (("controller", "resources"), {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}),
    (("controller", "resources"), {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}),
    (("kubernetes",), {"context": "kind", "renderYamlToDirectory": "out"}),
    (("pools",), [POOL, POOL]),  # duplicate pool names
    (("pools", 0, "templates"), [POOL["templates"][0], POOL["templates"][0]]),  # duplicate templates
]


def set_path(document: dict, path: tuple, value) -> dict:
    document = copy.deepcopy(document)
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


def key_path(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return "jenkins:" + out


def dict_paths(document, path=()):
    if isinstance(document, dict):
        yield path
        for key, value in document.items():
            yield from dict_paths(value, path + (key,))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from dict_paths(value, path + (index,))


DICT_PATHS = list(dict_paths(BASE))

# One (path, value) strategy per path, built once: flatmap would otherwise build and validate a new
# strategy for every draw.
VALUE_AT = {path: st.tuples(st.just(path), st.sampled_from(values)) for path, values in BAD_VALUES.items()}
bad_value = st.sampled_from(sorted(BAD_VALUES.items(), key=str)).flatmap(lambda item: VALUE_AT[item[0]])
unknown_key = st.tuples(
    st.sampled_from(DICT_PATHS),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzXYZ_", min_size=1, max_size=12),
)
wrong_type = st.tuples(
    st.sampled_from(DICT_PATHS[1:]),
    st.one_of(st.integers(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2)),
)


def as_stack_config(document: dict) -> dict:
    return {f"jenkins:{key}": value for key, value in document.items()}


def assert_refused(document: dict, expected_prefix: str, through_program: bool) -> None:
    if through_program:
        synthesis = synth_config(as_stack_config(document))
        assert synthesis.error is not None, f"accepted: {json.dumps(document)}"
        message = synthesis.error
        assert synthesis.records == [], "a resource was registered before the config was refused"
    else:
        try:
            parse_stack_config(json.loads(json.dumps(document)))
        except ConfigError as exc:
            message = str(exc)
        else:
            raise AssertionError(f"accepted: {json.dumps(document)}")
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(expected_prefix), f"{message!r} does not name {expected_prefix}"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad_value)
def test_bad_values_are_refused_naming_the_key(case):
    path, value = case
    assert_refused(set_path(BASE, path, value), key_path(path), through_program=False)


@settings(max_examples=600, deadline=None)
@given(unknown_key)
def test_unknown_keys_are_refused_naming_the_key(case):
    path, key = case
    target = BASE
    for part in path:
        target = target[part]
    assume(key not in target and not (not path and key in ("environment", "namespace")))
    document = set_path(BASE, path + (key,), "x") if path else {**BASE, key: "x"}
    assert_refused(document, key_path(path + (key,)), through_program=False)


@settings(max_examples=400, deadline=None)
@given(wrong_type)
def test_wrong_types_for_objects_are_refused(case):
    path, value = case
    assert_refused(set_path(BASE, path, value), key_path(path), through_program=False)


@settings(max_examples=150, deadline=None)
@given(st.one_of(bad_value, st.sampled_from(CONTRADICTIONS)))
def test_refusal_through_the_real_program_registers_nothing(case):
    path, value = case
    # The CLI hands top-level scalars over as text: 7 is the valid name "7" there.
    assume(not (len(path) == 1 and isinstance(value, (int, float))))
    assert_refused(set_path(BASE, path, value), key_path(path), through_program=True)


valid_pool = st.builds(
    lambda name, labels, cap, replicas_of_templates: {
        "name": name, "type": "kubernetes", "containerCap": cap,
        "templates": [{"name": f"t{i}", "labels": labels} for i in range(replicas_of_templates)],
    },
    name=st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
    labels=st.lists(st.from_regex(r"[a-z][a-z0-9_.-]{0,10}", fullmatch=True), min_size=1, max_size=3),
    cap=st.integers(1, 1000),
    replicas_of_templates=st.integers(1, 3),
)
valid_config = st.builds(
    lambda namespace, size, cpu, protect, pools, ingress: {
        "environment": "test", "namespace": namespace,
        "controller": {"storage": {"size": f"{size}Gi", "protect": protect},
                       "resources": {"requests": {"cpu": f"{cpu}m", "memory": "1Gi"},
                                     "limits": {"cpu": f"{cpu * 2}m", "memory": "2Gi"}}},
        "exposure": {"ingress": {"host": ingress, "tls": "disabled"}} if ingress else {},
        "pools": pools,
    },
    namespace=st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True),
    size=st.integers(1, 2000),
    cpu=st.integers(100, 8000),
    protect=st.booleans(),
    pools=st.lists(valid_pool, max_size=3, unique_by=lambda p: p["name"]),
    ingress=st.one_of(st.none(), st.from_regex(r"[a-z]{1,10}\.example\.org", fullmatch=True)),
)


@settings(max_examples=25, deadline=None)
@given(valid_config)
def test_valid_configs_render_schema_valid_manifests(document):
    synthesis = synth_config(as_stack_config(document))
    assert synthesis.ok, synthesis.error
    assert schema_problems(synthesis, versions=("1.37.0",)) == []
    assert jcasc_problems(casc(synthesis)) == []


def _is_prefix(a: tuple, b: tuple) -> bool:
    return len(a) <= len(b) and b[: len(a)] == a


mutation = st.one_of(
    bad_value,
    unknown_key.map(lambda case: (case[0] + (case[1],), "x")),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
# unique_by draws lists without two faults at one key (the filter would refuse them anyway) instead of
# drawing whole lists again: the same examples are accepted, with far fewer thrown away.
@given(st.lists(mutation, min_size=2, max_size=4, unique_by=lambda m: m[0]).filter(
    lambda ms: all(not _is_prefix(a[0], b[0]) for a in ms for b in ms if a is not b)))
def test_several_faults_at_once_name_only_faulty_keys(mutations):
    document = copy.deepcopy(BASE)  # one copy, changed in place: no fault's path lies under another's
    for path, value in mutations:
        target = document
        for part in path[:-1]:
            target = target[part]
        # A generated "unknown" key that exists already is no fault.
        assume(not (path[-1] in target and len(path) > 1 and not isinstance(target, list) and value == "x"
                    and path not in BAD_VALUES))
        target[path[-1]] = value
    try:
        parse_stack_config(json.loads(json.dumps(document)))
    except ConfigError as exc:
        message = str(exc)
    else:
        raise AssertionError(f"accepted: {json.dumps(document)}")
    assert "\n" not in message
    named = [part.split(": ", 1)[0] for part in message.split("; ")]
    expected = [key_path(path) for path, _ in mutations]
    assert named and all(any(n.startswith(e) or e.startswith(n) for e in expected) for n in named), \
        f"{message!r} names something other than {expected}"
    # ...and every fault is named, at its own key or deeper, never only through a parent.
    assert all(any(n.startswith(e) for n in named) for e in expected), \
        f"{message!r} does not name each of {expected}"
