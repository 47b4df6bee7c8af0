"""jenkins:jobs: seed jobs reach Jenkins as a job-dsl script under JCasC's `jobs:` root (run at every
boot, so a new or restored controller has its jobs), with job-dsl installed at its locked version;
user values cannot break out of their string literals."""
from __future__ import annotations

import pytest

from components import jcasc_conformance, seed_jobs
from components.config import ConfigError, parse_stack_config
from tests.conftest import minimal_config, stack_config, synth_config
from tests.helpers import casc, plugins
from tools import check

APP = {"name": "app", "repository": "https://git.example.org/team/app.git", "branch": "main release-*",
       "scriptPath": "ci/Jenkinsfile", "credentialsId": "git-token", "scanInterval": "15m"}
# The credential APP reads the repository with (a seed job may only name a declared one).
GIT_TOKEN = {"id": "git-token", "type": "usernamePassword", "description": "git",
             "username": "bot", "passwordFrom": {"secretName": "team-git", "key": "token"}}

APP_SCRIPT = """multibranchPipelineJob('app') {
  branchSources {
    git {
      id('app')
      remote('https://git.example.org/team/app.git')
      credentialsId('git-token')
      includes('main release-*')
    }
  }
  factory {
    workflowBranchProjectFactory {
      scriptPath('ci/Jenkinsfile')
    }
  }
  triggers {
    periodicFolderTrigger {
      interval('15m')
    }
  }
}
queue('app')
"""

# A public repository with every default: branch main, Jenkinsfile at the root, no credential, 1h.
LIB_SCRIPT = """multibranchPipelineJob('lib') {
  branchSources {
    git {
      id('lib')
      remote('git@git.example.org:team/lib.git')
      includes('main')
    }
  }
  factory {
    workflowBranchProjectFactory {
      scriptPath('Jenkinsfile')
    }
  }
  triggers {
    periodicFolderTrigger {
      interval('1h')
    }
  }
}
queue('lib')
"""


def config_error(**overrides) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"environment": "test", "namespace": "jenkins-test", **overrides})
    return str(raised.value)


def test_seed_jobs_render_as_job_dsl_scripts_under_the_jobs_root():
    synthesis = synth_config(minimal_config(jobs=[APP, {"name": "lib", "repository": "git@git.example.org:team/lib.git"}],
                                            credentials=[GIT_TOKEN]))
    assert synthesis.ok, synthesis.error
    document = casc(synthesis)
    assert document["jobs"] == [{"script": APP_SCRIPT}, {"script": LIB_SCRIPT}]
    assert jcasc_conformance.problems(document) == []


def test_job_dsl_is_installed_at_its_locked_version_only_when_there_are_jobs():
    with_jobs = synth_config(minimal_config(jobs=[APP], credentials=[GIT_TOKEN]))
    listed = dict(line.split(":", 1) for line in
                  with_jobs.find(":ConfigMap", "casc").inputs["data"]["plugins.txt"].splitlines())
    assert listed["job-dsl"] == "3732.v9a_c49a_61a_313"
    # and what job-dsl requires, which the base set already brings
    assert {"branch-api", "cloudbees-folder", "script-security", "structs"} <= set(listed)
    assert "job-dsl" not in plugins(synth_config(minimal_config()))


def test_a_jobs_root_from_a_fragment_also_brings_job_dsl():
    synthesis = synth_config(minimal_config(jcasc={"seed": {"config": {"jobs": [{"script": "folder('team')\n"}]}}}))
    assert synthesis.ok, synthesis.error
    assert "job-dsl" in plugins(synthesis)


def test_a_fragment_script_appends_to_the_generated_jobs():
    synthesis = synth_config(minimal_config(jobs=[APP], credentials=[GIT_TOKEN], jcasc={"seed": {"config": {"jobs": [{"script": "folder('team')\n"}]}}}))
    assert synthesis.ok, synthesis.error
    assert casc(synthesis)["jobs"] == [{"script": APP_SCRIPT}, {"script": "folder('team')\n"}]


