"""Config models for restricted networks: where images and plugins come from, which CAs to trust,
and the HTTP(S) proxy. Applied by site.py to every pod, pod template and JCasC image."""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, Field, model_validator

from .config_types import DnsName, Model

# host[:port] and an optional path of lowercase repository components: what may precede
# `/<repository>:<tag>` in an image reference (docker/cli v29.7.2 vendor/github.com/distribution/
# reference/regexp.go grammar; a domain has a '.' or ':' or is localhost, normalize.go:138-151).
RegistryPrefix = Annotated[str, Field(
    max_length=200,
    pattern=r"^(localhost|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+|"
            r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*:[0-9]{1,5})"
            r"(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")]

HttpUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")]


class PluginMirrorConfig(Model):
    """Where jenkins-plugin-cli reads update-center metadata and downloads plugins."""

    update_center: HttpUrl = Field(
        description="update-center.json of the mirror (a URL not ending in json gets /update-center.json "
                    "appended); jenkins-plugin-cli --jenkins-update-center.")
    plugin_info: Optional[HttpUrl] = Field(
        None, description="plugin-versions.json of the mirror; jenkins-plugin-cli --jenkins-plugin-info "
                          "(default https://updates.jenkins.io/plugin-versions.json).")
    download_url: Optional[HttpUrl] = Field(
        None, description="Base URL plugins are downloaded from as <url>/<id>/<version>/<id>.hpi instead of the "
                          "URL in update-center.json; jenkins-plugin-cli --jenkins-update-center-download-url.")


class ImagesConfig(Model):
    registry: Optional[RegistryPrefix] = Field(
        None, description="Registry or mirror prefix for every image: a Docker Hub image `[docker.io/]<path>:<tag>` "
                          "becomes `<registry>/<path>:<tag>`, official images keeping `library/` "
                          "(docker:29.7.2-dind -> <registry>/library/docker:29.7.2-dind); images already under "
                          "the prefix stay; images of any other registry are refused.")
    pull_secrets: tuple[DnsName, ...] = Field(
        (), description="Names of kubernetes.io/dockerconfigjson Secrets added to imagePullSecrets of every pod and "
                        "pod template; each must exist in every namespace that runs pods (see README).")
    plugin_mirror: Optional[PluginMirrorConfig] = Field(
        None, description="Update-centre/plugin mirror for the plugin download at controller start.")

    @model_validator(mode="after")
    def _unique(self) -> "ImagesConfig":
        if len(set(self.pull_secrets)) != len(self.pull_secrets):
            raise ValueError("pullSecrets: a name is listed twice")
        return self


# Kubernetes ConfigMap/Secret data keys.
DataKey = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")]


class KeyRef(Model):
    name: DnsName = Field(description="Name of the ConfigMap or Secret, in every namespace that runs pods.")
    key: DataKey = Field("ca.crt", description="Key holding the PEM bundle.")


_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")


def _pem_bundle(value: str) -> str:
    if not _PEM_CERT.search(value):
        raise ValueError("holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)")
    if "PRIVATE KEY" in value:
        raise ValueError("holds a private key: a CA bundle is certificates only")
    return value


class CaBundleConfig(Model):
    """Extra CAs (PEM) trusted on top of the public ones; exactly one source."""

    config_map: Optional[KeyRef] = Field(None, description="An existing ConfigMap holding the bundle.")
    secret: Optional[KeyRef] = Field(None, description="An existing Secret holding the bundle.")
    pem: Optional[Annotated[str, AfterValidator(_pem_bundle)]] = Field(
        None, description="The bundle itself; the program writes it into a ConfigMap in every namespace it owns.")

    @model_validator(mode="after")
    def _one_source(self) -> "CaBundleConfig":
        given = [name for name in ("config_map", "secret", "pem") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of configMap, secret, pem")
        return self


# No user:password@ in a proxy URL: it would end up in plain env values and JVM options.
ProxyUrl = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$")]


def _no_proxy_entry(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
        return value
    except ValueError:
        pass
    if not re.fullmatch(r"\.?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", value):
        raise ValueError(f"'{value}' is not a host name, a .domain suffix, an IP address or a CIDR")
    return value


NoProxyEntry = Annotated[str, AfterValidator(_no_proxy_entry)]


class ProxyConfig(Model):
    """An HTTP(S) proxy for the controller, plugin downloads, agents and Docker daemons."""

    http_proxy: Optional[ProxyUrl] = Field(None, description="Proxy for http:// URLs, e.g. http://proxy.corp:3128.")
    https_proxy: Optional[ProxyUrl] = Field(None, description="Proxy for https:// URLs, e.g. http://proxy.corp:3128.")
    no_proxy: tuple[NoProxyEntry, ...] = Field(
        (), description="Hosts, .domain suffixes, IPs and CIDRs reached directly, added to the ones always reached "
                        "directly: localhost, 127.0.0.1, .svc, .cluster.local, kubernetes.default.svc and the "
                        "controller's Services. Add your pod and Service CIDRs here.")

    @model_validator(mode="after")
    def _some_proxy(self) -> "ProxyConfig":
        if self.http_proxy is None and self.https_proxy is None:
            raise ValueError("set httpProxy, httpsProxy or both")
        return self


def docker_config_problem(value: Any) -> Optional[str]:
    """Why a ~/.docker/config.json document cannot serve as a pull secret, never quoting it."""
    if not isinstance(value, dict) or not isinstance(value.get("auths"), dict) or not value["auths"]:
        return "must be a Docker config JSON document with a non-empty `auths` mapping"
    for registry, entry in value["auths"].items():
        if not isinstance(entry, dict) or not (entry.get("auth") or (entry.get("username") and entry.get("password"))):
            return f"auths entry for {registry!s:.100} needs `auth` or `username` and `password`"
    return None
