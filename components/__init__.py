"""Pulumi components that run Jenkins on Kubernetes."""
