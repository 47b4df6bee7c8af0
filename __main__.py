"""Entry point: validate the stack's config, build the platform, export what users need."""
import pulumi

from components.config import load_stack_config
from components.platform import JenkinsPlatform

config = load_stack_config()
platform = JenkinsPlatform("jenkins", config)

pulumi.export("url", platform.url)
pulumi.export("namespace", platform.namespace)
pulumi.export("adminSecretName", platform.admin_secret_name)
pulumi.export("pools", platform.pool_outputs)
