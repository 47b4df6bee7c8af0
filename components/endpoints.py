"""Names and addresses of the controller, derived from config alone so pools can point at it first."""
from __future__ import annotations

from dataclasses import dataclass

from .defaults import AGENT_PORT, HTTP_PORT


@dataclass(frozen=True)
class Endpoints:
    namespace: str
    http_service: str
    agent_service: str
    service_account: str
    url: str  # what users and JCasC's location.url see
    internal_url: str  # what agents inside the cluster use

    @property
    def agent_address(self) -> str:
        return f"{self.agent_service}.{self.namespace}.svc.cluster.local:{AGENT_PORT}"

    def pool_namespace(self, pool_name: str) -> str:
        return f"{self.namespace}-{pool_name}"

    @classmethod
    def from_config(cls, config) -> "Endpoints":
        namespace = config.namespace
        internal = f"http://jenkins.{namespace}.svc.cluster.local:{HTTP_PORT}/"
        ingress = config.exposure.ingress
        if ingress is not None:
            scheme = "https" if ingress.tls_secret_name else "http"
            url = f"{scheme}://{ingress.host}/"
        else:
            url = internal
        return cls(
            namespace=namespace,
            http_service="jenkins",
            agent_service="jenkins-agent",
            service_account="jenkins",
            url=url,
            internal_url=internal,
        )
