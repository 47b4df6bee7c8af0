"""Docker-in-Docker building blocks shared by the pools that run their own daemon.

Used by `docker_cloud_dind` (a DinD StatefulSet the Docker plugin talks to over the network) and
meant for `swarm_dind` (DinD as a native sidecar that agents reach on localhost). Everything here
is either a pure function returning plain Kubernetes data, or creates pulumi-tls resources parented
to the calling pool. Nothing here creates Kubernetes objects: the caller decides namespaces and names.

API
---
`DindCertificates.create(pool, dns_names, ip_addresses=())`
    A CA, a server certificate (SANs = `dns_names` + `ip_addresses`, serverAuth) and a client
    certificate (clientAuth), all signed by that CA. Logical names are `<pool>-dind-ca-key`,
    `<pool>-dind-ca`, `<pool>-dind-server-key`, ... (via `pool.child_name`), parent = `pool`.
    Fields are Outputs; the two private keys are secret (pulumi-tls marks `private_key_pem` secret),
    and the CA key never leaves the Pulumi state: no pod ever holds it.
    `.server_secret_data()` / `.client_secret_data()`: `{"ca.pem", "cert.pem", "key.pem"}` for a
    Kubernetes Secret's `string_data` (docker's own file names).

`server_certs_volume(volume_name, secret_name)`
    A Secret volume laid out the way `dockerd-entrypoint.sh` wants with DOCKER_TLS_CERTDIR set:
    `ca/cert.pem` (and no `ca/key.pem`, so the entrypoint generates nothing) plus
    `server/{ca,cert,key}.pem`; dockerd then listens with `--tlsverify` on 2376 only.

`client_certs_volume(volume_name, secret_name)`
    A Secret volume with `ca.pem`, `cert.pem`, `key.pem` at its root: mount it at
    `CLIENT_CERT_PATH` and use `client_env(host)` in the container that runs the docker CLI.

`dind_container(...)`
    The privileged `dind` container dict: pinned image, DOCKER_TLS_CERTDIR, port 2376, the certs
    volume (read-only) at /certs, `data_volume` at /var/lib/docker with dockerd's data root one
    directory below (`--data-root=/var/lib/docker/data`), resources, TCP readiness probe and
    `pod_security.dind_container_context()` -- the one privileged container this program makes.
    Pass `extra_volume_mounts` for a shared workspace when used as a sidecar (Docker Pipeline's
    `inside` bind-mounts the workspace by path, so daemon and agent must see the same path).
    For a native sidecar, put the dict in `initContainers` and set `restartPolicy: Always` on it.

`client_env(host, port=DIND_PORT, cert_path=CLIENT_CERT_PATH)`
    DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH for a docker CLI (the convention docker-commons
    also uses for `withServer`).

`x509_credential_jcasc(credential_id, description, key_file, cert_file, ca_file)`
    The docker-commons `x509ClientCert` credential (JCasC `credentials.system.domainCredentials`)
    whose values JCasC reads from mounted secret files (`${file}`), never literals.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_tls as tls

from .. import defaults
from ..config_types import ResourcesConfig
from ..jcasc import secret_ref
from ..pod_security import dind_container_context

DIND_PORT = defaults.DIND_PORT
CERTS_DIR = "/certs"  # DOCKER_TLS_CERTDIR inside the dind container
DATA_DIR = "/var/lib/docker"  # where the cache volume is mounted, so pulls survive restarts
# dockerd's data root is a directory *inside* that volume, never the volume's root. At every start
# dockerd resets its data root to root-owned 0711 (moby/moby @0e8eea5 daemon/daemon_unix.go,
# setupDaemonRoot: os.Chmod(rootDir, 0711)); a pod fsGroup with OnRootMismatch compares exactly that
# root (gid == fsGroup, mode >= 0770, setgid) and otherwise chowns and chmods every file below it
# (kubernetes/kubernetes @7dd8853 pkg/volume/volume_linux.go requiresPermissionChange,
# changeFilePermission). With the data root one level down, the volume root keeps what the kubelet
# set once, and the image cache is never walked.
DATA_ROOT = f"{DATA_DIR}/data"
CLIENT_CERT_PATH = "/certs/client"  # where a docker CLI container mounts client_certs_volume

# CA 10 years; leaves 2 years and renewed by `pulumi up` in their last 90 days (early_renewal_hours).
CA_VALIDITY_HOURS = 10 * 365 * 24
LEAF_VALIDITY_HOURS = 2 * 365 * 24
LEAF_EARLY_RENEWAL_HOURS = 90 * 24
# RSA: the PKCS#1 PEM pulumi-tls emits for RSA is what docker-java (Docker plugin) and the CLI read.
KEY_ALGORITHM = "RSA"
KEY_BITS = 3072


def _key(pool, name: str) -> tls.PrivateKey:
    return tls.PrivateKey(pool.child_name(name), algorithm=KEY_ALGORITHM, rsa_bits=KEY_BITS,
                          opts=pulumi.ResourceOptions(parent=pool))


@dataclass(frozen=True)
class DindCertificates:
    ca_cert_pem: pulumi.Output
    server_cert_pem: pulumi.Output
    server_key_pem: pulumi.Output  # secret
    client_cert_pem: pulumi.Output
    client_key_pem: pulumi.Output  # secret

    @classmethod
    def create(cls, pool, dns_names: Sequence[str], ip_addresses: Sequence[str] = (),
               common_name: Optional[str] = None) -> "DindCertificates":
        """CA, server and client certificates for one daemon (or one set of replicas), parented to `pool`."""
        name = pool.config.name
        ca_key = _key(pool, "dind-ca-key")
        ca = tls.SelfSignedCert(
            pool.child_name("dind-ca"),
            private_key_pem=ca_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"jenkins-k8s {name} docker CA"),
            is_ca_certificate=True,
            validity_period_hours=CA_VALIDITY_HOURS,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            opts=pulumi.ResourceOptions(parent=pool),
        )

        def leaf(role: str, subject: str, uses: list[str], dns: Sequence[str] = (),
                 ips: Sequence[str] = ()) -> tuple[tls.PrivateKey, tls.LocallySignedCert]:
            key = _key(pool, f"dind-{role}-key")
            request = tls.CertRequest(
                pool.child_name(f"dind-{role}"),
                private_key_pem=key.private_key_pem,
                subject=tls.CertRequestSubjectArgs(common_name=subject),
                dns_names=list(dns) or None,
                ip_addresses=list(ips) or None,
                opts=pulumi.ResourceOptions(parent=pool),
            )
            cert = tls.LocallySignedCert(
                pool.child_name(f"dind-{role}"),
                cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca.cert_pem,
                validity_period_hours=LEAF_VALIDITY_HOURS,
                early_renewal_hours=LEAF_EARLY_RENEWAL_HOURS,
                allowed_uses=uses,
                opts=pulumi.ResourceOptions(parent=pool),
            )
            return key, cert

        server_key, server = leaf("server", common_name or (dns_names[0] if dns_names else "localhost"),
                                  ["key_encipherment", "digital_signature", "server_auth"],
                                  dns_names, ip_addresses)
        client_key, client = leaf("client", f"jenkins-k8s {name} docker client",
                                  ["key_encipherment", "digital_signature", "client_auth"])
        return cls(
            ca_cert_pem=ca.cert_pem,
            server_cert_pem=server.cert_pem,
            server_key_pem=pulumi.Output.secret(server_key.private_key_pem),
            client_cert_pem=client.cert_pem,
            client_key_pem=pulumi.Output.secret(client_key.private_key_pem),
        )

    def server_secret_data(self) -> dict:
        return {"ca.pem": self.ca_cert_pem, "cert.pem": self.server_cert_pem, "key.pem": self.server_key_pem}

    def client_secret_data(self) -> dict:
        return {"ca.pem": self.ca_cert_pem, "cert.pem": self.client_cert_pem, "key.pem": self.client_key_pem}


def server_certs_volume(volume_name: str, secret_name: str) -> dict:
    """The server Secret as dockerd-entrypoint.sh expects it under DOCKER_TLS_CERTDIR (no CA key)."""
    return {"name": volume_name, "secret": {
        "secretName": secret_name,
        "defaultMode": 0o400,
        "items": [
            {"key": "ca.pem", "path": "ca/cert.pem"},
            {"key": "ca.pem", "path": "server/ca.pem"},
            {"key": "cert.pem", "path": "server/cert.pem"},
            {"key": "key.pem", "path": "server/key.pem"},
        ],
    }}


def client_certs_volume(volume_name: str, secret_name: str, default_mode: int = 0o440) -> dict:
    """The client Secret as DOCKER_CERT_PATH expects it: ca.pem, cert.pem, key.pem."""
    return {"name": volume_name, "secret": {
        "secretName": secret_name,
        "defaultMode": default_mode,
        "items": [{"key": key, "path": key} for key in ("ca.pem", "cert.pem", "key.pem")],
    }}


def dind_container(*, certs_volume: str, data_volume: str, name: str = "dind",
                   image: str = defaults.DIND_IMAGE,
                   resources: ResourcesConfig = defaults.DIND_RESOURCES,
                   extra_args: Sequence[str] = (),
                   extra_volume_mounts: Sequence[Mapping] = (),
                   extra_env: Sequence[Mapping] = ()) -> dict:
    """The privileged dockerd container: TLS on 2376 only, certs from `server_certs_volume`, its data
    root in a directory of `data_volume` (DATA_ROOT)."""
    container = {
        "name": name,
        "image": image,
        "env": [
            {"name": "DOCKER_TLS_CERTDIR", "value": CERTS_DIR},
            *[dict(e) for e in extra_env],
        ],
        "ports": [{"name": "docker-tls", "containerPort": DIND_PORT, "protocol": "TCP"}],
        "readinessProbe": {"tcpSocket": {"port": DIND_PORT}, "periodSeconds": 10, "failureThreshold": 3},
        "livenessProbe": {"tcpSocket": {"port": DIND_PORT}, "initialDelaySeconds": 30,
                          "periodSeconds": 20, "failureThreshold": 6},
        "resources": resources.as_kubernetes(),
        "securityContext": dind_container_context(),
        "volumeMounts": [
            {"name": certs_volume, "mountPath": CERTS_DIR, "readOnly": True},
            {"name": data_volume, "mountPath": DATA_DIR},
            *[dict(m) for m in extra_volume_mounts],
        ],
    }
    if any(not arg.startswith("-") for arg in extra_args[:1]):
        raise ValueError("dind extra_args must start with a dockerd flag ('-...')")
    # A first argument starting with '-' keeps dockerd-entrypoint.sh's TLS setup and goes to dockerd
    # (docker-library/docker @3289af8 29/dind/dockerd-entrypoint.sh:102-131).
    container["args"] = [f"--data-root={DATA_ROOT}", *extra_args]
    return container


def client_env(host: str, port: int = DIND_PORT, cert_path: str = CLIENT_CERT_PATH) -> list[dict]:
    return [
        {"name": "DOCKER_HOST", "value": f"tcp://{host}:{port}"},
        {"name": "DOCKER_TLS_VERIFY", "value": "1"},
        {"name": "DOCKER_CERT_PATH", "value": cert_path},
    ]


def x509_credential_jcasc(credential_id: str, description: str, *, key_file: str, cert_file: str,
                          ca_file: str) -> dict:
    """docker-commons DockerServerCredentials (@Symbol x509ClientCert), values from ${secret files}."""
    return {"credentials": {"system": {"domainCredentials": [{"credentials": [{"x509ClientCert": {
        "id": credential_id,
        "scope": "GLOBAL",
        "description": description,
        "clientKeySecret": secret_ref(key_file),
        "clientCertificate": secret_ref(cert_file),
        "serverCaCertificate": secret_ref(ca_file),
    }}]}]}}}
