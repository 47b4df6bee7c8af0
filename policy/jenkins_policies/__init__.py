"""Rules of the jenkins-k8s policy pack. `POLICIES` is what policy/__main__.py packs."""
from .framework import pss_policy
from .jenkins import POLICIES as JENKINS_POLICIES
from .pss import ALL as PSS_CHECKS

POLICIES = [pss_policy(check) for check in PSS_CHECKS] + list(JENKINS_POLICIES)
