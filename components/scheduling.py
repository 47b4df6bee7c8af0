"""Where pods may run: one typed `scheduling` block for the controller, every pool and every
Kubernetes-plugin pod template, and the PodDisruptionBudget setting of pods whose eviction loses work.

The shapes are the Kubernetes API's (core/v1 PodSpec: nodeSelector, tolerations, affinity,
topologySpreadConstraints, priorityClassName), typed so that a wrong shape is refused at preview
with its key path; the allowed values are those the field descriptions of the OpenAPI schema the harness validates against name
(kubernetes-validate 1.37.0, io.k8s.api.core.v1.{Toleration,NodeSelectorRequirement,
LabelSelectorRequirement,TopologySpreadConstraint}). Rendered objects are also checked against
that schema by tools.check.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import Field, StringConstraints, model_validator

from .config_types import DnsName, Model

# A label key: optional DNS-subdomain prefix and a name of at most 63 characters.
LabelKey = Annotated[str, StringConstraints(
    min_length=1, max_length=317,
    pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
            r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
LabelValue = Annotated[str, StringConstraints(max_length=63, pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")]


def _values_match_operator(operator: str, values: tuple, with_numbers: bool = False) -> None:
    if operator in ("In", "NotIn") and not values:
        raise ValueError(f"operator {operator} needs at least one value")
    if operator in ("Exists", "DoesNotExist") and values:
        raise ValueError(f"operator {operator} takes no values")
    if with_numbers and operator in ("Gt", "Lt") and (len(values) != 1 or not re.fullmatch(r"-?\d+", values[0])):
        raise ValueError(f"operator {operator} takes exactly one whole number")


class Toleration(Model):
    key: Optional[LabelKey] = Field(None, description="taint key; empty with operator Exists tolerates every taint")
    operator: Literal["Equal", "Exists"] = Field("Equal", description="Equal (key and value) or Exists (key only)")
    value: Optional[LabelValue] = Field(None, description="taint value, with operator Equal")
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = Field(
        None, description="taint effect to tolerate; empty tolerates every effect")
    toleration_seconds: Optional[Annotated[int, Field(ge=0)]] = Field(
        None, description="with effect NoExecute: how long the pod stays after the taint appears")

    @model_validator(mode="after")
    def _consistent(self) -> "Toleration":
        if self.operator == "Exists" and self.value:
            raise ValueError("operator Exists takes no value")
        if not self.key and self.operator != "Exists":
            raise ValueError("a toleration without key needs operator Exists")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds applies only to effect NoExecute")
        return self


class NodeSelectorRequirement(Model):
    key: LabelKey = Field(description="node label key (or field name under matchFields)")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] = Field(description="how values apply")
    values: tuple[LabelValue, ...] = Field((), description="values for In/NotIn; one number for Gt/Lt")

    @model_validator(mode="after")
    def _consistent(self) -> "NodeSelectorRequirement":
        _values_match_operator(self.operator, self.values, with_numbers=True)
        return self


class NodeSelectorTerm(Model):
    match_expressions: tuple[NodeSelectorRequirement, ...] = Field((), description="on node labels")
    match_fields: tuple[NodeSelectorRequirement, ...] = Field((), description="on node fields")


class NodeSelector(Model):
    node_selector_terms: Annotated[tuple[NodeSelectorTerm, ...], Field(min_length=1)] = Field(
        description="terms ORed together")


class PreferredSchedulingTerm(Model):
    weight: Annotated[int, Field(ge=1, le=100)] = Field(description="1-100")
    preference: NodeSelectorTerm = Field(description="the nodes preferred")


class NodeAffinity(Model):
    required_during_scheduling_ignored_during_execution: Optional[NodeSelector] = Field(
        None, description="nodes the pod must run on")
    preferred_during_scheduling_ignored_during_execution: tuple[PreferredSchedulingTerm, ...] = Field(
        (), description="nodes the pod prefers")


class LabelSelectorRequirement(Model):
    key: LabelKey = Field(description="label key")
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"] = Field(description="how values apply")
    values: tuple[LabelValue, ...] = Field((), description="values for In/NotIn")

    @model_validator(mode="after")
    def _consistent(self) -> "LabelSelectorRequirement":
        _values_match_operator(self.operator, self.values)
        return self


class LabelSelector(Model):
    match_labels: dict[LabelKey, LabelValue] = Field({}, description="labels that must all match")
    match_expressions: tuple[LabelSelectorRequirement, ...] = Field((), description="requirements ANDed")


class PodAffinityTerm(Model):
    topology_key: LabelKey = Field(description="node label that defines a topology domain")
    label_selector: Optional[LabelSelector] = Field(None, description="the pods this term is about")
    namespaces: tuple[DnsName, ...] = Field((), description="their namespaces (default: the pod's own)")
    namespace_selector: Optional[LabelSelector] = Field(None, description="their namespaces, by label")


class WeightedPodAffinityTerm(Model):
    weight: Annotated[int, Field(ge=1, le=100)] = Field(description="1-100")
    pod_affinity_term: PodAffinityTerm = Field(description="the preferred term")


class PodAffinity(Model):
    required_during_scheduling_ignored_during_execution: tuple[PodAffinityTerm, ...] = Field(
        (), description="terms that must hold")
    preferred_during_scheduling_ignored_during_execution: tuple[WeightedPodAffinityTerm, ...] = Field(
        (), description="terms preferred")


class Affinity(Model):
    node_affinity: Optional[NodeAffinity] = Field(None, description="which nodes")
    pod_affinity: Optional[PodAffinity] = Field(None, description="next to which pods")
    pod_anti_affinity: Optional[PodAffinity] = Field(None, description="away from which pods")


class TopologySpreadConstraint(Model):
    max_skew: Annotated[int, Field(ge=1)] = Field(description="largest allowed difference between domains")
    topology_key: LabelKey = Field(description="node label that defines a domain, e.g. topology.kubernetes.io/zone")
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"] = Field(
        description="DoNotSchedule (hard) or ScheduleAnyway (soft)")
    label_selector: Optional[LabelSelector] = Field(
        None, description="the pods counted (default: this workload's own pod labels)")
    min_domains: Optional[Annotated[int, Field(ge=1)]] = Field(
        None, description="with DoNotSchedule: the domains counted at least")


class SchedulingConfig(Model):
    """PodSpec placement fields; rendered as given onto the pod spec."""

    node_selector: dict[LabelKey, LabelValue] = Field({}, description="node labels the pod's node must have")
    tolerations: tuple[Toleration, ...] = Field((), description="taints the pod tolerates")
    affinity: Optional[Affinity] = Field(None, description="node affinity, pod affinity and anti-affinity")
    topology_spread_constraints: tuple[TopologySpreadConstraint, ...] = Field(
        (), description="how replicas spread over zones or nodes")
    priority_class_name: Optional[DnsName] = Field(None, description="an existing PriorityClass")

    def pod_spec_fields(self, own_labels: Optional[dict] = None) -> dict:
        """The PodSpec fields to merge in. A topology spread constraint without a labelSelector counts
        the workload's own pods (`own_labels`), which is what spreading replicas means."""
        fields = _without_empty(self.model_dump(mode="json", by_alias=True, exclude_none=True))
        if own_labels is not None:
            for constraint in fields.get("topologySpreadConstraints", []):
                constraint.setdefault("labelSelector", {"matchLabels": dict(own_labels)})
        return fields


