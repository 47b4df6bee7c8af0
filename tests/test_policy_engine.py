"""The policy pack's own rules, its config handling and the engine harness, all through the real
pack over gRPC (tools.policy_engine starts it as Pulumi's language host does)."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.policy_pack import shared_pack
from tools.harness import SECRET_SIG, SECRET_SIG_KEY as SIG_KEY
from tools.policy_engine import (
    PolicyConfigError, PolicyPackSession, PolicyResource, _struct,
    manifests_to_resources, type_token,
)

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "policy" / "config"
DEV, STAGING, PROD = CONFIG / "dev.json", CONFIG / "staging.json", CONFIG / "prod.json"

RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False, "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
}
RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}


def container(name="app", image="jenkins/inbound-agent:3345.v03dee9b_f88fc-1-jdk21", **extra) -> dict:
    return {"name": name, "image": image, "securityContext": copy.deepcopy(RESTRICTED_CONTAINER),
            "resources": copy.deepcopy(RESOURCES), **extra}


def workload(kind="Deployment", name="app", namespace="jenkins", labels=None, containers=None,
             volumes=None, **spec_extra) -> dict:
    """A restricted-compliant workload; tests then break one thing."""
    pod_spec = {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": containers or [container()], **spec_extra}
    if volumes:
        pod_spec["volumes"] = volumes
    template = {"metadata": {"labels": {"app": name, **(labels or {})}}, "spec": pod_spec}
    api = {"Pod": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1", "CronJob": "batch/v1"}[kind]
    body = {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    if kind == "Pod":
        body["metadata"]["labels"] = template["metadata"]["labels"]
        body["spec"] = pod_spec
    elif kind == "CronJob":
        body["spec"] = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        body["spec"] = {"selector": {"matchLabels": {"app": name}}, "template": template}
    return body


def namespace(name: str, enforce: str = "restricted") -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": enforce}}}


def resource(body: dict, logical: str | None = None, **options) -> PolicyResource:
    token = type_token(body["apiVersion"], body["kind"])
    meta = body["metadata"]
    logical = logical or (f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"])
    return PolicyResource(urn=f"urn:pulumi:test::jenkins-k8s::{token}::{logical}", type=token,
                          name=logical, properties=body, **options)


def by_resource(violations) -> dict[str, list]:
    out: dict[str, list] = {}
    for v in violations:
        out.setdefault(v.resource_name, []).append(v)
    return out


def policies(violations, level: str | None = None) -> set[str]:
    return {v.policy_name for v in violations if level is None or v.enforcement_level == level}


# ---- config handling ----------------------------------------------------------------------

def write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


SMALL = [resource(namespace("jenkins")), resource(workload())]


@pytest.fixture(scope="module")
def pack(request):
    """The process's running pack (tests/policy_pack.py); start-up and shutdown themselves are
    tested with a session of their own (test_pack_is_stopped_after_a_run)."""
    return shared_pack(request)


@pytest.mark.parametrize("config,expected", [
    ({"pss-privilegd": "mandatory"}, 'unknown policy "pss-privilegd"'),
    ({"pss-privileged": {"allow": [{"podLabels": "jenkins-k8s.io/dind=true"}]}},
     'policy "pss-privileged", key "allow[0].podLabels"'),
    ({"pss-privileged": {"allow": [{"reason": "no selector"}]}}, 'policy "pss-privileged", key "allow[0]"'),
    ({"jenkins-container-resources": {"limits": ["gpu"]}}, 'policy "jenkins-container-resources", key "limits[0]"'),
    ({"jenkins-namespace-pod-security": {"level": "strict"}}, 'policy "jenkins-namespace-pod-security", key "level"'),
    ({"jenkins-image-pinned": {"requireDigest": "yes"}}, 'policy "jenkins-image-pinned", key "requireDigest"'),
    ({"jenkins-image-pinned": {"requireDigests": True}}, 'policy "jenkins-image-pinned": unknown option "requireDigests"'),
    ({"pss-privileged": "blocking"}, 'policy "pss-privileged": "blocking" is not a valid enforcement level'),
    ({"all": {"enforcementLevel": "strict"}}, 'policy "all", key "enforcementLevel"'),
])
def test_bad_config_is_refused_with_one_line(pack, tmp_path, config, expected):
    with pytest.raises(PolicyConfigError) as refused:
        pack.check(SMALL, write(tmp_path, config))
    text = str(refused.value)
    assert expected in text
    assert "\n" not in text and str(tmp_path) in text


def test_cli_prints_config_errors_on_one_line(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text(json.dumps(workload()))
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from tools.policy_engine import check_manifests_main; "
                               "sys.exit(check_manifests_main(sys.argv[1:]))",
         "--policy-config", str(write(tmp_path, {"no-such-policy": "mandatory"})), str(manifest)],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and 'unknown policy "no-such-policy"' in result.stderr


def test_all_sets_levels_then_entries_override(pack, tmp_path):
    """`all` applies first, named entries after (as the CLI's applyConfig)."""
    privileged = workload(containers=[container(securityContext={**RESTRICTED_CONTAINER, "privileged": True})])
    found = pack.check([resource(namespace("jenkins")), resource(privileged)],
                            write(tmp_path, {"all": "advisory", "pss-privileged": "mandatory"}))
    assert policies(found, "mandatory") == {"pss-privileged"}
    found = pack.check([resource(namespace("jenkins")), resource(privileged)],
                            write(tmp_path, {"all": "disabled"}))
    assert found == []


@pytest.mark.parametrize("path", sorted(CONFIG.glob("*.json")), ids=lambda p: p.name)
def test_shipped_configs_are_accepted_and_applied_as_written(pack, path):
    written = json.loads(path.read_text())
    config = pack.configure(path)
    default = written.get("all")
    for name, entry in config.items():
        value = written.get(name, default)
        level = value if isinstance(value, str) else (value or {}).get("enforcementLevel", default)
        if level is not None:
            assert entry.level == level, f"{path.name}: {name} configured {entry.level}, written {level}"
        if isinstance(value, dict) and "allow" in value:
            assert entry.properties["allow"] == value["allow"], f"{path.name}: {name} allow list changed"


def test_presets_turn_on_only_their_pod_security_checks(pack):
    baseline = pack.configure(CONFIG / "baseline.json")
    restricted = pack.configure(CONFIG / "restricted.json")

    def on(config):
        return {name for name, e in config.items() if name != "all" and e.level != "disabled"}

    assert all(config[n].level == "mandatory" for config in (baseline, restricted) for n in on(config))
    assert on(baseline) == {
        "pss-privileged", "pss-host-namespaces", "pss-host-path-volumes", "pss-host-ports",
        "pss-capabilities-baseline", "pss-seccomp-baseline", "pss-apparmor", "pss-selinux",
        "pss-proc-mount", "pss-sysctls", "pss-windows-host-process", "pss-host-probes-lifecycle"}
    # Restricted replaces four baseline checks by their restricted versions, as PSA does.
    assert on(restricted) == (on(baseline) - {
        "pss-capabilities-baseline", "pss-seccomp-baseline", "pss-host-path-volumes", "pss-proc-mount"}) | {
        "pss-restricted-volumes", "pss-allow-privilege-escalation", "pss-capabilities-restricted",
        "pss-proc-mount-restricted", "pss-run-as-non-root", "pss-run-as-user", "pss-seccomp-restricted"}


# ---- allow-lists ----------------------------------------------------------------------------

DIND = workload("StatefulSet", "dind", "jenkins-dev-dind", labels={"jenkins-k8s.io/dind": "true"},
                containers=[container("dind", "docker:28.5.1-dind",
                                      securityContext={"privileged": True, "runAsUser": 0, "runAsNonRoot": False})])
SOCKET_PATH = {"name": "docker-sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}}
CONTROLLER_WITH_SOCKET = workload("StatefulSet", "jenkins", "jenkins-dev",
                                  labels={"jenkins-k8s.io/docker-socket": "true"}, volumes=[SOCKET_PATH])


@pytest.fixture(scope="module")
def privileged_stack():
    return [
        resource(namespace("jenkins-dev", "privileged")),
        resource(namespace("jenkins-dev-dind", "privileged")),
        resource(DIND),
        resource(CONTROLLER_WITH_SOCKET),
        # The same DinD pod without its label, and the socket pod trying privileged too.
        resource(workload("StatefulSet", "unlabelled", "jenkins-dev-dind", containers=DIND["spec"]["template"]
                          ["spec"]["containers"])),
        resource(workload("StatefulSet", "socket-privileged", "jenkins-dev",
                          labels={"jenkins-k8s.io/docker-socket": "true"}, volumes=[SOCKET_PATH],
                          containers=[container(securityContext={**RESTRICTED_CONTAINER, "privileged": True})])),
    ]


def test_dev_allows_dind_and_the_docker_socket(pack, privileged_stack):
    found = by_resource(pack.check(privileged_stack, DEV))
    assert policies(found.get("jenkins-dev-dind/dind", []), "mandatory") == set()
    assert policies(found.get("jenkins-dev-dind/dind", [])) == set()  # not even a restricted warning
    assert policies(found.get("jenkins-dev/jenkins", [])) == set()
    # Exemptions follow the label and stay limited to their checks.
    assert policies(found["jenkins-dev-dind/unlabelled"], "mandatory") == {"pss-privileged"}
    assert policies(found["jenkins-dev/socket-privileged"], "mandatory") == {"pss-privileged"}


def test_prod_allows_nothing(pack, privileged_stack):
    found = by_resource(pack.check(privileged_stack, PROD))
    dind = found["jenkins-dev-dind/dind"]
    assert {"pss-privileged", "pss-run-as-user", "pss-run-as-non-root",
            "pss-allow-privilege-escalation"} <= policies(dind, "mandatory")
    assert ('StatefulSet jenkins-dev-dind/dind container "dind": securityContext.privileged=true '
            "is not allowed (baseline: privileged)") in {v.message for v in dind}
    socket = policies(found["jenkins-dev/jenkins"], "mandatory")
    assert {"pss-host-path-volumes", "pss-restricted-volumes", "jenkins-no-docker-socket"} <= socket
    # The namespaces' privileged labels are refused in prod too.
    assert {"jenkins-namespace-pod-security"} <= policies(found["jenkins-dev"], "mandatory")


def test_staging_allows_dind_pools_only(pack, privileged_stack):
    staged = [resource(namespace("jenkins-staging-dind", "privileged")),
              resource({**copy.deepcopy(DIND), "metadata": {"name": "dind", "namespace": "jenkins-staging-dind"}}),
              resource(namespace("jenkins-staging", "restricted")),
              resource({**copy.deepcopy(CONTROLLER_WITH_SOCKET),
                        "metadata": {"name": "jenkins", "namespace": "jenkins-staging"}})]
    found = by_resource(pack.check(staged, STAGING))
    assert policies(found.get("jenkins-staging-dind/dind", [])) == set()
    assert {"pss-host-path-volumes", "jenkins-no-docker-socket"} <= policies(found["jenkins-staging/jenkins"], "mandatory")


# ---- Jenkins rules: one failing and one passing case each -----------------------------------

def pvc(name: str, component: str = "jenkins-home") -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "jenkins", "labels": {"app.kubernetes.io/component": component}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}


def configmap(name: str, data: dict) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "jenkins"}, "data": data}


