"""The jenkins-k8s CrossGuard policy pack: only assembles the rules from jenkins_policies."""
from pulumi_policy import EnforcementLevel, PolicyPack

from jenkins_policies import POLICIES

PolicyPack(
    name="jenkins-k8s",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