def _without_empty(value):
    """Drop keys whose value is an empty list or mapping: an unset field, not an empty one."""
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def apply(spec: dict, scheduling: Optional[SchedulingConfig], own_labels: Optional[dict] = None) -> dict:
    """`spec` with the placement fields of `scheduling` (a new dict; `spec` is not changed)."""
    if scheduling is None:
        return spec
    return {**spec, **scheduling.pod_spec_fields(own_labels)}


class DisruptionBudgetConfig(Model):
    """A PodDisruptionBudget over a workload whose pods hold work that an eviction would lose."""

    enabled: bool = Field(True, description="render the PodDisruptionBudget")
    max_unavailable: Annotated[int, Field(ge=0, le=100)] = Field(
        0, description="pods that a voluntary eviction (node drain) may take down at once; 0 blocks every "
                       "eviction until the budget is changed or the pod is deleted by hand")


def disruption_budget_spec(budget: Optional[DisruptionBudgetConfig], selector: dict) -> Optional[dict]:
    """The policy/v1 PodDisruptionBudget spec, or None when there is to be none."""
    if budget is None or not budget.enabled:
        return None
    # maxUnavailable 0 "can prevent all voluntary evictions"; AlwaysAllow lets a pod that is not Ready
    # (which serves no build) be evicted anyway, so a crash-looping pod never blocks a drain
    # (io.k8s.api.policy.v1.PodDisruptionBudgetSpec field descriptions, Kubernetes 1.30 schema in
    # kubernetes-validate 1.37.0).
    return {"maxUnavailable": budget.max_unavailable, "selector": {"matchLabels": dict(selector)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow"}
