"""Config models for how Jenkins is reached (exposure) and what agent pods may reach (agent egress)."""
from __future__ import annotations

import ipaddress
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from .config_types import DnsLabel, DnsName, Model

# ------------------------------------------------------------------ shared scalar types

_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
# Kubernetes qualified name: optional DNS-subdomain prefix and '/', then a name of at most 63 characters.
QualifiedName = Annotated[str, Field(
    max_length=317, pattern=rf"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_LABEL_NAME}$")]
LabelValue = Annotated[str, Field(max_length=63, pattern=rf"^({_LABEL_NAME})?$")]


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a CIDR with no host bits set ({exc})") from None
    return str(network)


Cidr = Annotated[str, AfterValidator(_cidr)]

# ------------------------------------------------------------------ agent egress

# Where cluster and cloud-internal addresses live: RFC 1918, shared/CGNAT space (some clusters take
# pod ranges from it), link-local (cloud metadata 169.254.169.254, NodeLocal DNS), and the IPv6
# unique-local and link-local ranges. A cluster whose pods or Services use public addresses adds them.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
                  "fc00::/7", "fe80::/10")
ANYWHERE = ("0.0.0.0/0", "::/0")


class DnsServerConfig(Model):
    namespace: DnsLabel = Field("kube-system", description="Namespace of the cluster DNS pods.")
    pod_labels: dict[QualifiedName, LabelValue] = Field(
        {"k8s-app": "kube-dns"}, min_length=1,
        description="Labels that select the cluster DNS pods (CoreDNS and kube-dns both carry k8s-app=kube-dns).")


class AgentEgressConfig(Model):
    """What pods in pool namespaces (build pods, swarm clients, DinD daemons) may open connections to.

    Always allowed: the cluster DNS (UDP and TCP 53) and the controller's pods on 8080. Besides
    those, `allowCidrs` minus `denyCidrs`, where a denied range only removes addresses from allowed
    ranges wider than itself: allowing 10.1.2.0/24 (an internal registry) opens it even though
    10.0.0.0/8 is denied."""

    allow_cidrs: tuple[Cidr, ...] = Field(
        ANYWHERE,
        description="Destinations builds may reach (git hosts, registries); [] for none but DNS and the controller.")
    deny_cidrs: tuple[Cidr, ...] = Field(
        PRIVATE_RANGES, description="Ranges removed from wider allowed ranges: the cluster's pods, Services, nodes, "
                                    "API server and cloud metadata.")
    dns: DnsServerConfig = Field(DnsServerConfig(), description="The cluster DNS pods agents resolve names with.")


# ------------------------------------------------------------------ exposure

# cert-manager's ingress-shim reads exactly one of these annotations on an Ingress (cert-manager
# v1.21.1 (24e3319) pkg/apis/certmanager/v1/types.go:147,151; both at once is an error,
# pkg/controller/certificate-shim/sync.go:929-933).
ISSUER_ANNOTATIONS = {"ClusterIssuer": "cert-manager.io/cluster-issuer", "Issuer": "cert-manager.io/issuer"}
DEFAULT_TLS_SECRET = "jenkins-tls"


class CertManagerIssuer(Model):
    kind: Literal["ClusterIssuer", "Issuer"] = Field(
        description="ClusterIssuer (cluster-wide) or Issuer (must live in the controller's namespace).")
    name: DnsName = Field(description="Name of the cert-manager issuer.")


def _annotation_key(key: str) -> str:
    if key.split("/")[0].endswith("cert-manager.io"):
        raise ValueError(f"annotation '{key}': set exposure.ingress.issuer instead of cert-manager annotations")
    return key


class IngressConfig(Model):
    host: DnsName = Field(description="Host name the Ingress serves.")
    class_name: Optional[DnsLabel] = Field(None, description="IngressClass; the cluster default when unset.")
    tls_secret_name: Optional[DnsName] = Field(
        None, description=f"TLS Secret the Ingress serves: required with existing-secret; with cert-manager "
                          f"the Secret it creates, '{DEFAULT_TLS_SECRET}' unless set.")
    issuer: Optional[CertManagerIssuer] = Field(
        None, description="cert-manager issuer; required with tls: cert-manager.")
    # Declared after the keys it checks, so its validator sees them (and names this key).
    tls: Literal["cert-manager", "existing-secret", "disabled"] = Field(
        description="Where the certificate comes from: cert-manager (from `issuer`), existing-secret (a "
                    "kubernetes.io/tls Secret you create, named by `tlsSecretName`), or disabled (plain HTTP).")
    annotations: dict[Annotated[QualifiedName, AfterValidator(_annotation_key)], str] = Field(
        {}, description="Extra Ingress annotations for the ingress controller (not cert-manager's: use issuer).")
    controller_namespace: DnsLabel = Field(
        "ingress-nginx",
        description="Namespace of the ingress controller's pods: the only one let through to 8080 besides agents.")

    @field_validator("tls")
    @classmethod
    def _tls_source_is_complete(cls, tls: str, info: ValidationInfo) -> str:
        secret, issuer = info.data.get("tls_secret_name"), info.data.get("issuer")
        if tls == "cert-manager" and issuer is None:
            raise ValueError("cert-manager needs exposure.ingress.issuer (kind ClusterIssuer or Issuer, and name)")
        if tls == "existing-secret" and secret is None:
            raise ValueError("existing-secret needs exposure.ingress.tlsSecretName (the TLS Secret you created)")
        if tls != "cert-manager" and issuer is not None:
            raise ValueError(f"is {tls}, so exposure.ingress.issuer would be ignored: remove it or use cert-manager")
        if tls == "disabled" and secret is not None:
            raise ValueError("is disabled, so exposure.ingress.tlsSecretName would be ignored: remove it")
        return tls

    @property
    def secret_name(self) -> Optional[str]:
        """The TLS Secret the Ingress names, or None for plain HTTP."""
        if not self.serves_tls:
            return None
        return self.tls_secret_name or DEFAULT_TLS_SECRET

    @property
    def serves_tls(self) -> bool:
        return self.tls != "disabled"

    def all_annotations(self) -> dict[str, str]:
        extra = {ISSUER_ANNOTATIONS[self.issuer.kind]: self.issuer.name} if self.issuer else {}
        return {**self.annotations, **extra}


PublicUrl = Annotated[str, Field(pattern=r"^https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?/([^\s?#]*/)?$")]


class ExposureConfig(Model):
    ingress: Optional[IngressConfig] = Field(None, description="An Ingress for the web UI; none when unset.")
    allow_from_namespaces: tuple[DnsLabel, ...] = Field(
        (), description="Namespaces (besides agents and the ingress controller) whose pods may reach the web UI/API.")
    url: Optional[PublicUrl] = Field(
        None, validate_default=True,
        description="Public URL (JCasC location.url, links in mails and build pages) when it differs from the "
                    "Ingress host, e.g. behind another proxy; ends with '/'.")

    @field_validator("url")
    @classmethod
    def _url_matches_ingress_tls(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        ingress = info.data.get("ingress")
        if value is None or ingress is None:
            return value
        scheme = value.split(":", 1)[0]
        if scheme == "https" and not ingress.serves_tls:
            raise ValueError("is https but exposure.ingress.tls is disabled: nothing serves the certificate")
        if scheme == "http" and ingress.serves_tls:
            raise ValueError(f"is http but exposure.ingress serves TLS (tls: {ingress.tls}): use https")
        return value
