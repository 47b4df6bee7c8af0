"""The objects the site settings need in each namespace that runs pods: the image pull Secret made
from jenkins:imagePullDockerConfig and the CA bundle ConfigMap made from caBundle.pem."""
from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s

from .site import CA_BUNDLE_FILE, CA_CONFIG_MAP, PULL_SECRET, Site


def register_site_objects(site: Site, logical_prefix: str, namespace: pulumi.Input[str], labels: dict,
                          opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    created: list[pulumi.Resource] = []
    if site.pull_docker_config is not None:
        # The value stays secret end to end: wrapped before it is serialised, and the Secret's data
        # marked secret in the state.
        config_json = pulumi.Output.secret(site.pull_docker_config).apply(json.dumps)
        created.append(k8s.core.v1.Secret(
            f"{logical_prefix}-image-pull",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PULL_SECRET, namespace=namespace, labels=labels),
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": config_json},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                additional_secret_outputs=["data", "stringData"])),
        ))
    if site.ca_pem is not None:
        created.append(k8s.core.v1.ConfigMap(
            f"{logical_prefix}-ca-bundle",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_CONFIG_MAP, namespace=namespace, labels=labels),
            data={CA_BUNDLE_FILE: site.ca_pem},
            opts=opts,
        ))
    return created
