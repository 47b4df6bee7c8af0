"""Config rules with a boundary: what is just allowed renders, what is just past it is refused."""
from __future__ import annotations

from tests.conftest import minimal_config, synth_config

ONMASTER = {"type": "controller", "executors": 1, "labels": ["onmaster"]}


def test_one_controller_pool_renders_and_a_second_is_refused_naming_both():
    one = synth_config(minimal_config(pools=[{"name": "a", **ONMASTER}]))
    assert one.ok, one.error
    two = synth_config(minimal_config(pools=[{"name": "a", **ONMASTER},
                                             {"name": "b", **{**ONMASTER, "labels": ["other"]}}]))
    assert two.error is not None and two.error.startswith("jenkins:pools")
    assert "a, b" in two.error and "controller" in two.error
    assert two.records == []


def resources(cpu_request, memory_request, cpu_limit, memory_limit) -> dict:
    return {"requests": {"cpu": cpu_request, "memory": memory_request},
            "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def controller_container(synthesis) -> dict:
    pod = synthesis.find(":StatefulSet", "jenkins").inputs["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == "jenkins")


def test_limits_equal_to_requests_give_guaranteed_qos():
    synthesis = synth_config(minimal_config(controller={"resources": resources("1", "2Gi", "1", "2Gi")}))
    assert synthesis.ok, synthesis.error
    assert controller_container(synthesis)["resources"] == resources("1", "2Gi", "1", "2Gi")


def test_limits_just_below_requests_are_refused_naming_the_quantity():
    cpu = synth_config(minimal_config(controller={"resources": resources("1", "2Gi", "999m", "2Gi")}))
    assert cpu.error.startswith("jenkins:controller.resources") and "limits.cpu 999m" in cpu.error
    memory = synth_config(minimal_config(controller={"resources": resources("1", "2Gi", "1", "2047Mi")}))
    assert memory.error.startswith("jenkins:controller.resources") and "limits.memory 2047Mi" in memory.error
