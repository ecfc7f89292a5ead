"""HTTP triggers: one request made from the triggerer (HttpTrigger), or a URL polled until it answers
(HttpSensorTrigger, what a deferrable HttpSensor waits on). The requests run on a worker thread with the
HttpHook, so the triggerer's loop never blocks; the connection is read through the triggerer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tradewind.providers.http.hooks.http import HttpHook
from tradewind.sdk.errors import ExternalSystemError
from tradewind.sdk.triggers.base import BaseTrigger, TriggerEvent, classpath_of


def response_payload(response: Any) -> dict[str, Any]:
    """What an event carries of an answer (JSON values: Airflow pickles the whole response instead)."""
    return {
        "status_code": response.status_code,
        "reason": response.reason_phrase,
        "headers": dict(response.headers),
        "url": str(response.url),
        "text": response.text,
    }


class HttpTrigger(BaseTrigger):
    """Makes one request; the event is ``{"status": "success", "response": {...}}`` (status code, reason,
    headers, url, text) or ``{"status": "error", "message": ...}`` for an error answer or no answer."""

    def __init__(
        self,
        http_conn_id: str = "http_default",
        auth_type: Any = None,
        method: str = "POST",
        endpoint: str | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | str | None = None,
        extra_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.http_conn_id = http_conn_id
        self.auth_type = auth_type
        self.method = method
        self.endpoint = endpoint
        self.headers = dict(headers or {})
        self.data = data if isinstance(data, str) or data is None else dict(data)
        self.extra_options = dict(extra_options or {})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(HttpTrigger), {
            "http_conn_id": self.http_conn_id,
            "auth_type": self.auth_type,
            "method": self.method,
            "endpoint": self.endpoint,
            "headers": self.headers,
            "data": self.data,
            "extra_options": self.extra_options,
        }

    def _request(self) -> Any:
        hook = HttpHook(method=self.method, http_conn_id=self.http_conn_id, auth_type=self.auth_type)
        return hook.run(self.endpoint, data=self.data, headers=self.headers, extra_options=self.extra_options)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            response = await asyncio.to_thread(self._request)
        except ExternalSystemError as exc:
            yield TriggerEvent({"status": "error", "message": str(exc)})
            return
        yield TriggerEvent({"status": "success", "response": response_payload(response)})


class HttpSensorTrigger(BaseTrigger):
    """Asks ``endpoint`` every ``poke_interval`` seconds until it answers without error (404 means "not
    yet"; another error answer fails the trigger); the event's payload is True."""

    def __init__(
        self,
        endpoint: str | None = None,
        http_conn_id: str = "http_default",
        method: str = "GET",
        data: Mapping[str, Any] | str | None = None,
        headers: Mapping[str, str] | None = None,
        extra_options: Mapping[str, Any] | None = None,
        poke_interval: float = 5.0,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.http_conn_id = http_conn_id
        self.method = method
        self.data = data if isinstance(data, str) or data is None else dict(data)
        self.headers = dict(headers or {})
        self.extra_options = dict(extra_options or {})
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return classpath_of(HttpSensorTrigger), {
            "endpoint": self.endpoint,
            "http_conn_id": self.http_conn_id,
            "method": self.method,
            "data": self.data,
            "headers": self.headers,
            "extra_options": self.extra_options,
            "poke_interval": self.poke_interval,
        }

    def _request(self) -> Any:
        hook = HttpHook(method=self.method, http_conn_id=self.http_conn_id)
        return hook.run(self.endpoint, data=self.data, headers=self.headers, extra_options=self.extra_options)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            try:
                await asyncio.to_thread(self._request)
            except ExternalSystemError as exc:
                if exc.status != 404:
                    raise
                self.log.info("%s answered 404; asking again in %g s", self.endpoint, self.poke_interval)
                await asyncio.sleep(self.poke_interval)
                continue
            yield TriggerEvent(True)
            return
