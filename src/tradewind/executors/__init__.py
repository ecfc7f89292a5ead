"""Executors: local processes, Celery workers, Kubernetes pods."""
