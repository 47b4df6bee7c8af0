"""The rendered plugin init scripts, run with bash against a stand-in jenkins-plugin-cli in a temp dir."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import minimal_config, synth_config
from tests.helpers import K8S_POOL, controller_pod

REF_PLUGINS = "/usr/share/jenkins/ref/plugins"

# Writes <id>.jpi with a MANIFEST for every id:version in --plugin-file into
# --plugin-download-directory, and logs each call (arguments and JAVA_OPTS).
# STANDIN_EXTRA=id:version adds a plugin the list lacks; STANDIN_FAIL=1 exits 1 before writing.
STANDIN = r'''
import json, os, sys, zipfile
args = sys.argv[1:]
opts = dict(zip(args[::2], args[1::2]))
with open(os.environ["STANDIN_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "JAVA_OPTS": os.environ.get("JAVA_OPTS")}) + "\n")
if os.environ.get("STANDIN_FAIL"):
    sys.exit(1)
lines = [l for l in open(opts["--plugin-file"]).read().splitlines() if l]
if os.environ.get("STANDIN_EXTRA"):
    lines.append(os.environ["STANDIN_EXTRA"])
for line in lines:
    pid, version = line.split(":", 1)
    with zipfile.ZipFile(os.path.join(opts["--plugin-download-directory"], pid + ".jpi"), "w") as jpi:
        jpi.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nShort-Name: %s\r\nPlugin-Version: %s\r\n" % (pid, version))
'''


def init_containers(synthesis) -> list[dict]:
    return controller_pod(synthesis)["spec"]["initContainers"]


def plugin_text(synthesis) -> str:
    return synthesis.find(":ConfigMap", "casc").inputs["data"]["plugins.txt"]


class Pod:
    """A JENKINS_HOME and config dir in tmp; runs a rendered init script with paths relocated there."""

    def __init__(self, tmp: Path):
        self.root = tmp
        self.home = tmp / "home"
        self.config = tmp / "config"
        self.ref = tmp / "ref-plugins"
        self.bin = tmp / "bin"
        self.log = tmp / "cli.log"
        for d in (self.home, self.config, self.ref, self.bin):
            d.mkdir()
        cli = self.bin / "jenkins-plugin-cli"
        cli.write_text(f"#!{sys.executable}\n{STANDIN}")
        cli.chmod(0o755)
        self.log.write_text("")

    def relocate(self, script: str) -> str:
        return (script.replace("/var/jenkins_home", str(self.home))
                .replace("/var/jenkins_config", str(self.config))
                .replace(REF_PLUGINS, str(self.ref)))

    def run(self, synthesis, container: str, **env) -> subprocess.CompletedProcess:
        (self.config / "plugins.txt").write_text(plugin_text(synthesis))
        command = next(c for c in init_containers(synthesis) if c["name"] == container)["command"]
        assert command[:2] == ["bash", "-c"]
        environment = {"PATH": f"{self.bin}:{os.environ['PATH']}", "STANDIN_LOG": str(self.log), **env}
        return subprocess.run(["bash", "-c", self.relocate(command[2])], env=environment,
                              capture_output=True, text=True, timeout=60)

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def store(self) -> dict[str, str]:
        out = {}
        for jpi in sorted((self.home / "locked-plugins").glob("*.jpi")):
            manifest = zipfile.ZipFile(jpi).read("META-INF/MANIFEST.MF").decode()
            out[jpi.stem] = re.search(r"Plugin-Version: (\S+)", manifest).group(1)
        return out


def listed(synthesis) -> dict[str, str]:
    return dict(line.split(":", 1) for line in plugin_text(synthesis).splitlines())


@pytest.fixture(scope="module")
def plain():
    return synth_config(minimal_config())


@pytest.fixture(scope="module")
def with_kubernetes():
    return synth_config(minimal_config(pools=[K8S_POOL]))


def test_first_start_installs_exactly_the_list_with_an_explicit_heap(tmp_path, plain):
    pod = Pod(tmp_path)
    (pod.home / "plugins").mkdir()
    (pod.home / "plugins" / "stale.jpi").write_text("old")
    result = pod.run(plain, "install-plugins")
    assert result.returncode == 0, result.stderr
    [call] = pod.calls()
    assert call["JAVA_OPTS"] == "-Xmx1g"
    args = call["args"]
    assert args[args.index("--latest") + 1] == "false"
    assert args[args.index("--plugin-file") + 1] == str(pod.config / "plugins.txt")
    assert pod.store() == listed(plain)
    assert not (pod.home / "plugins").exists()
    marker = (pod.home / "locked-plugins.sha256").read_text().strip()
    assert marker == hashlib.sha256(plugin_text(plain).encode()).hexdigest()


def test_restart_with_the_same_list_downloads_nothing(tmp_path, plain):
    pod = Pod(tmp_path)
    assert pod.run(plain, "install-plugins").returncode == 0
    (pod.home / "plugins").mkdir()  # what jenkins.sh copied at the first start
    again = pod.run(plain, "install-plugins")
    assert again.returncode == 0, again.stderr
    assert len(pod.calls()) == 1
    assert "nothing to download" in again.stdout
    assert pod.store() == listed(plain)
    assert not (pod.home / "plugins").exists()


def test_a_changed_list_installs_the_new_set_and_drops_removed_plugins(tmp_path, plain, with_kubernetes):
    pod = Pod(tmp_path)
    assert pod.run(with_kubernetes, "install-plugins").returncode == 0
    assert "kubernetes" in pod.store()
    result = pod.run(plain, "install-plugins")
    assert result.returncode == 0, result.stderr
    assert len(pod.calls()) == 2
    assert "kubernetes" not in pod.store()
    assert pod.store() == listed(plain)


def test_a_download_with_a_plugin_outside_the_list_fails_and_keeps_the_old_set(tmp_path, plain, with_kubernetes):
    pod = Pod(tmp_path)
    assert pod.run(plain, "install-plugins").returncode == 0
    result = pod.run(with_kubernetes, "install-plugins", STANDIN_EXTRA="saml:1.0")
    assert result.returncode != 0
    assert "saml(not in the lock)" in result.stderr
    assert pod.store() == listed(plain)
    assert not (pod.home / "locked-plugins.sha256").exists()
    # the next start tries again rather than trusting a half-done install
    assert pod.run(with_kubernetes, "install-plugins").returncode == 0
    assert pod.store() == listed(with_kubernetes)


def test_a_failed_download_fails_the_init_container(tmp_path, plain):
    pod = Pod(tmp_path)
    result = pod.run(plain, "install-plugins", STANDIN_FAIL="1")
    assert result.returncode != 0
    assert not (pod.home / "locked-plugins.sha256").exists()


def test_download_mode_pod_layout(plain):
    spec = controller_pod(plain)["spec"]
    install = spec["initContainers"][0]
    assert install["name"] == "install-plugins"
    assert install["resources"]["limits"]["memory"] == "1536Mi"
    assert "JAVA_OPTS=-Xmx1g jenkins-plugin-cli" in install["command"][2]
    jenkins = spec["containers"][0]
    ref = [m for m in jenkins["volumeMounts"] if m["mountPath"] == REF_PLUGINS]
    assert ref == [{"name": "jenkins-home", "mountPath": REF_PLUGINS, "subPath": "locked-plugins", "readOnly": True}]
    assert not [v for v in spec["volumes"] if v["name"] == "plugins"]


# ------------------------------------------------------------------ plugins baked into the image

@pytest.fixture(scope="module")
def from_image():
    return synth_config(minimal_config(controller={"plugins": {"source": "image"}}))


def bake(pod: Pod, plugins: dict[str, str]):
    for pid, version in plugins.items():
        with zipfile.ZipFile(pod.ref / f"{pid}.jpi", "w") as jpi:
            jpi.writestr("META-INF/MANIFEST.MF", f"Plugin-Version: {version}\n")


def test_image_mode_downloads_nothing_and_hides_nothing(from_image):
    spec = controller_pod(from_image)["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["check-plugins"]
    assert "jenkins-plugin-cli" not in spec["initContainers"][0]["command"][2]
    jenkins = spec["containers"][0]
    assert not [m for m in jenkins["volumeMounts"] if m["mountPath"].startswith("/usr/share/jenkins/ref")]


def test_image_mode_accepts_an_image_with_exactly_the_list(tmp_path, from_image):
    pod = Pod(tmp_path)
    bake(pod, listed(from_image))
    (pod.home / "plugins").mkdir()
    result = pod.run(from_image, "check-plugins")
    assert result.returncode == 0, result.stderr
    assert pod.calls() == []
    assert not (pod.home / "plugins").exists()


def test_image_mode_refuses_a_missing_or_different_plugin(tmp_path, from_image):
    pod = Pod(tmp_path)
    plugins = dict(listed(from_image))
    del plugins["git"]
    plugins["credentials"] = "1.0"
    bake(pod, plugins)
    result = pod.run(from_image, "check-plugins")
    assert result.returncode != 0
    assert "git(missing)" in result.stderr
    assert "credentials(1.0, locked 1511.v2e3cb_0008ef0)" in result.stderr


def test_the_pod_builder_is_pure_data():
    from components.config import parse_stack_config
    from components.controller_pod import MergedNeeds, controller_files, pod_template
    from components.plugin_lock import load_lock

    config = parse_stack_config({"environment": "test", "namespace": "jenkins-test",
                                 "controller": {"plugins": {"source": "image"}}})
    merged = MergedNeeds.of([])
    files = controller_files({"jenkins": {}}, merged, config.controller, load_lock())
    template = pod_template(config.controller, merged, files, [], "jenkins-sa")
    assert template["spec"]["serviceAccountName"] == "jenkins-sa"
    assert [c["name"] for c in template["spec"]["initContainers"]] == ["check-plugins"]
    assert "kubernetes:" not in files.plugin_list and "workflow-cps:4370.v49a_6937566b_6\n" in files.plugin_list
