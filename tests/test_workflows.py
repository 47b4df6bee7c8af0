"""GitHub workflows and shell scripts: schema-valid, zizmor-clean, shellcheck-clean, and wired as docs/ci.md says."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {BIN}: pip install -r requirements-dev.txt")
    return str(path)


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    return {on: None} if isinstance(on, str) else {k: None for k in on} if isinstance(on, list) else on


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def pulumi_steps(workflow: dict) -> list[dict]:
    return [s for _, s in steps(workflow) if str(s.get("uses", "")).startswith("pulumi/actions@")]


def pulumi_step(workflow: dict) -> dict:
    found = pulumi_steps(workflow)
    assert len(found) == 1, "exactly one pulumi/actions step"
    return found[0]


def shell_scripts() -> list[Path]:
    found = [*ROOT.glob("scripts/*.sh"), *ROOT.glob(".github/scripts/*.sh")]
    if (ROOT / ".ci" / "run").exists():
        found.append(ROOT / ".ci" / "run")
    return sorted(found)


def test_the_preview_deploy_and_e2e_workflows_exist():
    assert {"preview.yml", "deploy.yml", "e2e.yml"} <= {p.name for p in workflow_files()}


def test_workflows_are_valid_against_the_github_workflow_schema():
    done = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, workflow_files())], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_offline_finds_nothing():
    done = subprocess.run([tool("zizmor"), "--offline", "--no-progress", str(ROOT)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_shell_scripts_pass_shellcheck():
    scripts = shell_scripts()
    assert scripts, "scripts/ holds no *.sh"
    done = subprocess.run([tool("shellcheck"), "--external-sources", *map(str, scripts)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_least_privilege_and_pinned_actions(path: Path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow.get("permissions") == {}, "top-level permissions: {} (each job asks for its own)"
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"job {job_id} states its permissions"
        granted = {k: v for k, v in (job["permissions"] or {}).items()}
        assert set(granted.values()) <= {"read", "write", "none"}
        writes = {k for k, v in granted.items() if v == "write"}
        assert writes <= {"pull-requests"}, f"job {job_id} writes {writes}"
        if "uses" in job:  # a reusable workflow of this repository
            assert job["uses"].startswith("./.github/workflows/")
    for job_id, step in steps(workflow):
        if "uses" in step:
            assert PINNED_USES.match(step["uses"]), f"{job_id}: {step['uses']} is not pinned to a commit SHA"
            if step["uses"].startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_no_expression_is_interpolated_into_a_shell_script(path: Path):
    for job_id, step in steps(yaml.safe_load(path.read_text())):
        assert "${{" not in step.get("run", ""), f"{job_id}: pass values to run: through env"


def test_every_pinned_action_carries_its_version_comment():
    for path in workflow_files():
        for line in path.read_text().splitlines():
            if re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{path.name}: {line.strip()}"


def test_preview_comments_one_edited_diff_per_stack_with_the_policy_pack():
    workflow = load("preview.yml")
    assert set(triggers(workflow)) == {"pull_request"}
    job = workflow["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert job["if"] == "needs.backend.outputs.configured == 'true'"
    assert "checks" in job["needs"]
    step = pulumi_step(workflow)["with"]
    assert step["command"] == "preview"
    assert step["diff"] is True and step["comment-on-pr"] is True and step["edit-pr-comment"] is True
    assert step["policyPacks"] == "policy"
    assert "policy-config" in step["policyPackConfigs"]
    runs = [s.get("run", "") for _, s in steps(workflow)]
    assert any("./scripts/test.sh" in r for r in runs)
    assert any("tools.check --all" in r for r in runs)
    assert any("tools.diff" in r and "GITHUB_STEP_SUMMARY" in r for r in runs)
    # the offline diff runs whether or not a backend is configured
    assert "if" not in workflow["jobs"]["offline-diff"] and "needs" not in workflow["jobs"]["offline-diff"]


def test_deploy_goes_dev_staging_prod_one_update_per_stack_at_a_time():
    workflow = load("deploy.yml")
    assert triggers(workflow)["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in triggers(workflow)
    jobs = workflow["jobs"]
    assert jobs["dev"]["needs"] == "checks"
    assert jobs["staging"]["needs"] == "dev"
    assert jobs["prod"]["needs"] == "staging"
    for stack in ("dev", "staging", "prod"):
        assert jobs[stack]["with"] == {"stack": stack}
        assert jobs[stack]["uses"] == "./.github/workflows/deploy-stack.yml"
        assert "inherit" != jobs[stack].get("secrets")

    called = load("deploy-stack.yml")
    assert "workflow_call" in triggers(called)
    up = called["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack }}"
    assert up["concurrency"]["group"] == "pulumi-up-${{ inputs.stack }}"
    assert up["concurrency"]["cancel-in-progress"] is False
    declared = set(triggers(called)["workflow_call"]["secrets"])
    for stack in ("dev", "staging", "prod"):
        assert set(jobs[stack]["secrets"]) == declared


def test_the_pulumi_cli_matches_the_pinned_sdk():
    # The CLI and the Python SDK take their version from one script (pulumi/pulumi v3.259.0
    # Makefile:22 and sdk/python/Makefile:3-4, scripts/pulumi-version.sh), so an SDK release has a CLI
    # of the same number; pulumi/actions v7.0.0 resolves `pulumi-version` against the released
    # versions and fails the step when none matches (src/libs/libs/get-version.ts:153-169).
    pins = dict(line.split("==", 1) for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    for name in ("preview.yml", "deploy-stack.yml", "e2e.yml"):
        for step in pulumi_steps(load(name)):
            assert str(step["with"]["pulumi-version"]) == pins["pulumi"].strip()


def test_what_the_workflows_run_exists():
    for script in ("scripts/test.sh", ".github/scripts/prepare-stack.sh", "scripts/e2e.sh", "scripts/boot-check.sh"):
        assert os.access(ROOT / script, os.X_OK), f"{script} is missing or not executable"
    for module in ("check", "diff", "environment"):
        assert (ROOT / "tools" / f"{module}.py").exists()


def test_each_workflow_stack_that_exists_has_its_policy_config():
    from tools.environment import environment_of
    for stack in load("preview.yml")["jobs"]["preview"]["strategy"]["matrix"]["stack"]:
        if (ROOT / "stacks" / f"Pulumi.{stack}.yaml").exists():
            assert (ROOT / "policy" / "config" / f"{environment_of(stack)}.json").exists()


def test_prepare_stack_skips_a_stack_with_no_stack_file(tmp_path: Path):
    outputs = tmp_path / "outputs"
    done = subprocess.run(["bash", str(ROOT / ".github" / "scripts" / "prepare-stack.sh")], cwd=tmp_path,
                          env={**os.environ, "STACK": "nowhere", "GITHUB_OUTPUT": str(outputs)},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert outputs.read_text() == "skip=true\n"
    assert "stacks/Pulumi.nowhere.yaml does not exist" in done.stdout


def test_a_deploy_previews_with_the_policy_pack_before_it_updates():
    # pulumi/actions v7.0.0 `up` is `pulumi up --yes --skip-preview` (@pulumi/pulumi 3.206.0
    # sdk/nodejs/automation/stack.ts:198): the gate has to be a preview step of its own.
    job = load("deploy-stack.yml")["jobs"]["up"]
    actions = [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert [s["with"]["command"] for s in actions] == ["preview", "up"]
    preview, up = actions
    for step in (preview, up):
        assert step["with"]["policyPacks"] == "policy"
        assert step["with"]["policyPackConfigs"] == "${{ steps.prepare.outputs.policy-config }}"
        assert step["with"]["stack-name"] == "${{ steps.prepare.outputs.stack-name }}"
        assert step["if"] == "steps.prepare.outputs.skip != 'true'"
        assert "continue-on-error" not in step and "continue-on-error" not in step["with"]
    assert "continue-on-error" not in job
    assert preview["env"] == up["env"]
    # the preview never edits state or comments on anything
    assert "upsert" not in preview["with"] and "comment-on-pr" not in preview["with"]


def test_a_failed_preview_replaces_the_stacks_pull_request_comment():
    job = load("preview.yml")["jobs"]["preview"]
    ids = [s.get("id") for s in job["steps"]]
    marker = next(s for s in job["steps"] if "preview_failed_comment.py" in s.get("run", ""))
    assert job["steps"].index(marker) > ids.index("preview") > ids.index("prepare")
    assert marker["if"].startswith("failure()")
    assert marker["env"]["STACK"] == "${{ matrix.stack }}"
    assert marker["env"]["PULUMI_ORG"] == "${{ vars.PULUMI_ORG }}"
    assert marker["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert (ROOT / ".github" / "scripts" / "preview_failed_comment.py").exists()


def required_job() -> dict:
    return load("preview.yml")["jobs"]["required"]


def test_one_aggregate_job_is_the_required_check():
    jobs = load("preview.yml")["jobs"]
    job = required_job()
    assert job["name"] == "Required checks"
    assert set(job["needs"]) == set(jobs) - {"required"}
    assert job["if"] == "always()"
    assert "strategy" not in job
    section = (ROOT / "docs" / "ci.md").read_text().split("## 5. Protect", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"one status check only:\s+`Required checks`\.", section)
    assert "Tests and offline checks" not in section and "Offline manifest diff" not in section


@pytest.mark.parametrize("results, configured, passes", [
    (dict(CHECKS="success", OFFLINE_DIFF="success", BACKEND="success", PREVIEW="success"), "true", True),
    # a fork or Dependabot pull request: no backend, previews skipped
    (dict(CHECKS="success", OFFLINE_DIFF="success", BACKEND="success", PREVIEW="skipped"), "false", True),
    # skipped although a backend is configured: the checks job failed or was cancelled upstream
    (dict(CHECKS="success", OFFLINE_DIFF="success", BACKEND="success", PREVIEW="skipped"), "true", False),
    (dict(CHECKS="failure", OFFLINE_DIFF="success", BACKEND="success", PREVIEW="skipped"), "true", False),
    (dict(CHECKS="success", OFFLINE_DIFF="success", BACKEND="success", PREVIEW="failure"), "true", False),
    (dict(CHECKS="success", OFFLINE_DIFF="cancelled", BACKEND="success", PREVIEW="success"), "true", False),
    (dict(CHECKS="success", OFFLINE_DIFF="success", BACKEND="failure", PREVIEW="skipped"), "", False),
])
def test_the_aggregate_job_fails_when_a_needed_job_did_not_pass(results, configured, passes):
    step = required_job()["steps"][0]
    assert set(step["env"]) == {*results, "CONFIGURED"}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **results, "CONFIGURED": configured})
    assert (done.returncode == 0) is passes, done.stdout + done.stderr


# The acceptance run's stack and the topology it switches to (scripts/e2e.sh, e2e.yml).
ACCEPTANCE_STACKS = {"e2e", "e2e-next"}


def test_the_acceptance_stacks_are_the_ones_e2e_sh_deploys():
    script = (ROOT / "scripts" / "e2e.sh").read_text()
    assert "readonly STACK=e2e\n" in script
    assert "readonly NEXT_STACK_FILE=stacks/Pulumi.e2e-next.yaml\n" in script


def test_every_cluster_stack_is_previewed_deployed_and_has_a_policy_config():
    from tools.environment import environment_of
    from tools.harness import known_stacks
    matrix = load("preview.yml")["jobs"]["preview"]["strategy"]["matrix"]["stack"]
    deployed = [job["with"]["stack"] for job in load("deploy.yml")["jobs"].values() if "uses" in job]
    for stack in known_stacks():
        assert (ROOT / "policy" / "config" / f"{environment_of(stack)}.json").exists(), \
            f"stack {stack}: create policy/config/{environment_of(stack)}.json"
        config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
        if "renderYamlToDirectory" in (config.get("jenkins:kubernetes") or {}):
            continue  # renders to files on a laptop; nothing to preview or deploy
        if stack in ACCEPTANCE_STACKS:
            continue  # created on a throw-away kind cluster and deleted by scripts/e2e.sh
        assert stack in matrix, f"stack {stack}: add it to the preview matrix in preview.yml"
        assert stack in deployed, f"stack {stack}: add a job for it to deploy.yml"


@pytest.mark.parametrize("script, before", [
    ("scripts/up.sh", "pulumi stack select"),
    ("scripts/test.sh", "-m pytest"),
    (".github/scripts/prepare-stack.sh", 'echo "skip=false"'),
])
def test_every_entry_point_makes_the_policy_pack_virtualenv_first(script, before):
    lines = (ROOT / script).read_text().splitlines()
    prepare = [i for i, line in enumerate(lines) if line.strip().endswith("./scripts/prepare-policy-pack.sh")
               and not line.lstrip().startswith("#")]
    target = [i for i, line in enumerate(lines) if before in line and not line.lstrip().startswith("#")]
    assert prepare and target and prepare[0] < target[0], f"{script} runs scripts/prepare-policy-pack.sh first"


@pytest.mark.parametrize("name", ["preview.yml", "deploy-stack.yml"])
def test_every_pulumi_step_follows_the_prepare_step(name):
    for job in load(name)["jobs"].values():
        ids = [s.get("id") for s in job.get("steps", [])]
        for index, step in enumerate(job.get("steps", [])):
            if str(step.get("uses", "")).startswith("pulumi/actions@"):
                assert "prepare" in ids[:index]
                prepare = job["steps"][ids.index("prepare")]
                assert prepare["run"] == "./.github/scripts/prepare-stack.sh"


def test_a_diff_that_pulumi_up_would_refuse_fails_the_pull_request():
    """GitHub runs an implicit-shell step as `bash -e {0}` (no pipefail) and `shell: bash` as
    `bash --noprofile --norc -eo pipefail {0}` (GitHub docs, workflow syntax, jobs.<id>.steps[*].shell):
    only the latter lets tools.diff's exit 3 through `| tee`."""
    diff_steps = [step for _, step in steps(load("preview.yml")) if "tools.diff" in step.get("run", "")]
    assert diff_steps
    for step in diff_steps:
        assert step.get("shell") == "bash", step["name"]
        assert "| tee" in step["run"] and "|| true" not in step["run"]


