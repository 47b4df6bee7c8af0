"""python -m tools.e2e_plan: what the acceptance scripts (scripts/e2e.sh, scripts/boot-check.sh) run.

    plan STACK [--stack-file F] --out DIR   render the stack and write, under DIR:
        plan.tsv        one smoke job a line: job, pool, type, label, check
        jobs/<job>.xml  the pipeline job's config.xml, ready for POST /createItem
        controller/     what the controller pod gets: image, user (uid:fsGroup), casc/jenkins.yaml, plugins.txt,
                        plugin-ids, install-command (NUL-separated argv of the install-plugins
                        init container), jenkins.env and install.env (docker --env-file),
                        secret-files, paths (name=path)
    missing-plugins IDS_FILE < pluginManager.json   ids the running Jenkins does not have (exit 1 if any)
    get KEY[.KEY...]... < document.json             values of a JSON document, one a line ('' if absent)

The smoke a pool gets follows what its type promises (the `check` column):
    shell             `sh` on an agent of the pool's label
    docker-cli        plus `docker version` and `docker build` of a one-line Dockerfile (the agent
                      has a docker CLI and a daemon: controller with node Docker access, swarm-dind)
    docker-container  plus a check that the agent is itself a container the pool's Docker daemon
                      started (docker-cloud, docker-cloud-dind: their agent images carry no docker
                      CLI and no daemon address, so Docker is where the agent runs, not a tool in it)
    rootless-build    a kubernetes template with a BuildKit container: an image build in it
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional
from xml.sax.saxutils import escape

import yaml

if TYPE_CHECKING:
    from .harness import Synthesis


SMOKE_DIR = "e2e-image"
# Needs no registry: `FROM scratch` pulls nothing, so the build works offline and on any daemon.
DOCKERFILE = "FROM scratch\\nCOPY Dockerfile /Dockerfile\\n"
# Every Docker container has this empty file at its root: the daemon's init layer creates it
# (moby/moby 04472304f617, daemon/initlayer/setup_unix.go:28). Kubernetes pods on containerd and
# swarm clients do not have it.
DOCKER_CONTAINER_MARK = "/.dockerenv"
# Rootless BuildKit without a process sandbox (no extra mount namespace for RUN steps), the mode
# for an unprivileged container; `buildctl-daemonless.sh` starts buildkitd for the one build.
BUILDKIT_COMMAND = ("BUILDKITD_FLAGS=--oci-worker-no-process-sandbox buildctl-daemonless.sh build "
                    f"--frontend dockerfile.v0 --local context={SMOKE_DIR} --local dockerfile={SMOKE_DIR}")

SHELL_SMOKE = 'echo "e2e smoke on $NODE_NAME"; id; uname -a'
DOCKER_BUILD = f"docker build -t jenkins-k8s-e2e/smoke:$BUILD_NUMBER {SMOKE_DIR}"

CHECK_BY_TYPE = {
    "controller": "docker-cli",
    "swarm-dind": "docker-cli",
    "docker-cloud": "docker-container",
    "docker-cloud-dind": "docker-container",
    "swarm": "shell",
    "kubernetes": "shell",
}


def smoke_jobs(pools_config: list[dict], pools_output: dict[str, dict]) -> list[dict]:
    """One job per pool on its first label; one more per kubernetes template with a BuildKit container."""
    jobs = []
    for pool in pools_config:
        name, type_ = pool["name"], pool["type"]
        check = CHECK_BY_TYPE[type_]
        if type_ == "controller" and pool.get("docker", {}) is None:
            check = "shell"  # a controller pool without node Docker access promises none
        jobs.append({"job": f"e2e-{name}", "pool": name, "type": type_,
                     "label": pools_output[name]["labels"][0], "check": check})
        for template in pool.get("templates", ()) if type_ == "kubernetes" else ():
            builders = [c["name"] for c in template.get("containers", ())
                        if str(c.get("image", "")).startswith("moby/buildkit:")]
            if builders:
                jobs.append({"job": f"e2e-{name}-{template['name']}", "pool": name, "type": type_,
                             "label": template["labels"][0], "check": "rootless-build",
                             "container": builders[0]})
    return jobs


def groovy_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pipeline_script(job: dict) -> str:
    """The pipeline (no checkout, no library) one smoke job runs."""
    steps = ["sh " + groovy_string(SHELL_SMOKE)]
    write_dockerfile = f"writeFile file: '{SMOKE_DIR}/Dockerfile', text: '{DOCKERFILE}'"
    if job["check"] == "docker-cli":
        steps += ["sh 'docker version'", write_dockerfile, "sh " + groovy_string(DOCKER_BUILD)]
    elif job["check"] == "docker-container":
        steps.append("sh " + groovy_string(f"test -f {DOCKER_CONTAINER_MARK} && echo agent is a Docker container"))
    elif job["check"] == "rootless-build":
        steps += [write_dockerfile,
                  f"container('{job['container']}') {{ sh {groovy_string(BUILDKIT_COMMAND)} }}"]
    body = "\n".join(f"  {step}" for step in steps)
    return f"node('{job['label']}') {{\n{body}\n}}\n"


def job_xml(job: dict) -> str:
    return (
        "<?xml version='1.1' encoding='UTF-8'?>\n"
        "<flow-definition plugin=\"workflow-job\">\n"
        f"  <description>jenkins-k8s acceptance smoke: pool {escape(job['pool'])} ({escape(job['check'])})</description>\n"
        "  <definition class=\"org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition\" plugin=\"workflow-cps\">\n"
        f"    <script>{escape(pipeline_script(job))}</script>\n"
        "    <sandbox>true</sandbox>\n"
        "  </definition>\n"
        "</flow-definition>\n"
    )


def _container(statefulset: dict, name: str, init: bool = False) -> dict:
    spec = statefulset["spec"]["template"]["spec"]
    return next(c for c in spec["initContainers" if init else "containers"] if c["name"] == name)


def env_file(env: list[dict]) -> str:
    """docker --env-file lines. Values from the downward API get the stand-ins a single pod would have."""
    stand_ins = {"metadata.name": "jenkins-0", "status.hostIP": "127.0.0.1", "status.podIP": "127.0.0.1"}
    lines = []
    for item in env:
        if "value" in item:
            lines.append(f"{item['name']}={item['value']}")
        else:
            lines.append(f"{item['name']}={stand_ins.get(item['valueFrom'].get('fieldRef', {}).get('fieldPath'), '')}")
    return "\n".join(lines) + "\n"


def controller_files(synthesis: "Synthesis") -> dict[str, str]:
    statefulset = synthesis.find("StatefulSet", "jenkins").manifest()
    casc = synthesis.find("ConfigMap", "casc").manifest()["data"]
    jenkins = _container(statefulset, "jenkins")
    install = _container(statefulset, "install-plugins", init=True)
    volumes = statefulset["spec"]["template"]["spec"]["volumes"]
    secrets = next(v for v in volumes if v["name"] == "secrets")["projected"]["sources"]
    mounts = {m["name"]: m["mountPath"] for m in (*jenkins["volumeMounts"], *install["volumeMounts"])}
    return {
        "image": jenkins["image"] + "\n",
        "user": "{runAsUser}:{fsGroup}\n".format(**statefulset["spec"]["template"]["spec"]["securityContext"]),
        "casc/jenkins.yaml": casc["jenkins.yaml"],
        "plugins.txt": casc["plugins.txt"],
        "plugin-ids": "".join(line.split(":", 1)[0] + "\n" for line in casc["plugins.txt"].splitlines() if line),
        "install-command": "\0".join(install["command"]) + "\0",
        "install.env": env_file(install.get("env", [])),
        "jenkins.env": env_file(jenkins["env"]),
        "secret-files": "".join(item["path"] + "\n" for source in secrets for item in source["secret"]["items"]),
        "paths": "".join(f"{name}={path}\n" for name, path in sorted(mounts.items())),
    }


def render(stack: str, stack_file: Optional[Path]) -> tuple["Synthesis", dict]:
    # Imported here: `get` and `missing-plugins` run in polling loops and need no Pulumi runtime.
    from .harness import config_as_cli_passes_it, synthesize

    if stack_file is None:
        stack_file = Path(__file__).resolve().parent.parent / "stacks" / f"Pulumi.{stack}.yaml"
    document = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    config, secret_keys = config_as_cli_passes_it(document)
    return synthesize(stack, config=config, secret_keys=secret_keys), document


def write_plan(stack: str, stack_file: Optional[Path], out: Path) -> int:
    synthesis, document = render(stack, stack_file)
    if not synthesis.ok:
        print(f"error: {synthesis.error}", file=sys.stderr)
        return 1
    jobs = smoke_jobs(list(document.get("jenkins:pools") or []), synthesis.outputs["pools"])
    (out / "jobs").mkdir(parents=True, exist_ok=True)
    (out / "controller" / "casc").mkdir(parents=True, exist_ok=True)
    for job in jobs:
        (out / "jobs" / f"{job['job']}.xml").write_text(job_xml(job))
    (out / "plan.tsv").write_text("".join(
        "\t".join((job["job"], job["pool"], job["type"], job["label"], job["check"])) + "\n" for job in jobs))
    for name, text in controller_files(synthesis).items():
        (out / "controller" / name).write_text(text)
    return 0


def missing_plugins(ids_file: Path, plugin_manager: dict) -> list[str]:
    installed = {p["shortName"] for p in plugin_manager.get("plugins", []) if p.get("active", True)}
    return [plugin for plugin in ids_file.read_text().split() if plugin not in installed]


def get(document: Any, path: str) -> str:
    for key in path.split("."):
        if isinstance(document, dict):
            document = document.get(key)
        elif isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        else:
            document = None
    if document is None:
        return ""
    return document if isinstance(document, str) else json.dumps(document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.e2e_plan", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan")
    plan.add_argument("stack")
    plan.add_argument("--stack-file", type=Path)
    plan.add_argument("--out", type=Path, required=True)
    missing = commands.add_parser("missing-plugins")
    missing.add_argument("ids_file", type=Path)
    getter = commands.add_parser("get")
    getter.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "plan":
        return write_plan(args.stack, args.stack_file, args.out)
    if args.command == "missing-plugins":
        absent = missing_plugins(args.ids_file, json.load(sys.stdin))
        print("\n".join(absent))
        return 1 if absent else 0
    document = json.load(sys.stdin)
    for path in args.paths:
        print(get(document, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
