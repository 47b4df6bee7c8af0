"""NetworkPolicy specs as plain data: pool namespaces' egress limits and default-deny ingress."""
from __future__ import annotations

import ipaddress
from typing import Sequence

from . import defaults, labels
from .config_network import AgentEgressConfig

# CoreDNS as the cluster addon ships it answers on 53 over UDP and TCP (kubernetes/kubernetes
# @008b365 cluster/addons/dns/coredns/coredns.yaml.base:149-155).
DNS_PORTS = ({"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53})


def ip_block_peers(allow: Sequence[str], deny: Sequence[str]) -> list[dict]:
    """One ipBlock per allowed range, excepting the denied ranges strictly inside it. The API server
    rejects any other `except` ("Except values will be rejected if they are outside the cidr range",
    pulumi-kubernetes 4.34.2 sdk pulumi_kubernetes/networking/v1/_inputs.py:563; kubernetes
    pkg/apis/networking/validation/validation.go ValidateIPBlock also refuses an equal prefix: "must
    be a strict subset of `cidr`"). A denied range equal to or wider than an allowed one leaves that
    allowed range whole, so a narrow allow inside a wide deny wins."""
    peers = []
    denied = [ipaddress.ip_network(cidr) for cidr in dict.fromkeys(deny)]
    for cidr in dict.fromkeys(allow):
        network = ipaddress.ip_network(cidr)
        inside = [str(d) for d in denied
                  if d.version == network.version and d != network and d.subnet_of(network)]
        peers.append({"ipBlock": {"cidr": cidr, "except": inside} if inside else {"cidr": cidr}})
    return peers


def agent_egress_policy(egress: AgentEgressConfig, controller_namespace: str) -> dict:
    """Every pod of a pool namespace: DNS, the controller's pods on 8080, and the allowed ranges."""
    rules = [
        {"to": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: egress.dns.namespace}},
                 "podSelector": {"matchLabels": dict(egress.dns.pod_labels)}}],
         "ports": [dict(port) for port in DNS_PORTS]},
        {"to": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: controller_namespace}},
                 "podSelector": {"matchLabels": dict(labels.CONTROLLER_SELECTOR)}}],
         "ports": [{"protocol": "TCP", "port": defaults.HTTP_PORT}]},
    ]
    if egress.allow_cidrs:
        rules.append({"to": ip_block_peers(egress.allow_cidrs, egress.deny_cidrs)})
    return {"podSelector": {}, "policyTypes": ["Egress"], "egress": rules}


def deny_ingress_policy(pod_selector: dict) -> dict:
    """Nothing may open a connection to the selected pods ({} selects the whole namespace)."""
    return {"podSelector": {"matchLabels": dict(pod_selector)} if pod_selector else {},
            "policyTypes": ["Ingress"], "ingress": []}
