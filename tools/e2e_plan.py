"""python -m tools.e2e_plan: what the acceptance scripts (scripts/e2e.sh, scripts/boot-check.sh) run.

    plan STACK [--stack-file F] --out DIR [--stack-file F2 --out DIR2 ...]
                                            render the stack (from F, default stacks/Pulumi.STACK.yaml;
                                            one process renders every F/DIR pair) and write, under DIR:
        plan.tsv        one smoke job a line: job, pool, type, label, check
        jobs/<job>.xml  the pipeline job's config.xml, ready for POST /createItem
        controller/     what the controller pod runs: init-containers (those that write to a claim,
                        in order), then for each of them and `jenkins`: <name>.image, .env (docker
                        --env-file), .mounts (docker_mounts below), .command (NUL-separated argv);
                        volumes/<volume>/ (ConfigMap items, stand-in secret files), user
                        (uid:fsGroup), plugins.txt and plugin-ids (the rendered plugin list)
    missing-plugins IDS_FILE < pluginManager.json   ids the running Jenkins does not have (exit 1 if any)

The smoke a pool gets follows what its type promises (the `check` column):
    shell             `sh` on an agent of the pool's label
    docker-cli        plus `docker version` and `docker build` of a one-line Dockerfile (the agent
                      has a docker CLI and a daemon: controller with node Docker access, swarm-dind)
    docker-container  plus a check that the agent is itself a container the pool's Docker daemon
                      started (docker-cloud, docker-cloud-dind: their agent images carry no docker
                      CLI and no daemon address, so Docker is where the agent runs, not a tool in it)
    rootless-build    a kubernetes pool with `builder: buildkit-rootless`: an image build in its
                      buildkit container
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

# yaml, xml.sax (which pulls in urllib.request) and the harness are imported where they are used:
# `missing-plugins` needs none of them.
if TYPE_CHECKING:
    from .harness import Synthesis


SMOKE_DIR = "e2e-image"
# Needs no registry: `FROM scratch` pulls nothing, so the build works offline and on any daemon.
DOCKERFILE = "FROM scratch\\nCOPY Dockerfile /Dockerfile\\n"
# Every Docker container has this empty file at its root: the daemon's init layer creates it
# (moby/moby 04472304f617, daemon/initlayer/setup_unix.go:28). Kubernetes pods on containerd and
# swarm clients do not have it.
DOCKER_CONTAINER_MARK = "/.dockerenv"
# The container a kubernetes pool with `builder: buildkit-rootless` adds to every pod;
# `buildctl-daemonless.sh` starts buildkitd for the one build (its flags come from the container's env).
BUILDKIT_CONTAINER = "buildkit"
BUILDKIT_COMMAND = f"buildctl-daemonless.sh build --frontend dockerfile.v0 --local context={SMOKE_DIR} --local dockerfile={SMOKE_DIR}"

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
    """One job per pool, on its first label."""
    jobs = []
    for pool in pools_config:
        name, type_ = pool["name"], pool["type"]
        check = CHECK_BY_TYPE[type_]
        if type_ == "controller" and pool.get("docker", {}) is None:
            check = "shell"  # a controller pool without node Docker access promises none
        job = {"job": f"e2e-{name}", "pool": name, "type": type_,
               "label": pools_output[name]["labels"][0], "check": check}
        if type_ == "kubernetes" and pool.get("builder") == "buildkit-rootless":
            job.update(check="rootless-build", container=BUILDKIT_CONTAINER)
        jobs.append(job)
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
    from xml.sax.saxutils import escape

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


def docker_mounts(container: dict, volumes: dict[str, dict]) -> str:
    """The container's volume mounts as Docker would give them, one a line:
    `kind<TAB>source<TAB>subPath<TAB>target<TAB>ro|rw`, kind `volume` (a claim: one Docker volume
    per claim), `bind` (a directory under controller/ holding a ConfigMap's items or stand-in secret
    files) or `tmpfs` (an emptyDir: fresh per container). Host paths are left out: the boot check
    drives no node daemon."""
    lines = []
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        mode = "ro" if mount.get("readOnly") else "rw"
        if "persistentVolumeClaim" in volume:
            kind, source = "volume", mount["name"]
        elif "configMap" in volume or "projected" in volume or "secret" in volume:
            kind, source = "bind", f"volumes/{mount['name']}"
        elif "emptyDir" in volume:
            kind, source = "tmpfs", "-"
        elif "hostPath" in volume:
            continue
        else:
            raise ValueError(f"volume {mount['name']}: no Docker stand-in for {sorted(volume)}")
        lines.append("\t".join((kind, source, mount.get("subPath", "-"), mount["mountPath"], mode)))
    return "".join(line + "\n" for line in lines)


def volume_files(volumes: dict[str, dict], config_maps: dict[str, dict]) -> dict[str, str]:
    """volumes/<name>/<path>: a ConfigMap's items as the kubelet writes them; for Secrets, stand-ins
    (JCasC only reads them at start-up; no value is checked by the boot check)."""
    files = {}
    for name, volume in volumes.items():
        if "configMap" in volume:
            data = config_maps[volume["configMap"]["name"]]
            for item in volume["configMap"]["items"]:
                files[f"volumes/{name}/{item['path']}"] = data[item["key"]]
        secrets = [source["secret"] for source in volume.get("projected", {}).get("sources", []) if "secret" in source]
        secrets += [volume["secret"]] if "secret" in volume else []
        for secret in secrets:
            for item in secret["items"]:
                files[f"volumes/{name}/{item['path']}"] = f"stand-in for {secret['name']}/{item['key']}\n"
    return files


def controller_files(synthesis: "Synthesis") -> dict[str, str]:
    """What the controller pod runs: per container (the init containers that write to a claim, in
    order, then `jenkins`) its image, command, env and mounts, and the files of its volumes."""
    pod = synthesis.find("StatefulSet", "jenkins").manifest()["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    config_maps = {r.manifest()["metadata"]["name"]: r.manifest().get("data", {})
                   for r in synthesis.kubernetes_objects() if r.type.endswith("core/v1:ConfigMap")}
    claims = {name for name, volume in volumes.items() if "persistentVolumeClaim" in volume}
    # Init containers that only fill emptyDirs change nothing the boot check's containers share.
    init = [c for c in pod.get("initContainers", []) if {m["name"] for m in c.get("volumeMounts", [])} & claims]
    jenkins = next(c for c in pod["containers"] if c["name"] == "jenkins")
    files = {
        "init-containers": "".join(c["name"] + "\n" for c in init),
        "user": "{runAsUser}:{fsGroup}\n".format(**pod["securityContext"]),
        "plugins.txt": config_maps["jenkins-casc"]["plugins.txt"],
        "plugin-ids": "".join(line.split(":", 1)[0] + "\n"
                              for line in config_maps["jenkins-casc"]["plugins.txt"].splitlines() if line),
        **volume_files(volumes, config_maps),
    }
    for container in (*init, jenkins):
        name = container["name"]
        files[f"{name}.image"] = container["image"] + "\n"
        files[f"{name}.env"] = env_file(container.get("env", []))
        files[f"{name}.mounts"] = docker_mounts(container, volumes)
        if "command" in container:
            files[f"{name}.command"] = "\0".join(container["command"]) + "\0"
    return files


def render(stack: str, stack_file: Optional[Path]) -> tuple["Synthesis", dict]:
    import yaml

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
    for job in jobs:
        (out / "jobs" / f"{job['job']}.xml").write_text(job_xml(job))
    (out / "plan.tsv").write_text("".join(
        "\t".join((job["job"], job["pool"], job["type"], job["label"], job["check"])) + "\n" for job in jobs))
    for name, text in controller_files(synthesis).items():
        (out / "controller" / name).parent.mkdir(parents=True, exist_ok=True)
        (out / "controller" / name).write_text(text)
    return 0


def missing_plugins(ids_file: Path, plugin_manager: dict) -> list[str]:
    installed = {p["shortName"] for p in plugin_manager.get("plugins", []) if p.get("active", True)}
    return [plugin for plugin in ids_file.read_text().split() if plugin not in installed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.e2e_plan", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan")
    plan.add_argument("stack")
    plan.add_argument("--stack-file", type=Path, action="append", default=[])
    plan.add_argument("--out", type=Path, action="append", required=True)
    missing = commands.add_parser("missing-plugins")
    missing.add_argument("ids_file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "plan":
        if len(args.stack_file) not in (0, len(args.out)):
            parser.error("plan: give one --stack-file per --out, or none")
        for stack_file, out in zip(args.stack_file or [None] * len(args.out), args.out):
            if write_plan(args.stack, stack_file, out) != 0:
                return 1
        return 0
    absent = missing_plugins(args.ids_file, json.load(sys.stdin))
    print("\n".join(absent))
    return 1 if absent else 0


if __name__ == "__main__":
    sys.exit(main())
