"""How this site reaches images, plugins and the internet, applied to pods and JCasC as pure data.

One `Site` is built from the stack config and handed to the controller and every pool; each pod
spec (and each Kubernetes-plugin pod template) passes through `Site.pod_spec` before it is
registered, and each Docker-plugin template image through `Site.image`.

Facts relied on:
- Image names: a first path component with '.' or ':' (or `localhost`) is a registry, anything else
  is Docker Hub (`docker.io`), and a one-component Docker Hub name is an official image under
  `library/` (docker/cli v29.7.2, vendor/github.com/distribution/reference/normalize.go:126-166).
- dockerd trusts a registry's CA from /etc/docker/certs.d/<host[:port]>/ca.crt and honours
  HTTP_PROXY, HTTPS_PROXY and NO_PROXY (docker/cli v29.7.2 docs/reference/dockerd.md:699-705,
  :149-154, :169).
- Every JVM the container starts (the controller, jenkins-plugin-cli, swarm and inbound agents,
  builds' tools) parses JAVA_TOOL_OPTIONS as options, before its own command line (openjdk/jdk
  src/hotspot/share/runtime/arguments.cpp, Arguments::parse_java_tool_options_environment_variable);
  the jenkins image and the jenkins/agent and jenkins/inbound-agent images keep the JDK in
  JAVA_HOME=/opt/java/openjdk, with keytool and lib/security/cacerts (jenkinsci/docker 2.568.2
  debian/Dockerfile:143-145; jenkinsci/docker-agent @b066c0a debian/Dockerfile:114).
- Java's `http.nonProxyHosts` takes '|'-separated host patterns with '*' at either end, and no CIDRs.
- jenkins-plugin-cli 2.15.0 fetches update-center JSON with java.net.URL (PluginManager.java:835) and
  downloads with an HttpClient built `useSystemProperties()` (:172): both follow the JVM's proxy and
  trustStore properties, so JAVA_TOOL_OPTIONS reaches it too.
- The Docker plugin pulls a template's image through the daemon with the template's
  `pullCredentialsId` (a Jenkins credential; docker-plugin 1324.v2fb_b_df97fe1d
  DockerTemplateBase.java:265, DockerCloud.java:929-934), not with Kubernetes pull secrets: Docker
  templates get the mirrored name only.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence
from urllib.parse import urlsplit

from . import defaults
from .pod_security import restricted_container_context

DOCKER_HUB = "docker.io"
OFFICIAL_PREFIX = "library/"

CA_VOLUME = "ca-bundle"
TRUSTSTORE_VOLUME = "truststore"
TRUSTSTORE_DIR = "/var/run/jenkins-k8s/truststore"
TRUSTSTORE = f"{TRUSTSTORE_DIR}/cacerts"
# The JDK's own default store password; it protects integrity, not secrecy (the store holds public certificates).
TRUSTSTORE_PASSWORD = "changeit"
CA_BUNDLE_DIR = "/var/run/jenkins-k8s/ca-bundle"
CA_BUNDLE_FILE = "ca.crt"
# Created in each namespace the program owns when the bundle is given inline (`caBundle.pem`).
CA_CONFIG_MAP = "jenkins-ca-bundle"
# Created in each namespace that runs pods when jenkins:imagePullDockerConfig is set.
PULL_SECRET = "jenkins-image-pull"
TRUSTSTORE_INIT = "import-ca-bundle"

# Always reached directly: the cluster's own names.
CLUSTER_NO_PROXY = ("localhost", "127.0.0.1", ".svc", ".cluster.local", "kubernetes.default.svc")


class ImageOutsideRegistry(ValueError):
    pass


def split_image(ref: str) -> tuple[str, str]:
    """(registry, path[:tag|@digest]) as Docker reads the reference."""
    first, sep, rest = ref.partition("/")
    if not sep:
        return DOCKER_HUB, OFFICIAL_PREFIX + ref
    if first == "localhost" or "." in first or ":" in first:
        if first == "index.docker.io":
            first = DOCKER_HUB
        if first == DOCKER_HUB and "/" not in rest:
            return first, OFFICIAL_PREFIX + rest
        return first, rest
    return DOCKER_HUB, ref


def mirrored(ref: str, registry: Optional[str]) -> str:
    """The reference pulled through `registry`: Docker Hub paths under the prefix, the prefix's own
    images unchanged, any other registry refused."""
    if registry is None or ref.startswith(registry + "/"):
        return ref
    host, path = split_image(ref)
    if host != DOCKER_HUB:
        raise ImageOutsideRegistry(
            f"image '{ref}' is on {host}, not Docker Hub, so it cannot be mapped under {registry}: "
            f"write it as {registry}/...")
    return f"{registry}/{path}"


def registry_host(registry: str) -> str:
    return registry.split("/", 1)[0]


@dataclass(frozen=True)
class Proxy:
    http_proxy: Optional[str]
    https_proxy: Optional[str]
    no_proxy: tuple[str, ...]

    def env(self) -> list[dict]:
        """Both spellings: curl reads only the lower-case http_proxy, Go and most tools either."""
        values = [("HTTP_PROXY", self.http_proxy), ("HTTPS_PROXY", self.https_proxy),
                  ("NO_PROXY", ",".join(self.no_proxy))]
        return [{"name": spelling, "value": value}
                for name, value in values if value
                for spelling in (name, name.lower())]

    def java_non_proxy_hosts(self) -> list[str]:
        """no_proxy in Java's pattern form: `.svc` -> `*.svc`; CIDRs have no Java form and are left out."""
        out = []
        for entry in self.no_proxy:
            if "/" in entry:
                continue
            out.append("*" + entry if entry.startswith(".") else entry)
        return out

    def java_options(self) -> list[str]:
        options = []
        for scheme, url in (("http", self.http_proxy), ("https", self.https_proxy)):
            if url:
                host, port = host_port(url)
                options += [f"-D{scheme}.proxyHost={host}", f"-D{scheme}.proxyPort={port}"]
        # One property for both schemes (https reads http.nonProxyHosts).
        options.append("-Dhttp.nonProxyHosts=" + "|".join(self.java_non_proxy_hosts()))
        return options

    def jcasc(self) -> dict:
        """core's ProxyConfiguration (`jenkins.proxy`): one proxy; the https one when both are given."""
        host, port = host_port(self.https_proxy or self.http_proxy)
        return {"name": host, "port": port, "noProxyHost": "\n".join(self.java_non_proxy_hosts())}


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


