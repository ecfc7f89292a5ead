"""Deploying Tradewind to Kubernetes with its Helm chart: rendering, helm and kubectl, waiting, health."""
