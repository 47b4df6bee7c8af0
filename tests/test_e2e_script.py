"""scripts/e2e.sh and scripts/boot-check.sh, run for real against stand-ins.

docker, kind, kubectl and pulumi are small programs first on PATH that log their argv and answer
what the scripts ask; Jenkins is an HTTP server on 127.0.0.1 that checks credentials and the
crumb like the real one. The scripts run from a copy of the project, whose
scripts/prepare-policy-pack.sh is a stand-in that logs its call, and whose .venv/bin/python renders
each distinct plan once with the real tools.e2e_plan (tests/plan_replay.py).
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import ROOT
from tools.harness import synthesize

ADMIN_USER = "admin"
ADMIN_PASSWORD = "e2e-admin-password-not-in-argv"
CRUMB = "crumb-from-the-stand-in"

# The smoke jobs of stacks/Pulumi.e2e.yaml, by the label each must run on.
PHASE_1_JOBS = {
    "e2e-onmaster": "e2e-controller",
    "e2e-docker": "e2e-docker-cloud",
    "e2e-dind": "e2e-docker-cloud-dind",
    "e2e-swarm": "e2e-swarm",
    "e2e-swarm-dind": "e2e-swarm-dind",
    "e2e-k8s": "e2e-kubernetes",
    "e2e-build": "e2e-image-build",
}
# Agents with a docker CLI and a daemon: the controller pool (node socket) and swarm-dind (sidecar).
DOCKER_CLI_JOBS = {"e2e-onmaster", "e2e-swarm-dind"}
# Agents that are themselves containers on the pool's Docker daemon.
DOCKER_CONTAINER_JOBS = {"e2e-docker", "e2e-dind"}
ROOTLESS_BUILD_JOBS = {"e2e-build"}
# After the switch to stacks/Pulumi.e2e-next.yaml.
PHASE_2_JOBS = {"e2e-swarm": "e2e-swarm", "e2e-k8s": "e2e-kubernetes"}
KIND_NODE_IMAGE = "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5"
CONTROLLER_IMAGE = "jenkins/jenkins:2.568.2-jdk21"
READY_LOG = "2026-11-27 10:00:00.000+0000 [id=30]\tINFO\thudson.lifecycle.Lifecycle#onReady: Jenkins is fully up and running\n"
CASC_FAILURE_LOG = (
    "SEVERE\thudson.util.BootFailure#publish: Failed to initialize Jenkins\n"
    "io.jenkins.plugins.casc.ConfigurationAsCodeBootFailure: io.jenkins.plugins.casc.ConfiguratorException: "
    "Invalid configuration elements for type: class hudson.security.csrf.DefaultCrumbIssuer : excludeClientIPFromCrumb\n"
)

# Stand-in for docker, kind, kubectl and pulumi: logs argv as one JSON line, answers what the
# scripts need. A shell script, as the scripts spawn it some twenty times a run; python only where
# it reads YAML or writes JSON of file contents.
STAND_IN = r"""#!/usr/bin/env bash
set -euo pipefail
tool=${0##*/}
state=$FAKE_STATE
quote() {  # REPLY: $1 as a JSON string
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  REPLY="\"$s\""
}
has() {  # has WORD: WORD is one of the arguments
  local arg
  for arg in "${args[@]}"; do [ "$arg" != "$1" ] || return 0; done
  return 1
}
args=("$@")
quote "$tool"
record="[$REPLY"
for arg in "$@" "@$PWD"; do quote "$arg"; record+=", $REPLY"; done
printf '%s]\n' "$record" >>"$state/calls.log"

case "$tool" in
  kind)
    if [ "${1:-} ${2:-}" = "create cluster" ]; then
      while [ $# -gt 0 ]; do
        case "$1" in
          --config) cp "$2" "$state/kind-config.yaml" ;;
          --kubeconfig) printf 'apiVersion: v1\nkind: Config\n' >"$2" ;;
        esac
        shift
      done
    fi ;;
  pulumi)
    if [ "${1:-} ${2:-}" = "stack init" ]; then
      echo "encryptionsalt: v1:stand-in-salt" >>stacks/Pulumi.e2e.yaml
    elif [ "$1" = up ]; then
      count=$(( $(cat "$state/ups" 2>/dev/null || echo 0) + 1 ))
      echo "$count" >"$state/ups"
      "@PYTHON@" - "$state/up-pools.log" <<'PY'
