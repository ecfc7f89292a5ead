"""Wiring the scheduler to the task execution API: the signer of try tokens and the URL runners call (the
configured one, else the scheduler's own server on loopback)."""

from __future__ import annotations

from collections.abc import Callable

from tradewind.config.settings import Settings
from tradewind.execution.tokens import WorkloadTokens, signer_from_settings


def scheduler_tokens(settings: Settings) -> tuple[WorkloadTokens, Callable[[], None]]:
    """The tokens the scheduler hands out, and how to stop the server it started for them (if any)."""
    signer = signer_from_settings(settings)
    url = settings.execution_api.url
    if url:
        return WorkloadTokens(signer, url), lambda: None
    from tradewind.api.execution.embedded import EmbeddedExecutionApi

    server = EmbeddedExecutionApi(settings, signer=signer)
    return WorkloadTokens(signer, server.start()), server.stop