def test_an_unknown_script_source_is_refused_naming_the_fragment():
    synthesis = synth_config(minimal_config(jcasc={"seed": {"config": {"jobs": [{"scriptz": "folder('x')"}]}}}))
    assert synthesis.error.startswith(
        "jenkins:jcasc.seed: JCasC from jenkins:jcasc.seed would stop Jenkins at boot: jobs[0]: unknown "
        "javaposse.jobdsl.plugin.casc.ScriptSource symbol 'scriptz' (known: script)"), synthesis.error


@pytest.mark.parametrize("key, value", [
    ("repository", "https://git.example.org/x.git') ; Jenkins.instance.doSafeExit(null) ; ('"),
    ("repository", "https://git.example.org/${admin-password}.git"),
    ("repository", "https://git.example.org/x.git\nqueue('other')"),
    ("repository", "file:///var/jenkins_home/secrets"),
    ("branch", "main') { evil() } ('"),
    ("branch", "${admin-password}"),
    ("scriptPath", "Jenkinsfile'); evil('"),
    ("credentialsId", "git'); evil('"),
    ("name", "app') { }\nfolder('x"),
    ("scanInterval", "1h'); evil('"),
])
def test_an_injection_attempt_is_refused_naming_the_key(key, value):
    error = config_error(jobs=[{**APP, key: value}])
    assert error.startswith(f"jenkins:jobs[0].{key}: "), error


def test_a_password_in_the_repository_url_is_refused_without_repeating_it():
    error = config_error(jobs=[{**APP, "repository": "https://robot:s3cr3t-t0ken@git.example.org/app.git"}])
    assert error == ("jenkins:jobs[0].repository: must not hold a password or token (user:secret@host); "
                     "use credentialsId")
    error = config_error(jobs=[{**APP, "repository": "https://robot:s3cr3t$t0ken@git.example.org/app.git"}])
    assert "s3cr3t" not in error


def test_job_names_are_unique():
    assert config_error(jobs=[APP, {**APP, "repository": "https://git.example.org/other.git"}]) == (
        "jenkins:jobs: job name 'app' is used twice; job names must be unique")


def test_groovy_string_escapes_quotes_and_backslashes_and_refuses_dollar_and_newlines():
    assert seed_jobs.groovy_string("it's a\\path") == "'it\\'s a\\\\path'"
    for value in ("${x}", "a\nb", "tab\there"):
        with pytest.raises(ValueError):
            seed_jobs.groovy_string(value)


def test_the_staging_stack_ships_a_seed_job_and_a_fragment_and_passes_check(capsys):
    config = stack_config("staging")
    assert config["jenkins:jobs"] and config["jenkins:jcasc"]
    code = check.main(["staging"])
    printed = capsys.readouterr()
    assert code == 0, printed.out + printed.err


@pytest.mark.parametrize("jobs, expected", [
    ([{"script": 5}], "jobs[0].script: expected string, got int 5"),
    ({"script": "folder('x')"}, "jobs: expected a list, got a mapping"),
    ([{"url": "https://example.org/seed.groovy"}],
     "jobs[0]: unknown javaposse.jobdsl.plugin.casc.ScriptSource symbol 'url' (known: script)"),
])
def test_the_checker_knows_the_shape_of_the_jobs_root(jobs, expected):
    assert jcasc_conformance.problems({"jobs": jobs}) == [expected]


def test_a_job_credential_must_be_one_the_config_declares():
    job = {"name": "app", "repository": "https://git.example.com/app.git", "credentialsId": "git-token"}
    refused = synth_config(minimal_config(jobs=[job]))
    assert refused.error == ("jenkins:jobs[0].credentialsId: no credential 'git-token' in jenkins:credentials "
                             "(declared: none)")
    assert refused.records == []
    credential = {"id": "git-token", "type": "usernamePassword", "description": "git",
                  "username": "bot", "passwordFrom": {"secretName": "team-git", "key": "token"}}
    accepted = synth_config(minimal_config(jobs=[job], credentials=[credential]))
    assert accepted.ok, accepted.error
