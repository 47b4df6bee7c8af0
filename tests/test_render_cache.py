"""The shared renders behind `synth_config` never hand one test's render to another that changed the program."""
from __future__ import annotations

from components import jcasc
from tests.conftest import minimal_config, synth_config


def test_a_render_is_shared_as_a_copy():
    first = synth_config(minimal_config())
    assert first.ok, first.error
    first.find(":ConfigMap", "casc").inputs["data"]["jenkins.yaml"] = "edited by this test"
    again = synth_config(minimal_config())
    assert again.find(":ConfigMap", "casc").inputs["data"]["jenkins.yaml"] != "edited by this test"


def test_a_monkeypatched_program_is_rendered_afresh(monkeypatch):
    # The render of this very config is shared by now (the test above); the patched program must
    # still run, and what it renders must not be shared with the tests after this one.
    original = jcasc.controller_document

    def with_unknown_key(**kwargs):
        document = original(**kwargs)
        document["jenkins"]["notAnAttribute"] = True
        return document

    monkeypatch.setattr(jcasc, "controller_document", with_unknown_key)
    patched = synth_config(minimal_config())
    assert patched.error and "notAnAttribute" in patched.error


def test_the_patched_render_was_not_kept():
    assert synth_config(minimal_config()).ok