import json, sys
from pathlib import Path
import yaml
pools = yaml.safe_load(Path("stacks/Pulumi.e2e.yaml").read_text())["config"]["jenkins:pools"]
with open(sys.argv[1], "a") as log:
    log.write(json.dumps([(p["name"], (p.get("docker") or {}).get("socketGroup")) for p in pools]) + "\n")
PY
      if grep -qF "encryptionsalt: v1:stand-in-salt" stacks/Pulumi.e2e.yaml; then salt=True; else salt=False; fi
      printf '%s' "$salt" >"$state/salt-$count"
    elif [ "${1:-} ${2:-}" = "stack output" ]; then
      cat "$state/outputs-$(cat "$state/ups").json"
      echo
    fi ;;
  kubectl)
    if has port-forward; then
      exec sleep 3600
    elif has rollout; then
      [ ! -e "$state/never-ready" ] || exit 1
    elif has logs; then
      cat "$state/controller.log"; echo
    elif has get && has secret; then
      case "${*: -1}" in
        *username*) value="@USER@" ;;
        *) value="@PASSWORD@" ;;
      esac
      printf '%s' "$value" | base64 -w0
    elif has exec; then
      while [ "$1" != -- ]; do shift; done
      shift
      if [ "$1" = cat ]; then
        if [ -e "$state/marker" ] && [ ! -e "$state/lose-marker" ]; then cat "$state/marker"; else exit 1; fi
      else
        read -r _ run_id _ <<<"${*: -1}"
        echo "$run_id" >"$state/marker"
      fi
    fi ;;
  docker)
    case "$1" in
      logs) cat "$state/boot.log"; echo ;;
      inspect) echo true ;;
      run)
        if has -d; then
          "@PYTHON@" - "$state/boot-mounts.json" "$@" <<'PY'
import json, os, sys
from pathlib import Path
out, args = sys.argv[1], sys.argv[2:]
listing = {}
for i, arg in enumerate(args):
    if arg == "--mount":
        spec = dict(part.split("=", 1) for part in args[i + 1].split(",") if "=" in part)
        if spec["type"] == "bind":
            listing[spec["dst"]] = {n: Path(spec["src"], n).read_text() for n in sorted(os.listdir(spec["src"]))}
Path(out).write_text(json.dumps(listing))
PY
          echo container-id
        fi ;;
    esac ;;