@dataclass(frozen=True)
class Site:
    registry: Optional[str] = None
    pull_secrets: tuple[str, ...] = ()
    # jenkins-plugin-cli options for the plugin mirror.
    plugin_cli_options: tuple[str, ...] = ()
    # The CA bundle's volume source ({"configMap": ...} or {"secret": ...}) with the key at CA_BUNDLE_FILE.
    ca_source: Optional[Mapping[str, Any]] = None
    proxy: Optional[Proxy] = None
    ca_pem: Optional[str] = None  # set when the program creates the CA ConfigMap in each namespace it owns
    pull_docker_config: Optional[Any] = field(default=None, repr=False)  # a secret value; never printed

    def image(self, ref: str) -> str:
        return mirrored(ref, self.registry)

    def java_options(self) -> list[str]:
        options = []
        if self.ca_source is not None:
            options += [f"-Djavax.net.ssl.trustStore={TRUSTSTORE}",
                        f"-Djavax.net.ssl.trustStorePassword={TRUSTSTORE_PASSWORD}"]
        if self.proxy is not None:
            options += self.proxy.java_options()
        return options

    def pull_secret_refs(self) -> list[dict]:
        names = [*self.pull_secrets, *((PULL_SECRET,) if self.pull_docker_config is not None else ())]
        return [{"name": name} for name in names]

    def controller_jcasc(self) -> dict:
        return {"jenkins": {"proxy": self.proxy.jcasc()}} if self.proxy is not None else {}

    def pod_spec(self, spec: Mapping[str, Any], *, truststore_image: Optional[str],
                 dockerd_containers: Sequence[str] = ()) -> dict:
        """`spec` with every image mirrored, the pull secrets, the proxy env on every container, and
        the CA bundle: a truststore built by an init container (keytool from `truststore_image`) for
        the JVMs, /etc/docker/certs.d/<registry>/ca.crt for the daemons named in `dockerd_containers`."""
        spec = dict(spec)
        init = [dict(c) for c in spec.get("initContainers", [])]
        main = [dict(c) for c in spec.get("containers", [])]
        volumes = [dict(v) for v in spec.get("volumes", [])]
        java_options = self.java_options()
        if self.ca_source is not None and truststore_image is not None:
            init.insert(0, truststore_container(truststore_image))
        for container in (*init, *main):
            container["image"] = self.image(container["image"])
            env = [dict(e) for e in container.get("env", [])]
            extra = list(self.proxy.env()) if self.proxy else []
            if java_options and container["name"] not in (*dockerd_containers, TRUSTSTORE_INIT) and (
                    truststore_image is not None or self.ca_source is None):
                extra.append({"name": "JAVA_TOOL_OPTIONS", "value": " ".join(java_options)})
            container["env"] = _add_env(env, extra, container["name"]) or None
            if container["env"] is None:
                del container["env"]
        dockerd_trusts = bool(self.registry) and any(c["name"] in dockerd_containers for c in (*init, *main))
        if self.ca_source is not None and (truststore_image is not None or dockerd_trusts):
            volumes.append({"name": CA_VOLUME, **{k: dict(v) for k, v in self.ca_source.items()}})
            for container in (*init, *main):
                mounts = list(container.get("volumeMounts", []))
                if container["name"] == TRUSTSTORE_INIT:
                    continue
                if container["name"] in dockerd_containers:
                    if self.registry:
                        mounts.append({"name": CA_VOLUME, "readOnly": True, "subPath": CA_BUNDLE_FILE,
                                       "mountPath": f"/etc/docker/certs.d/{registry_host(self.registry)}/ca.crt"})
                elif truststore_image is not None:
                    mounts.append({"name": TRUSTSTORE_VOLUME, "mountPath": TRUSTSTORE_DIR, "readOnly": True})
                container["volumeMounts"] = mounts
            if truststore_image is not None:
                volumes.append({"name": TRUSTSTORE_VOLUME, "emptyDir": {}})
        if init:
            spec["initContainers"] = init
        spec["containers"] = main
        if volumes:
            spec["volumes"] = volumes
        refs = self.pull_secret_refs()
        if refs:
            spec["imagePullSecrets"] = [*spec.get("imagePullSecrets", []), *refs]
        return spec


