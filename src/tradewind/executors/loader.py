"""Build the executor named in the settings."""

from __future__ import annotations

import importlib

from tradewind.config.settings import Settings
from tradewind.executors.base import Executor
from tradewind.executors.local import LocalExecutor
from tradewind.executors.try_launcher import TryLauncher
from tradewind.logs.remote_store import LogStore
from tradewind.sdk.errors import ConfigError

#: executor name -> "module:function" building it from Settings; imported only when chosen.
_FACTORIES = {
    "celery": "tradewind.executors.celery.executor:create_executor",
    "kubernetes": "tradewind.executors.kubernetes.executor:create_executor",
}


def make_executor(
    settings: Settings,
    *,
    launcher: TryLauncher | None,
    log_store: LogStore | None = None,
    early_fork_server: bool = True,
) -> Executor:
    """``launcher``: what runs a try in a forked process (the CLI builds it from the runner); the local
    executor forks with it when ``core.fork_runner`` is on. ``log_store``: where the Kubernetes executor
    uploads a try's log after adding its pod's output (the other executors' runners upload their own).
    ``early_fork_server``: the local executor starts its fork server with itself rather than at the first try."""
    name = settings.core.executor
    if name == "local":
        fork = launcher if settings.core.fork_runner else None
        return LocalExecutor(
            settings.core.parallelism, settings=settings, launcher=fork, early_fork_server=early_fork_server
        )
    target = _FACTORIES.get(name)
    if target is None:
        raise ConfigError(f"unknown executor {name!r} (core.executor)", key="core.executor")
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"executor {name!r} needs an optional dependency that is not installed: {exc}. "
            f"Install tradewind[{name}].",
            key="core.executor",
        ) from exc
    factory = getattr(module, func_name)
    executor: Executor = factory(settings, log_store=log_store) if name == "kubernetes" else factory(settings)
    return executor
