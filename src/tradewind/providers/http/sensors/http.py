"""HttpSensor: poke an HTTP endpoint until it answers successfully (and ``response_check`` agrees)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradewind.providers.http.hooks.http import HttpHook
from tradewind.providers.http.operators.http import call_with_context
from tradewind.providers.http.triggers.http import HttpSensorTrigger
from tradewind.sdk.errors import ExternalSystemError
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import BaseSensorOperator, PokeReturnValue
from tradewind.sdk.triggers.base import BaseTrigger


class HttpSensor(BaseSensorOperator):
    """``HttpSensor(task_id="wait", endpoint="health", http_conn_id="api", response_check=lambda r: "ok" in r.text)``.

    An answer whose status starts with a code in ``response_error_codes_allowlist`` (``["404"]`` by default)
    means "not yet"; any other 4xx/5xx answer fails the task. Without ``response_check`` a successful answer
    is enough. ``request_params`` are the query (GET) or body of each poke.
    """

    template_fields: Sequence[str] = ("endpoint", "request_params", "headers", "http_conn_id")

    def __init__(
        self,
        *,
        endpoint: str,
        http_conn_id: str = "http_default",
        method: str = "GET",
        request_params: Mapping[str, Any] | None = None,
        request_kwargs: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        response_error_codes_allowlist: Sequence[str] | None = None,
        response_check: Callable[..., bool | PokeReturnValue] | None = None,
        extra_options: Mapping[str, Any] | None = None,
        tcp_keep_alive: bool = True,
        tcp_keep_alive_idle: int = 120,
        tcp_keep_alive_count: int = 20,
        tcp_keep_alive_interval: int = 30,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.http_conn_id = http_conn_id
        self.method = method
        self.request_params = dict(request_params or {})
        self.request_kwargs = dict(request_kwargs or {})
        self.headers = dict(headers or {})
        self.response_error_codes_allowlist = (
            ("404",) if response_error_codes_allowlist is None else tuple(response_error_codes_allowlist)
        )
        self.response_check = response_check
        self.extra_options = dict(extra_options or {})
        self.tcp_keep_alive = tcp_keep_alive
        self.tcp_keep_alive_idle = tcp_keep_alive_idle
        self.tcp_keep_alive_count = tcp_keep_alive_count
        self.tcp_keep_alive_interval = tcp_keep_alive_interval

    def deferral_trigger(self, context: Mapping[str, Any]) -> BaseTrigger | None:
        """As in Airflow: with a ``response_check`` (a callable the triggerer cannot run) no trigger, and
        the sensor runs in reschedule mode."""
        if self.response_check is not None:
            return None
        return HttpSensorTrigger(
            endpoint=self.endpoint, http_conn_id=self.http_conn_id, method=self.method, data=self.request_params,
            headers=self.headers, extra_options=self.extra_options, poke_interval=self.poke_interval or 1.0,
        )  # fmt: skip

    def poke(self, context: Mapping[str, Any]) -> bool | PokeReturnValue:
        hook = HttpHook(
            method=self.method,
            http_conn_id=self.http_conn_id,
            tcp_keep_alive=self.tcp_keep_alive,
            tcp_keep_alive_idle=self.tcp_keep_alive_idle,
            tcp_keep_alive_count=self.tcp_keep_alive_count,
            tcp_keep_alive_interval=self.tcp_keep_alive_interval,
        )
        emit(f"Poking: {self.endpoint}")
        try:
            response = hook.run(
                self.endpoint,
                data=self.request_params,
                headers=self.headers,
                extra_options=self.extra_options,
                **self.request_kwargs,
            )
        except ExternalSystemError as exc:
            if exc.status is not None and str(exc).startswith(self.response_error_codes_allowlist):
                return False
            raise
        if self.response_check is not None:
            return call_with_context(self.response_check, response, context)
        return True