esac
"""


@dataclass
class FakeJenkins:
    """The REST endpoints the scripts use, with basic auth and a crumb on every POST."""

    plugins: list[str]
    results: dict[str, str] = field(default_factory=dict)
    consoles: dict[str, str] = field(default_factory=dict)
    login_status: int = 200
    configs: dict[str, list[str]] = field(default_factory=dict)
    builds: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        jenkins = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def authorised(self):
                expected = base64.b64encode(f"{ADMIN_USER}:{ADMIN_PASSWORD}".encode()).decode()
                return self.headers.get("Authorization") == f"Basic {expected}"

            def do_GET(self):
                url = urlparse(self.path)
                jenkins.requests.append(f"GET {self.path}")
                if url.path == "/login":
                    return self.reply(jenkins.login_status, b"<html>login</html>")
                if not self.authorised():
                    return self.reply(401)
                if url.path == "/crumbIssuer/api/json":
                    return self.reply(200, json.dumps({"crumbRequestField": "Jenkins-Crumb", "crumb": CRUMB}).encode())
                if url.path == "/pluginManager/api/json":
                    body = {"plugins": [{"shortName": p, "active": True, "version": "1"} for p in jenkins.plugins]}
                    return self.reply(200, json.dumps(body).encode())
                match = re.fullmatch(r"/queue/item/(\d+)/api/json", url.path)
                if match:
                    job, number = jenkins.queue[int(match.group(1))]
                    return self.reply(200, json.dumps({"executable": {"number": number}}).encode())
                match = re.fullmatch(r"/job/([^/]+)/api/json", url.path)
                if match:
                    return self.reply(200 if match.group(1) in jenkins.configs else 404, b"{}")
                match = re.fullmatch(r"/job/([^/]+)/(\d+)/api/json", url.path)
                if match:
                    result = jenkins.results.get(match.group(1), "SUCCESS")
                    return self.reply(200, json.dumps({"building": False, "result": result}).encode())
                match = re.fullmatch(r"/job/([^/]+)/(\d+)/consoleText", url.path)
                if match:
                    return self.reply(200, jenkins.consoles.get(match.group(1), "Finished: SUCCESS\n").encode())
                return self.reply(404)

            def do_POST(self):
                url = urlparse(self.path)
                jenkins.requests.append(f"POST {self.path}")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if not self.authorised() or self.headers.get("Jenkins-Crumb") != CRUMB:
                    jenkins.rejected.append(self.path)
                    return self.reply(403)
                if url.path == "/createItem":
                    name = parse_qs(url.query)["name"][0]
                    if name in jenkins.configs:
                        return self.reply(400)
                    jenkins.configs[name] = [body]
                    return self.reply(200)
                match = re.fullmatch(r"/job/([^/]+)/config.xml", url.path)
                if match and match.group(1) in jenkins.configs:
                    jenkins.configs[match.group(1)].append(body)
                    return self.reply(200)
                match = re.fullmatch(r"/job/([^/]+)/build", url.path)
                if match and match.group(1) in jenkins.configs:
                    job = match.group(1)
                    jenkins.builds[job] = jenkins.builds.get(job, 0) + 1
                    jenkins.queue.append((job, jenkins.builds[job]))
                    location = f"http://127.0.0.1:{self.server.server_port}/queue/item/{len(jenkins.queue) - 1}/"
                    return self.reply(201, headers=[("Location", location)])
                return self.reply(404)

        self.queue: list[tuple[str, int]] = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for the loop's next poll: the default interval (0.5 s) would be most of a run.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return server


@dataclass
class Run:
    result: subprocess.CompletedProcess
    calls: list[list[str]]
    state: Path
    jenkins: FakeJenkins
    project: Path

    def index(self, *prefix: str, start: int = 0) -> int:
        for i, call in enumerate(self.calls[start:], start):
            if call[:len(prefix)] == list(prefix):
                return i
        raise AssertionError(f"no call {prefix} after #{start} in {self.calls}")

    def script_of(self, job: str, version: int = 0) -> str:
        config = self.jenkins.configs[job][version]
        return re.search(r"<script>(.*)</script>", config, re.S).group(1)


@pytest.fixture(scope="module")
def rendered() -> dict[str, object]:
    return {stack: synthesize(stack) for stack in ("e2e", "e2e-next")}


@pytest.fixture(scope="module")
def outputs(rendered) -> dict[int, str]:
    """What `pulumi stack output --json` prints after the first and the second `pulumi up`."""
    return {1: json.dumps(rendered["e2e"].outputs), 2: json.dumps(rendered["e2e-next"].outputs)}


@pytest.fixture(scope="module")
def all_plugins(rendered) -> list[str]:
    """Every plugin either topology's ConfigMap names: what a healthy controller reports installed."""
    ids = set()
    for synthesis in rendered.values():
        plugins_txt = synthesis.find("ConfigMap", "casc").inputs["data"]["plugins.txt"]
        ids |= {line.split(":")[0] for line in plugins_txt.split()}
    return sorted(ids)


# The copies' .venv/bin/python: the project's, except that the plan the scripts render first comes
# from tests/plan_replay.py (the real tool, run once per distinct input in this module).
PYTHON_WITH_PLAN_REPLAY = """#!/usr/bin/env bash
if [ "${1:-} ${2:-} ${3:-}" = "-m tools.e2e_plan plan" ]; then
  exec "@PYTHON@" -I -S "@REPLAY@" "@CACHE@" "@PYTHON@" "$@"
fi
exec "@PYTHON@" "$@"
"""


@pytest.fixture(scope="module")
def plan_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plans")