def _add_env(env: list[dict], extra: Iterable[dict], container: str) -> list[dict]:
    names = {e["name"] for e in env}
    for item in extra:
        if item["name"] in names:
            raise ValueError(f"container {container} already sets {item['name']}, which the site settings set")
        env.append(item)
    return env


# Split the PEM bundle into one file per certificate (keytool -importcert reads one), then import
# each into a copy of the image JDK's own store, so public CAs stay trusted.
_IMPORT_SCRIPT = """set -eu
store={store}
cp "$JAVA_HOME/lib/security/cacerts" "$store"
chmod u+w "$store"
mkdir -p {work}
awk -v dir={work} '/-----BEGIN CERTIFICATE-----/ {{ n++; file = sprintf("%s/%03d.pem", dir, n) }}
  file != "" {{ print > file }}
  /-----END CERTIFICATE-----/ {{ close(file); file = "" }}' {bundle}
count=0
for pem in {work}/*.pem; do
  [ -e "$pem" ] || continue
  count=$((count + 1))
  keytool -importcert -noprompt -trustcacerts -alias "jenkins-k8s-ca-$count" -file "$pem" \\
    -keystore "$store" -storepass {password}
done
rm -rf {work}
[ "$count" -gt 0 ] || {{ echo "ca bundle: no certificate in {bundle}" >&2; exit 1; }}
echo "ca bundle: $count certificate(s) added to $store"
"""


def truststore_container(image: str) -> dict:
    script = _IMPORT_SCRIPT.format(store=shlex.quote(TRUSTSTORE), work=f"{TRUSTSTORE_DIR}/pem",
                                   bundle=f"{CA_BUNDLE_DIR}/{CA_BUNDLE_FILE}", password=TRUSTSTORE_PASSWORD)
    return {
        "name": TRUSTSTORE_INIT,
        "image": image,
        "command": ["sh", "-c", script],
        "resources": defaults.HELPER_RESOURCES.as_kubernetes(),
        "securityContext": restricted_container_context(),
        "volumeMounts": [{"name": CA_VOLUME, "mountPath": CA_BUNDLE_DIR, "readOnly": True},
                         {"name": TRUSTSTORE_VOLUME, "mountPath": TRUSTSTORE_DIR}],
    }


def ca_volume_source(bundle) -> Optional[dict]:
    """The volume source that puts the bundle at CA_BUNDLE_FILE."""
    if bundle is None:
        return None
    if bundle.pem is not None:
        return {"configMap": {"name": CA_CONFIG_MAP, "items": [{"key": CA_BUNDLE_FILE, "path": CA_BUNDLE_FILE}]}}
    if bundle.config_map is not None:
        ref = bundle.config_map
        return {"configMap": {"name": ref.name, "items": [{"key": ref.key, "path": CA_BUNDLE_FILE}]}}
    ref = bundle.secret
    return {"secret": {"secretName": ref.name, "items": [{"key": ref.key, "path": CA_BUNDLE_FILE}]}}


def plugin_cli_options(mirror) -> tuple[str, ...]:
    """jenkinsci/plugin-installation-manager-tool 2.15.0 plugin-management-cli/src/main/java/io/jenkins/
    tools/pluginmanager/cli/CliOptions.java:101-105 (--jenkins-update-center, over JENKINS_UC),
    :121-126 (--jenkins-plugin-info), :128-133 (--jenkins-update-center-download-url, used as
    <url>/<id>/<version>/<id>.hpi: PluginManager.java:1243-1252)."""
    if mirror is None:
        return ()
    options = ["--jenkins-update-center", mirror.update_center]
    if mirror.plugin_info:
        options += ["--jenkins-plugin-info", mirror.plugin_info]
    if mirror.download_url:
        options += ["--jenkins-update-center-download-url", mirror.download_url]
    return tuple(options)


def from_config(config, controller_hosts: Sequence[str]) -> Site:
    """The site of a validated StackConfig; `controller_hosts` are the controller's Service DNS names."""
    proxy = None
    if config.proxy is not None:
        no_proxy = tuple(dict.fromkeys([*CLUSTER_NO_PROXY, *controller_hosts, *config.proxy.no_proxy]))
        proxy = Proxy(config.proxy.http_proxy, config.proxy.https_proxy, no_proxy)
    return Site(
        registry=config.images.registry,
        pull_secrets=config.images.pull_secrets,
        plugin_cli_options=plugin_cli_options(config.images.plugin_mirror),
        ca_source=ca_volume_source(config.ca_bundle),
        ca_pem=config.ca_bundle.pem if config.ca_bundle else None,
        proxy=proxy,
        pull_docker_config=config.image_pull_docker_config,
    )
