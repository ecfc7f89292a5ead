"""HttpOperator: one HTTP request (or a paginated series) as a task; the answer's text, or a filter's value, is
pushed to XCom. ``SimpleHttpOperator`` is Airflow's older name for it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from tradewind.providers.http.hooks.http import HttpHook
from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.hooks.base import BaseHook
from tradewind.sdk.operators.python import callable_kwargs, emit

Responses = httpx.Response | list[httpx.Response]


def call_with_context(func: Callable[..., Any], response: Responses, context: Mapping[str, Any]) -> Any:
    """``func(response, **the context values its signature names)``, as Airflow's ``response_check``."""
    return func(response, **callable_kwargs(func, [response], context, {}))


def merged(base: Any, update: Any) -> Any:
    """``update`` over ``base`` when both are mappings; else ``update`` when given, else ``base``."""
    if isinstance(base, Mapping) and isinstance(update, Mapping):
        return {**base, **update}
    return update or base


class HttpOperator(BaseOperator):
    """``HttpOperator(task_id="get", method="GET", endpoint="v1/items", http_conn_id="api",
    response_check=lambda r: r.json()["ok"], response_filter=lambda r: r.json()["items"])``.

    ``response_check`` returning false fails the task; ``response_filter``'s value is pushed to XCom instead of
    the answer's text. With ``pagination_function`` (given the last answer, it returns the next request's
    ``endpoint``/``data``/``headers``/``extra_options``, or None to stop) the checks, the filter and the
    pushed value see the list of every answer. ``retry_args`` (tenacity's ``Retrying`` arguments) retries
    each request. The responses are ``httpx.Response`` objects (see ``HttpHook``).
    """

    conn_id_field = "http_conn_id"
    template_fields: Sequence[str] = ("endpoint", "data", "headers", "http_conn_id")
    template_fields_renderers: dict[str, str] = {"headers": "json", "data": "py"}
    template_ext: Sequence[str] = ()
    ui_color = "#f4a460"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        method: str = "POST",
        data: Mapping[str, Any] | str | None = None,
        headers: Mapping[str, str] | None = None,
        pagination_function: Callable[[httpx.Response], Mapping[str, Any] | None] | None = None,
        response_check: Callable[..., bool] | None = None,
        response_filter: Callable[..., Any] | None = None,
        extra_options: Mapping[str, Any] | None = None,
        request_kwargs: Mapping[str, Any] | None = None,
        http_conn_id: str = "http_default",
        log_response: bool = False,
        auth_type: Any = None,
        tcp_keep_alive: bool = True,
        tcp_keep_alive_idle: int = 120,
        tcp_keep_alive_count: int = 20,
        tcp_keep_alive_interval: int = 30,
        retry_args: Mapping[str, Any] | None = None,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (
            ("response_check", response_check),
            ("response_filter", response_filter),
            ("pagination_function", pagination_function),
        ):
            if value is not None and not callable(value):
                raise DagDefinitionError(f"HttpOperator(task_id={self.task_id!r}): {name} must be callable")
        self.http_conn_id = http_conn_id
        self.method = method
        self.endpoint = endpoint
        self.headers = dict(headers or {})
        self.data = data or {}
        self.pagination_function = pagination_function
        self.response_check = response_check
        self.response_filter = response_filter
        self.extra_options = dict(extra_options or {})
        self.request_kwargs = dict(request_kwargs or {})
        self.log_response = log_response
        self.auth_type = auth_type
        self.tcp_keep_alive = tcp_keep_alive
        self.tcp_keep_alive_idle = tcp_keep_alive_idle
        self.tcp_keep_alive_count = tcp_keep_alive_count
        self.tcp_keep_alive_interval = tcp_keep_alive_interval
        self.retry_args = dict(retry_args) if retry_args else None
        # Tradewind has no triggerer yet: a deferrable HttpOperator sends its request from the worker.
        self.deferrable = deferrable

    @property
    def hook(self) -> HttpHook:
        """The hook for the connection's type (an ``HttpHook`` unless the connection names another)."""
        conn_id = getattr(self, self.conn_id_field)
        connection = BaseHook.get_connection(conn_id)
        params = {
            "method": self.method,
            "auth_type": self.auth_type,
            "tcp_keep_alive": self.tcp_keep_alive,
            "tcp_keep_alive_idle": self.tcp_keep_alive_idle,
            "tcp_keep_alive_count": self.tcp_keep_alive_count,
            "tcp_keep_alive_interval": self.tcp_keep_alive_interval,
        }
        if connection.conn_type in (None, "", "http", "https"):  # an https:// URI has conn_type "https"
            return HttpHook(http_conn_id=conn_id, **params)
        hook = connection.get_hook(hook_params=params)
        return hook

    def execute(self, context: Mapping[str, Any]) -> Any:
        hook = self.hook
        emit(f"Calling HTTP method {self.method.upper()} on connection {self.http_conn_id!r}")
        request = {
            "endpoint": self.endpoint,
            "data": self.data,
            "headers": self.headers,
            "extra_options": self.extra_options,
        }
        response = self._send(hook, request)
        return self.process_response(context, self._paginate(hook, response))

    def _send(self, hook: HttpHook, request: Mapping[str, Any]) -> httpx.Response:
        if self.retry_args:
            return hook.run_with_advanced_retry(self.retry_args, **request, **self.request_kwargs)
        return hook.run(**request, **self.request_kwargs)

    def _paginate(self, hook: HttpHook, response: httpx.Response) -> Responses:
        if self.pagination_function is None:
            return response
        responses = [response]
        while next_page := self.pagination_function(response):
            response = self._send(hook, self._next_page_request(next_page))
            responses.append(response)
        return responses

    def _next_page_request(self, next_page: Mapping[str, Any]) -> dict[str, Any]:
        """The first request's parameters with the next page's over them (mappings merged key by key)."""
        return {
            "endpoint": next_page.get("endpoint") or self.endpoint,
            "data": merged(self.data, next_page.get("data")),
            "headers": {**self.headers, **(next_page.get("headers") or {})},
            "extra_options": {**self.extra_options, **(next_page.get("extra_options") or {})},
        }

    def process_response(self, context: Mapping[str, Any], response: Responses) -> Any:
        """Log, check and filter the answer(s); what is returned is pushed to XCom."""
        text: Any = [r.text for r in response] if isinstance(response, list) else response.text
        if self.log_response:
            emit(str(text))
        if self.response_check is not None and not call_with_context(self.response_check, response, context):
            raise TaskExecutionError(
                f"Response check returned False (task {self.task_id!r}, {self.method.upper()} "
                f"{self.endpoint or '/'} on connection {self.http_conn_id!r})."
            )
        if self.response_filter is not None:
            return call_with_context(self.response_filter, response, context)
        return text


class SimpleHttpOperator(HttpOperator):
    """Airflow's older name for ``HttpOperator``."""