def copy_project(tmp_path: Path, plan_cache: Path) -> Path:
    """A copy of the project, as a user's clone would have it, with a stand-in policy-pack preparer.
    Compiled modules come along (copytree keeps the sources' times, so they stay valid): the
    scripts' Python would otherwise compile the whole project again in every copy."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", ".pytest_cache", "rendered", ".hypothesis"))
    python = copy / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(PYTHON_WITH_PLAN_REPLAY.replace("@PYTHON@", str(ROOT / ".venv" / "bin" / "python"))
                      .replace("@REPLAY@", str(ROOT / "tests" / "plan_replay.py")).replace("@CACHE@", str(plan_cache)))
    python.chmod(0o755)
    preparer = copy / "scripts" / "prepare-policy-pack.sh"
    preparer.write_text('#!/bin/sh\necho \'["prepare-policy-pack"]\' >> "$FAKE_STATE/calls.log"\n')
    preparer.chmod(0o755)
    return copy


@pytest.fixture(scope="module")
def shared_project(tmp_path_factory, plan_cache) -> Path:
    """One copy for every run that leaves the project as it is (the scripts write only to their TMPDIR)."""
    return copy_project(tmp_path_factory.mktemp("shared"), plan_cache)


@pytest.fixture
def project(tmp_path: Path, plan_cache) -> Path:
    return copy_project(tmp_path, plan_cache)


def stand_ins(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    source = STAND_IN.replace("@PYTHON@", sys.executable).replace("@USER@", ADMIN_USER) \
        .replace("@PASSWORD@", ADMIN_PASSWORD)
    for tool in ("docker", "kind", "kubectl", "pulumi"):
        (bin_dir / tool).write_text(source)
        (bin_dir / tool).chmod(0o755)
    return bin_dir, state


def run_e2e(tmp_path: Path, project: Path, outputs: dict, jenkins: FakeJenkins, *args: str,
            controller_log: str = READY_LOG, lose_marker: bool = False, never_ready: bool = False) -> Run:
    bin_dir, state = stand_ins(tmp_path)
    for phase, text in outputs.items():
        (state / f"outputs-{phase}.json").write_text(text)
    (state / "controller.log").write_text(controller_log)
    if lose_marker:
        (state / "lose-marker").touch()
    if never_ready:
        (state / "never-ready").touch()
    docker_socket = tmp_path / "docker.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(docker_socket))
    server = jenkins.serve()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_STATE": str(state),
           "E2E_LOCAL_PORT": str(server.server_port), "E2E_POLL_SECONDS": "0", "E2E_BUILD_TIMEOUT": "30",
           "E2E_DOCKER_SOCKET": str(docker_socket), "E2E_SOCKET_GROUP": "4242",
           "E2E_LOG_DIR": str(tmp_path / "logs"), "TMPDIR": str(tmp_path)}
    try:
        result = subprocess.run([str(project / "scripts" / "e2e.sh"), *args], env=env, capture_output=True,
                                text=True, timeout=600)
    finally:
        server.shutdown()
        listener.close()
    calls = [json.loads(line) for line in (state / "calls.log").read_text().splitlines()] \
        if (state / "calls.log").exists() else []
    return Run(result, calls, state, jenkins, project)


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory, shared_project, outputs, all_plugins) -> Run:
    return run_e2e(tmp_path_factory.mktemp("e2e"), shared_project, outputs, FakeJenkins(plugins=all_plugins))


def test_a_passing_run_exits_zero_and_prints_every_job_in_the_table(passing_run: Run):
    assert passing_run.result.returncode == 0, passing_run.result.stderr
    table = (passing_run.state.parent / "logs" / "results.md").read_text()
    for job in PHASE_1_JOBS:
        assert f"| {job} | 1 | PASS |" in table
    for job in PHASE_2_JOBS:
        assert f"| {job} | 2 | PASS |" in table
    for check in ("| jcasc | 1 | PASS |", "| plugins | 1 | PASS |", "| jcasc | 2 | PASS |",
                  "| plugins | 2 | PASS |", "| jenkins-home-marker | switch | PASS |"):
        assert check in table
    assert "| job | phase | result | seconds |" in passing_run.result.stdout


def test_the_run_goes_cluster_policy_pack_up_controller_smoke_switch_up_survival_teardown(passing_run: Run):
    run = passing_run
    create = run.index("kind", "create", "cluster")
    assert run.calls[create][run.calls[create].index("--image") + 1] == KIND_NODE_IMAGE
    prepare = run.index("prepare-policy-pack", start=create)
    init = run.index("pulumi", "stack", "init", "e2e", start=prepare)
    first_up = run.index("pulumi", "up", start=init)
    up_call = run.calls[first_up]
    assert up_call[up_call.index("--policy-pack") + 1] == "policy"
    assert up_call[up_call.index("--policy-pack-config") + 1] == "policy/config/e2e.json"
    assert "--yes" in up_call and "--stack" in up_call and up_call[up_call.index("--stack") + 1] == "e2e"
    output = run.index("pulumi", "stack", "output", start=first_up)
    rollout = run.index("kubectl", "-n", "jenkins-e2e", "rollout", "status", "statefulset/jenkins", start=output)
    logs = run.index("kubectl", "-n", "jenkins-e2e", "logs", start=rollout)
    secret = run.index("kubectl", "-n", "jenkins-e2e", "get", "secret", "jenkins-admin", start=logs)
    marker = run.index("kubectl", "-n", "jenkins-e2e", "exec", start=secret)
    second_up = run.index("pulumi", "up", start=marker)
    second_rollout = run.index("kubectl", "-n", "jenkins-e2e", "rollout", "status", start=second_up)
    survival = run.index("kubectl", "-n", "jenkins-e2e", "exec", start=second_rollout)
    assert run.calls[survival][-3:-1] == ["cat", "/var/jenkins_home/e2e-marker"]
    delete = run.index("kind", "delete", "cluster", "--name", "jenkins-k8s-e2e", start=survival)
    assert delete == max(i for i, c in enumerate(run.calls) if c[0] == "kind")
    # Pulumi runs in a copy of the project: the user's stacks/Pulumi.e2e.yaml is never written.
    assert all(call[-1].startswith("@" + str(run.state.parent / "jenkins-k8s-e2e."))
               for call in run.calls if call[0] == "pulumi")
    assert "encryptionsalt" not in (run.project / "stacks" / "Pulumi.e2e.yaml").read_text()


def test_the_kind_node_mounts_the_hosts_docker_socket(passing_run: Run):
    config = (passing_run.state / "kind-config.yaml").read_text()
    assert f"hostPath: {passing_run.state.parent / 'docker.sock'}" in config
    assert "containerPath: /var/run/docker.sock" in config


def test_the_stack_holds_every_pool_then_switches_keeping_the_cli_salt(passing_run: Run):
    ups = [json.loads(line) for line in (passing_run.state / "up-pools.log").read_text().splitlines()]
    assert ups == [
        [["onmaster", 4242], ["docker", 4242], ["dind", None], ["swarm", None], ["swarm-dind", None], ["k8s", None],
         ["build", None]],
        [["swarm", None], ["k8s", None]],
    ]
    assert (passing_run.state / "salt-2").read_text() == "True"


def test_each_pool_gets_its_smoke_pipeline_with_docker_exactly_where_the_pool_promises_it(passing_run: Run):
    assert set(passing_run.jenkins.configs) == set(PHASE_1_JOBS)
    for job, label in PHASE_1_JOBS.items():
        script = passing_run.script_of(job)
        assert script.startswith(f"node('{label}') {{"), script
        assert "sh 'echo" in script
        assert ("docker version" in script and "docker build" in script) == (job in DOCKER_CLI_JOBS), job
        assert ("test -f /.dockerenv" in script) == (job in DOCKER_CONTAINER_JOBS), job
        assert ("container('buildkit')" in script and "buildctl-daemonless.sh build" in script) == \
            (job in ROOTLESS_BUILD_JOBS), job
        assert "checkout" not in script and "git " not in script


def test_every_post_carries_the_crumb_and_the_password_never_reaches_argv(passing_run: Run):
    assert passing_run.jenkins.rejected == []
    assert any(r.startswith("POST /createItem") for r in passing_run.jenkins.requests)
    assert all(ADMIN_PASSWORD not in " ".join(call) for call in passing_run.calls)
    assert ADMIN_PASSWORD not in passing_run.result.stdout + passing_run.result.stderr


def test_after_the_switch_the_first_jobs_are_looked_up_and_the_new_pools_run_again(passing_run: Run):
    requests = passing_run.jenkins.requests
    plugin_checks = [i for i, r in enumerate(requests) if r.startswith("GET /pluginManager/api/json")]
    assert len(plugin_checks) == 2
    after_switch = requests[plugin_checks[1]:]
    for job in PHASE_1_JOBS:
        assert f"GET /job/{job}/api/json" in after_switch
    for job in PHASE_2_JOBS:
        assert f"POST /job/{job}/config.xml" in after_switch
        assert passing_run.jenkins.builds[job] == 2


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory, shared_project, outputs, all_plugins) -> Run:
    """One run with --keep where a build fails, a plugin is missing and JENKINS_HOME loses its marker."""
    jenkins = FakeJenkins(plugins=[p for p in all_plugins if p != "docker-plugin"],
                          results={"e2e-swarm-dind": "FAILURE"},
                          consoles={"e2e-swarm-dind": "+ docker version\ndocker: command not found\nFinished: FAILURE\n"})
    return run_e2e(tmp_path_factory.mktemp("e2e-failing"), shared_project, outputs, jenkins, "--keep",
                   lose_marker=True)


def test_a_failed_build_fails_the_run_and_prints_its_console(failing_run: Run):
    assert failing_run.result.returncode == 1
    assert "docker: command not found" in failing_run.result.stderr
    assert "| e2e-swarm-dind | 1 | FAILURE |" in failing_run.result.stdout
    assert "| e2e-k8s | 1 | PASS |" in failing_run.result.stdout
    assert "acceptance run FAILED" in failing_run.result.stderr


def test_a_lost_jenkins_home_fails_the_survival_check(failing_run: Run):
    assert "| jenkins-home-marker | switch | FAIL |" in failing_run.result.stdout
    assert "| jenkins-home-marker | switch | PASS |" not in failing_run.result.stdout


def test_a_missing_plugin_fails_the_run(failing_run: Run):
    assert "| plugins | 1 | FAIL |" in failing_run.result.stdout
    assert "docker-plugin" in failing_run.result.stderr


def test_keep_leaves_the_cluster(failing_run: Run):
    assert not [c for c in failing_run.calls if c[:2] == ["kind", "delete"]]
    assert "kept: kind cluster jenkins-k8s-e2e" in failing_run.result.stderr


def test_a_configuration_as_code_error_fails_the_run_with_the_log(tmp_path, shared_project, outputs, all_plugins):
    run = run_e2e(tmp_path, shared_project, outputs, FakeJenkins(plugins=all_plugins), controller_log=CASC_FAILURE_LOG)
    assert run.result.returncode == 1
    assert "| jcasc | 1 | FAIL |" in run.result.stdout
    assert "excludeClientIPFromCrumb" in run.result.stderr
    assert run.jenkins.configs == {}


def test_a_controller_that_fails_to_start_ends_the_wait_with_its_log_and_tears_down(tmp_path, shared_project,
                                                                                   outputs, all_plugins):
    run = run_e2e(tmp_path, shared_project, outputs, FakeJenkins(plugins=all_plugins), controller_log=CASC_FAILURE_LOG,
                  never_ready=True)
    assert run.result.returncode == 1
    assert "the controller failed to start" in run.result.stderr
    assert "ConfigurationAsCodeBootFailure" in run.result.stderr
    assert len([c for c in run.calls if c[:1] == ["kubectl"] and "rollout" in c]) == 1
    assert run.index("kind", "delete", "cluster")


def test_without_the_policy_pack_preparer_it_stops_before_creating_anything(tmp_path, project, outputs, all_plugins):
    (project / "scripts" / "prepare-policy-pack.sh").unlink()
    run = run_e2e(tmp_path, project, outputs, FakeJenkins(plugins=all_plugins))
    assert run.result.returncode == 1
    assert "scripts/prepare-policy-pack.sh is missing" in run.result.stderr
    assert run.calls == []


def test_help_names_prerequisites_flags_and_checks():
    for script in ("e2e.sh", "boot-check.sh"):
        done = subprocess.run([str(ROOT / "scripts" / script), "--help"], capture_output=True, text=True)
        assert done.returncode == 0
        assert "--keep" in done.stdout and "docker" in done.stdout
    e2e_help = subprocess.run([str(ROOT / "scripts" / "e2e.sh"), "--help"], capture_output=True, text=True).stdout
    for word in ("kind", "kubectl", "Pulumi CLI", "docker build", "JENKINS_HOME", "configuration-as-code"):
        assert word in e2e_help


# boot-check.sh

def run_boot_check(tmp_path: Path, project: Path, boot_log: str, login_status: int = 200) -> Run:
    bin_dir, state = stand_ins(tmp_path)
    (state / "boot.log").write_text(boot_log)
    jenkins = FakeJenkins(plugins=[], login_status=login_status)
    server = jenkins.serve()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_STATE": str(state),
           "BOOT_CHECK_PORT": str(server.server_port), "BOOT_CHECK_TIMEOUT": "5", "TMPDIR": str(tmp_path)}
    try:
        result = subprocess.run([str(project / "scripts" / "boot-check.sh"), "e2e"], env=env,
                                capture_output=True, text=True, timeout=300)
    finally:
        server.shutdown()
    calls = [json.loads(line) for line in (state / "calls.log").read_text().splitlines()]
    return Run(result, calls, state, jenkins, project)


def test_boot_check_installs_plugins_like_the_pod_and_boots_the_rendered_jcasc(tmp_path, shared_project):
    run = run_boot_check(tmp_path, shared_project, READY_LOG)
    assert run.result.returncode == 0, run.result.stderr
    install = run.calls[run.index("docker", "run", "--rm", "--name")]
    entrypoint = install.index("--entrypoint")
    assert install[entrypoint + 1:entrypoint + 4] == ["bash", CONTROLLER_IMAGE, "-c"]
    assert "jenkins-plugin-cli --plugin-file /var/jenkins_config/plugins.txt" in install[-2]
    assert "--latest false" in install[-2]
    assert install[install.index("--user") + 1] == "1000:1000"
    mounts = [install[i + 1] for i, arg in enumerate(install) if arg == "--mount"]
    home = next(m for m in mounts if m.endswith("dst=/var/jenkins_home"))
    assert home.startswith("type=volume,src=jenkins-k8s-boot-check-")
    boot = run.calls[run.index("docker", "run", "-d")]
    assert boot[-2] == CONTROLLER_IMAGE
    boot_mounts = [boot[i + 1] for i, arg in enumerate(boot) if arg == "--mount"]
    # the plugins the init container installed, where the pod mounts them: a subPath of the claim
    assert f"{home.split(',dst=')[0]},dst=/usr/share/jenkins/ref/plugins,volume-subpath=locked-plugins,readonly" \
        in boot_mounts
    assert f"{home}" in boot_mounts
    files = json.loads((run.state / "boot-mounts.json").read_text())
    casc = files["/var/jenkins_home/casc_configs"]["jenkins.yaml"]
    assert "securityRealm" in casc and "excludeClientIPFromCrumb" not in casc
    assert "admin-password" in files["/run/secrets/jenkins"]
    assert "GET /login" in run.jenkins.requests
    assert run.index("docker", "rm", "-f") > run.index("docker", "run", "-d")


def test_boot_check_fails_on_a_configuration_as_code_error_and_prints_the_log(tmp_path, shared_project):
    run = run_boot_check(tmp_path, shared_project, CASC_FAILURE_LOG)
    assert run.result.returncode == 1
    assert "configuration-as-code or start-up error" in run.result.stderr
    assert "Invalid configuration elements" in run.result.stderr
    assert run.index("docker", "rm", "-f")


def test_boot_check_fails_when_login_does_not_answer_200(tmp_path, shared_project):
    run = run_boot_check(tmp_path, shared_project, READY_LOG, login_status=503)
    assert run.result.returncode == 1
    assert "GET /login answered 503" in run.result.stderr