JENKINS_CASES = {
    # name: (resource, policy expected to fire, or None for "no violation at all")
    "socket": (workload(name="socket", volumes=[SOCKET_PATH]), "jenkins-no-docker-socket"),
    "socket-dir": (workload(name="socket-dir", volumes=[{"name": "run", "hostPath": {"path": "/var/run/"}}]),
                   "jenkins-no-docker-socket"),
    "socket-elsewhere": (workload(name="socket-elsewhere",
                                  volumes=[{"name": "s", "hostPath": {"path": "/opt/docker/docker.sock"}}]),
                         "jenkins-no-docker-socket"),
    "unpinned": (workload(name="unpinned", containers=[container(image="jenkins/jenkins")]), "jenkins-image-pinned"),
    "latest": (workload(name="latest", containers=[container(image="registry:5000/jenkins:latest")]),
               "jenkins-image-pinned"),
    "port-not-tag": (workload(name="port-not-tag", containers=[container(image="registry:5000/jenkins")]),
                     "jenkins-image-pinned"),
    "digest": (workload(name="digest", containers=[container(image="registry:5000/jenkins@sha256:" + "a" * 64)]),
               None),
    "no-limits": (workload(name="no-limits", containers=[container(resources={"requests": RESOURCES["requests"]})]),
                  "jenkins-container-resources"),
    "sidecar-no-requests": (workload(name="sidecar-no-requests", initContainers=[
        container("sidecar", restartPolicy="Always", resources={"limits": RESOURCES["limits"]})]),
        "jenkins-container-resources"),
    "env-literal": (workload(name="env-literal", containers=[container(env=[{"name": "GITHUB_TOKEN", "value": "ghp_x"}])]),
                    "jenkins-no-secret-literals"),
    "env-from-secret": (workload(name="env-from-secret", containers=[container(env=[
        {"name": "GITHUB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "gh", "key": "token"}}},
        {"name": "ADMIN_PASSWORD_FILE", "value": "/run/secrets/jenkins/admin-password"},
        {"name": "JAVA_OPTS", "value": "-Xmx1g"}])]), None),
    "cm-secret": (configmap("cm-secret", {"adminPassword": "hunter2", "jenkins.yaml": "x: 1"}),
                  "jenkins-no-secret-literals"),
    "cm-plain": (configmap("cm-plain", {"jenkins.yaml": "password: ${ADMIN_PASSWORD}", "API_KEY": "${API_KEY}"}), None),
    "home-unprotected": (pvc("home-unprotected"), "jenkins-home-protected"),
    "other-pvc": (pvc("other-pvc", component="cache"), None),
    "ok": (workload(name="ok"), None),
}


@pytest.fixture(scope="module")
def jenkins_results(pack):
    resources = [resource(namespace("jenkins"))]
    resources += [resource(body, logical=name) for name, (body, _) in JENKINS_CASES.items()]
    resources.append(resource(pvc("home-protected"), logical="home-protected", protect=True))
    # Namespace rule: a weak label and an undeclared namespace fail; "jenkins" passes.
    resources += [resource(namespace("weak", "baseline")), resource(workload(name="w", namespace="weak")),
                  resource(workload(name="nowhere", namespace="undeclared"))]
    return by_resource(pack.check(resources, PROD))


@pytest.mark.parametrize("name", sorted(JENKINS_CASES))
def test_jenkins_rule(jenkins_results, name):
    expected = JENKINS_CASES[name][1]
    found = jenkins_results.get(name, [])
    jenkins = policies([v for v in found if v.policy_name.startswith("jenkins-")])
    if expected is None:
        assert found == [], [v.message for v in found]
    else:
        assert jenkins == {expected}, [v.message for v in found]
        assert all(v.enforcement_level == "mandatory" for v in found)


def test_jenkins_home_protected_passes_when_protected(jenkins_results):
    assert "home-protected" not in jenkins_results
    [v] = jenkins_results["home-unprotected"]
    assert "PersistentVolumeClaim jenkins/home-unprotected" in v.message and "protect" in v.message


def test_namespace_pod_security_levels(jenkins_results):
    assert policies(jenkins_results["weak"]) == {"jenkins-namespace-pod-security"}
    assert '"baseline" is weaker than the required "restricted"' in jenkins_results["weak"][0].message
    [undeclared] = jenkins_results["undeclared/nowhere"]
    assert undeclared.policy_name == "jenkins-namespace-pod-security"
    assert "Namespace undeclared: runs pods (Deployment undeclared/nowhere)" in undeclared.message
    assert "jenkins" not in jenkins_results and "weak/w" not in jenkins_results


def test_messages_name_resource_container_and_field(jenkins_results):
    messages = {v.message for v in jenkins_results["env-literal"]}
    assert ('Deployment jenkins/env-literal container "app": env "GITHUB_TOKEN" has a literal value; '
            "use valueFrom.secretKeyRef or a mounted file (jenkins-no-secret-literals)") in messages
    [sidecar] = jenkins_results["sidecar-no-requests"]
    assert sidecar.message.startswith('Deployment jenkins/sidecar-no-requests initContainer "sidecar": resources.requests')


# ---- every pod-carrying kind, every container kind ---------------------------------------------

@pytest.mark.parametrize("kind", ["Pod", "Deployment", "StatefulSet", "CronJob"])
def test_ephemeral_and_init_containers_are_checked(pack, kind):
    bad = container("debug", securityContext={**RESTRICTED_CONTAINER, "privileged": True})
    body = workload(kind, name="k", initContainers=[copy.deepcopy(bad) | {"name": "init"}])
    template_spec = body["spec"] if kind == "Pod" else (
        body["spec"]["jobTemplate"]["spec"]["template"]["spec"] if kind == "CronJob" else body["spec"]["template"]["spec"])
    template_spec["ephemeralContainers"] = [{k: v for k, v in bad.items() if k != "resources"}]
    found = pack.check([resource(namespace("jenkins")), resource(body)], CONFIG / "baseline.json")
    assert {v.message.split(":")[0] for v in found} == {
        f'{kind} jenkins/k initContainer "init"', f'{kind} jenkins/k ephemeralContainer "debug"'}


# ---- the harness itself ---------------------------------------------------------------------

def test_secrets_are_sent_marked_and_still_checked(pack):
    struct = _struct({"data": {"token": "x"}, "kind": "Secret"}, secret_keys=("data",))
    assert struct["data"][SIG_KEY] == SECRET_SIG and struct["data"]["value"]["token"] == "x"
    assert struct["kind"] == "Secret"
    # A secret-marked ConfigMap value still reaches the rule as its plain value.
    cm = resource(configmap("marked", {"DB_PASSWORD": "hunter2"}), secret_keys=("data",))
    found = pack.check([cm], PROD)
    assert policies(found) == {"jenkins-no-secret-literals"}


def test_pack_is_stopped_after_a_run():
    with PolicyPackSession() as session:
        session.configure(PROD)
        pid = session.process.pid
        assert session.analyze([resource(namespace("jenkins")), resource(workload())]) == []
    assert session.process is None and session.last_pid == pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


class RecordingStub:
    """The session's stub, noting how many Analyze calls are in flight and when AnalyzeStack goes."""

    def __init__(self, stub):
        self.stub, self.in_flight, self.most, self.events = stub, 0, 0, []
        self.lock = threading.Lock()
        self.Analyze = SimpleNamespace(future=self.analyze)

    def analyze(self, request):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        call = self.stub.Analyze.future(request)
        call.add_done_callback(self.done)
        return call

    def done(self, _call):
        with self.lock:
            self.in_flight -= 1
            self.events.append("Analyze")

    def __getattr__(self, name):  # GetAnalyzerInfo, Configure, ConfigureStack
        return getattr(self.stub, name)

    def AnalyzeStack(self, request):
        with self.lock:
            self.events.append(f"AnalyzeStack with {self.in_flight} Analyze in flight")
        return self.stub.AnalyzeStack(request)


def test_resources_are_analyzed_a_few_at_a_time_and_the_stack_after_them(pack):
    """As the engine: AnalyzeStack once every resource is analyzed; and never thousands of Analyze
    calls in flight at once (the pack's gRPC server cancelled some of them then)."""
    privileged = container(securityContext={**RESTRICTED_CONTAINER, "privileged": True})
    bodies = [workload(name=f"w{i}", containers=[privileged] if i % 2 else None) for i in range(60)]
    real, pack.stub = pack.stub, RecordingStub(pack.stub)
    try:
        found = by_resource(pack.check([resource(namespace("jenkins"))] + [resource(b) for b in bodies], PROD))
        recorded = pack.stub
    finally:
        pack.stub = real
    assert sorted(found) == sorted(f"jenkins/w{i}" for i in range(1, 60, 2))
    assert all(policies(v) == {"pss-privileged"} for v in found.values())
    assert 1 <= recorded.most <= 16
    assert recorded.events == ["Analyze"] * 61 + ["AnalyzeStack with 0 Analyze in flight"]


def test_manifests_to_resources(tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text("\n---\n".join(json.dumps(d) for d in [
        namespace("jenkins"), {k: v for k, v in workload().items() if k != "metadata"} | {"metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "List", "items": [configmap("c", {})]},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}]))
    located = manifests_to_resources([path])
    types = [r.type for _, r in located]
    assert types == ["kubernetes:core/v1:Namespace", "kubernetes:apps/v1:Deployment",
                     "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"]
    assert located[1][1].properties["metadata"]["namespace"] == "default"
    assert "namespace" not in located[0][1].properties["metadata"]
    assert located[3][1].secret_keys == ("stringData",)
    assert len({r.urn for _, r in located}) == 4
