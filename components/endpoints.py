"""Names and addresses of the controller, derived from config alone so pools can point at it first."""
from __future__ import annotations

from dataclasses import dataclass

from .defaults import HTTP_PORT


@dataclass(frozen=True)
class Endpoints:
    namespace: str
    http_service: str
    governing_service: str  # headless: the StatefulSet's per-pod DNS (jenkins-0.<this>.<namespace>.svc)
    service_account: str
    url: str  # what users and JCasC's location.url see
    internal_url: str  # what agents inside the cluster use

    def controller_hosts(self) -> tuple[str, ...]:
        """The controller's Service names in their namespaced forms (what agents and proxies see)."""
        return tuple(f"{service}.{self.namespace}{suffix}" for service in (self.http_service, self.governing_service)
                     for suffix in ("", ".svc", ".svc.cluster.local"))

    def pool_namespace(self, pool_name: str) -> str:
        return f"{self.namespace}-{pool_name}"

    @classmethod
    def from_config(cls, config) -> "Endpoints":
        namespace = config.namespace
        internal = f"http://jenkins.{namespace}.svc.cluster.local:{HTTP_PORT}/"
        exposure = config.exposure
        if exposure.url is not None:
            url = exposure.url
        elif exposure.ingress is not None:
            scheme = "https" if exposure.ingress.serves_tls else "http"
            url = f"{scheme}://{exposure.ingress.host}/"
        else:
            url = internal
        return cls(
            namespace=namespace,
            http_service="jenkins",
            governing_service="jenkins-headless",
            service_account="jenkins",
            url=url,
            internal_url=internal,
        )
