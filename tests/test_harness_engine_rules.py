"""The harness against the engine's rules, not against itself.

Expected URNs are written from Pulumi's URN specification (pulumi/pulumi
sdk/go/common/resource/urn/urn.go: `urn:pulumi:<Stack>::<Project>::<Qualified$Type$Name>::<Name>`,
where the qualified type is the parent's qualified type, `$`, then the resource's own type; the root
stack's type is left out: pkg/resource/deploy/deployment.go, the parent-type chain in NewURN's
callers). `protect` and `retainOnDelete` are separate resource options
(pulumi/pulumi proto/pulumi/resource.proto RegisterResourceRequest fields `protect` and
`retainOnDelete`), so the harness must record each as the program set it.
"""
from __future__ import annotations

import textwrap

import pytest

from tools.harness import synthesize

PROGRAM = textwrap.dedent('''
    import pulumi
    import pulumi_random

    class Outer(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("test:index:Outer", name, None, opts)
            inner = Inner("inner", pulumi.ResourceOptions(parent=self))
            pulumi_random.RandomPet("kept", opts=pulumi.ResourceOptions(parent=inner, protect=True))
            pulumi_random.RandomPet("retained", opts=pulumi.ResourceOptions(parent=inner, retain_on_delete=True))
            self.register_outputs({})

    class Inner(pulumi.ComponentResource):
        def __init__(self, name, opts=None):
            super().__init__("test:index:Inner", name, None, opts)
            self.register_outputs({})

    Outer("outer")
    pulumi_random.RandomPet("top")
''')


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    project = tmp_path_factory.mktemp("urns")
    (project / "Pulumi.yaml").write_text("name: urnproj\nruntime: python\n")
    (project / "__main__.py").write_text(PROGRAM)
    synthesis = synthesize("teststack", project_dir=project, config={}, secret_keys=[], project="urnproj")
    assert synthesis.error is None, synthesis.error
    return {r.name: r for r in synthesis.records}


def test_urns_follow_the_specification(records):
    assert {name: r.urn for name, r in records.items()} == {
        "outer": "urn:pulumi:teststack::urnproj::test:index:Outer::outer",
        "inner": "urn:pulumi:teststack::urnproj::test:index:Outer$test:index:Inner::inner",
        "kept": "urn:pulumi:teststack::urnproj::test:index:Outer$test:index:Inner$random:index/randomPet:RandomPet::kept",
        "retained":
            "urn:pulumi:teststack::urnproj::test:index:Outer$test:index:Inner$random:index/randomPet:RandomPet::retained",
        "top": "urn:pulumi:teststack::urnproj::random:index/randomPet:RandomPet::top",
    }


def test_parents_are_recorded_as_urns(records):
    assert records["kept"].parent == records["inner"].urn
    assert records["inner"].parent == records["outer"].urn


def test_protect_and_retain_on_delete_are_recorded_independently(records):
    assert (records["kept"].protect, records["kept"].retain_on_delete) == (True, False)
    assert (records["retained"].protect, records["retained"].retain_on_delete) == (False, True)
    assert (records["top"].protect, records["top"].retain_on_delete) == (False, False)


def test_the_jenkins_home_claim_and_namespace_keep_their_urns():
    """These URNs are the identity of the data: a change means `pulumi up` deletes and recreates them."""
    urns = {r.urn for r in synthesize("prod").records}
    assert ("urn:pulumi:prod::jenkins-k8s::jenkins:index:JenkinsPlatform$jenkins:index:JenkinsController"
            "$kubernetes:core/v1:PersistentVolumeClaim::jenkins-home") in urns
    assert "urn:pulumi:prod::jenkins-k8s::jenkins:index:JenkinsPlatform$kubernetes:core/v1:Namespace::controller-namespace" in urns


def test_json_render_is_the_same_whatever_the_hash_seed(capsys):
    """The engine treats dependsOn as a set; the harness records it sorted, so two renders of one
    stack are byte-identical (string hashing, hence set order, changes with PYTHONHASHSEED).
    Three seeds: two fixed ones, each in its own interpreter, and this process's own (random
    unless PYTHONHASHSEED is set, and then not one of the other two), rendering in-process after
    whatever this process rendered before."""
    import os
    import subprocess
    import sys

    from tools import synth
    from tools.harness import ROOT

    def render(seed: str) -> str:
        done = subprocess.run([sys.executable, "-m", "tools.synth", "dev", "--format", "json"], cwd=ROOT,
                              capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        return done.stdout

    first, second = [seed for seed in ("1", "2", "3") if seed != os.environ.get("PYTHONHASHSEED")][:2]
    assert synth.main(["dev", "--format", "json"]) == 0
    in_process = capsys.readouterr().out
    assert render(first) == render(second) == in_process