def test_e2e_boots_the_controller_on_pull_requests_and_runs_acceptance_on_schedule_and_dispatch():
    workflow = load("e2e.yml")
    on = triggers(workflow)
    assert set(on) == {"pull_request", "schedule", "workflow_dispatch"}
    paths = on["pull_request"]["paths"]
    assert {"components/**", "stacks/**", "components/upstream/plugins.lock.yaml"} <= set(paths)
    assert (ROOT / "components" / "upstream" / "plugins.lock.yaml").exists()
    jobs = workflow["jobs"]
    assert "if" not in jobs["boot-check"]
    assert jobs["acceptance"]["if"] == "github.event_name != 'pull_request'"
    for job_id, script in (("boot-check", "./scripts/boot-check.sh e2e"), ("acceptance", "./scripts/e2e.sh")):
        job = jobs[job_id]
        assert job["permissions"] == {"contents": "read"}
        runs = [s.get("run", "") for s in job["steps"]]
        assert any(script in r and "set -o pipefail" in r for r in runs), job_id
        uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
        assert len(uploads) == 1 and uploads[0]["if"] == "always()", job_id
    # no secret reaches either job: the run keeps its state in a local backend with a made-up passphrase
    assert "secrets." not in (WORKFLOWS / "e2e.yml").read_text()
    cli = pulumi_step(workflow)
    assert "command" not in cli["with"]  # install only


def test_workflows_reuse_one_sha_per_action():
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        for _, step in steps(yaml.safe_load(path.read_text())):
            if "uses" in step:
                action, sha = step["uses"].split("@")
                pins.setdefault(action, set()).add(sha)
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}
