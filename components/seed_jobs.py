"""Seed jobs (`jenkins:jobs`) as plain data: one job-dsl script that declares a multibranch
Pipeline job per configured repository, placed under JCasC's `jobs:` root. Pure functions only.

Facts relied on:
- job-dsl (jenkinsci/job-dsl-plugin, read at aac2bedf, one commit before the pinned
  3732.v9a_c49a_61a_313) provides the `jobs:` JCasC root; every entry is run at each JCasC load,
  after `${...}` in its text is resolved by JCasC's secret sources
  (job-dsl-plugin/src/main/java/javaposse/jobdsl/plugin/casc/SeedJobConfigurator.java:36-37,65-70,103-117).
  So a new or restored controller creates (or updates) these jobs at boot, and no `$` may reach
  the script from user values. The script runs with the plain JenkinsDslScriptLoader
  (SeedJobConfigurator.java:120), not the sandboxed or approval-checked loaders a seed job's build
  step uses (ExecuteDslScripts.java:353-360), so no script approval can block the boot.
- `multibranchPipelineJob` with a static `git` branch source takes id (constant and unique per
  job), remote, credentialsId and includes (job-dsl-core .../dsl/jobs/MultibranchWorkflowJob.groovy:15-29,
  .../helpers/workflow/BranchSourcesContext.groovy:23-43); git 5.10.1 turns includes into a
  WildcardSCMHeadFilterTrait (src/main/java/jenkins/plugins/git/GitSCMSource.java:236-242), whose
  patterns are separated by spaces (scm-api WildcardSCMHeadFilterTrait.java:113).
- `factory { workflowBranchProjectFactory { scriptPath(...) } }` and `triggers { periodicFolderTrigger
  { interval(...) } }` are job-dsl's dynamic DSL, naming classes without @Symbol by their
  uncapitalized simple name (job-dsl-plugin .../plugin/structs/DescribableHelper.groovy:40-53):
  workflow-multibranch WorkflowBranchProjectFactory (setScriptPath, :52-60) and cloudbees-folder
  6.1100 PeriodicFolderTrigger(String interval) (:61-66; clamped to 1 minute..30 days, :104-131).
- A PeriodicFolderTrigger on a folder never indexed schedules indexing at its next tick
  (PeriodicFolderTrigger.java:170-198); `queue(name)` indexes at once: job-dsl schedules the named
  item after the script ran (job-dsl-core AbstractDslScriptLoader.groovy:65,238;
  JenkinsJobManagement.java:238-246), and JCasC applies its document as SYSTEM
  (configuration-as-code ConfigurationAsCode.java:908), so the build permission check passes.
"""
from __future__ import annotations

import re
from typing import Sequence

OWNER = "jenkins:jobs"
PLUGIN = "job-dsl"

# What may appear inside a Groovy single-quoted literal here: printable ASCII except `$` (JCasC
# would resolve `${...}` in the script text) and the characters the quoting escapes anyway.
_SAFE = re.compile(r"^[\x20-\x7e]*$")


def groovy_string(value: str) -> str:
    """A single-quoted Groovy string literal: no interpolation, backslash and quote escaped."""
    if not _SAFE.match(value) or "$" in value:
        raise ValueError(f"{value!r} cannot be placed in a job-dsl script (control character or '$')")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def job_script(job) -> str:
    """The job-dsl text for one seed job (a SeedJobConfig)."""
    q = groovy_string
    source = [f"id({q(job.name)})", f"remote({q(job.repository)})"]
    if job.credentials_id:
        source.append(f"credentialsId({q(job.credentials_id)})")
    source.append(f"includes({q(job.branch)})")
    lines = [
        f"multibranchPipelineJob({q(job.name)}) {{",
        "  branchSources {",
        "    git {",
        *(f"      {line}" for line in source),
        "    }",
        "  }",
        "  factory {",
        "    workflowBranchProjectFactory {",
        f"      scriptPath({q(job.script_path)})",
        "    }",
        "  }",
        "  triggers {",
        "    periodicFolderTrigger {",
        f"      interval({q(job.scan_interval)})",
        "    }",
        "  }",
        "}",
        f"queue({q(job.name)})",
    ]
    return "\n".join(lines) + "\n"


def jobs_fragment(jobs: Sequence) -> dict:
    """The JCasC `jobs:` root with one inline script per job; nothing when there are no jobs."""
    if not jobs:
        return {}
    return {"jobs": [{"script": job_script(job)} for job in jobs]}
