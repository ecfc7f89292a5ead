"""Connections: how to reach an external system (host, login, password, extra), in Airflow's URI and JSON forms.

``Connection.get(conn_id)`` looks the id up as task code does: the environment (``TRADEWIND_CONN_<ID>``, and
``AIRFLOW_CONN_<ID>`` when Airflow compatibility is on), then the task runtime (which, on the server, asks the
secrets backends and the database in order). Parse errors name the connection and the field, never a secret.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tradewind.sdk.errors import ConnectionFieldError, NotFoundError
from tradewind.sdk.hook_registry import hook_class_for
from tradewind.sdk.runtime import get_runtime

ENV_PREFIX = "TRADEWIND_CONN_"
AIRFLOW_ENV_PREFIX = "AIRFLOW_CONN_"
#: The query key that carries the whole ``extra`` JSON text in a URI (when it cannot be flattened).
EXTRA_KEY = "__extra__"
FIELDS = ("conn_id", "conn_type", "description", "host", "login", "password", "schema", "port", "extra")

_airflow_env_names = [True]


def honour_airflow_env_names(on: bool) -> None:
    """Whether ``AIRFLOW_CONN_<ID>`` (and ``AIRFLOW_VAR_``-style names) count too: ``[core] airflow_compat``."""
    _airflow_env_names[0] = on


def env_var_names(conn_id: str) -> list[str]:
    prefixes = [ENV_PREFIX, AIRFLOW_ENV_PREFIX] if _airflow_env_names[0] else [ENV_PREFIX]
    return [prefix + conn_id.upper() for prefix in prefixes]


def normalize_conn_type(conn_type: str) -> str:
    """``postgresql`` -> ``postgres`` and ``-`` -> ``_``, as Airflow stores a URI scheme."""
    if conn_type == "postgresql":
        return "postgres"
    return conn_type.replace("-", "_")


class Connection:
    """One connection. Built from fields, or from ``uri=`` (``Connection("db", uri="postgresql://...")``)."""

    EXTRA_KEY: ClassVar[str] = EXTRA_KEY

    def __init__(
        self,
        conn_id: str | None = None,
        conn_type: str | None = None,
        description: str | None = None,
        host: str | None = None,
        login: str | None = None,
        password: str | None = None,
        schema: str | None = None,
        port: int | None = None,
        extra: str | dict[str, Any] | None = None,
        uri: str | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.description = description
        if extra is not None and not isinstance(extra, str):
            extra = json.dumps(extra)
        if uri and (conn_type or host or login or password or schema or port or extra):
            raise ConnectionFieldError(
                "give either uri= or the fields (conn_type, host, login, password, schema, port, extra), "
                "not both",
                conn_id=conn_id,
                field="uri",
            )
        self.conn_type: str | None = conn_type
        self.host: str | None = host
        self.login: str | None = login
        # An empty password is no password (Airflow stores it as NULL).
        self.password: str | None = password or None
        self.schema: str | None = schema
        self.port: int | None = port
        self.extra: str | None = extra
        if uri:
            self._parse_uri(uri)
        if self.extra:
            _check_extra(self.extra, conn_id)

    def __repr__(self) -> str:
        return self.conn_id or ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Connection):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in FIELDS)

    __hash__ = None  # type: ignore[assignment]

    # -- the URI form ---------------------------------------------------------------------------------------
    def _parse_uri(self, uri: str) -> None:
        schemes = uri.count("://")
        if schemes > 2:
            raise ConnectionFieldError("the URI has more than two '://'", conn_id=self.conn_id, field="uri")
        with_protocol = schemes == 2
        scheme = _split(uri, self.conn_id).scheme
        self.conn_type = normalize_conn_type(scheme)
        rest = uri.replace(f"{scheme}://", "" if with_protocol else "//")
        if with_protocol:
            protocol_part = rest.split("://", 1)[0]
            if "@" in protocol_part or ":" in protocol_part:
                raise ConnectionFieldError(
                    "the host's protocol holds '@' or ':'", conn_id=self.conn_id, field="host"
                )
        parts = _split(rest, self.conn_id)
        host = _hostname(parts)
        self.host = f"{parts.scheme}://{host}" if host and with_protocol else host
        self.schema = unquote(parts.path[1:]) if parts.path[1:] else parts.path[1:]
        self.login = unquote(parts.username) if parts.username else parts.username
        self.password = unquote(parts.password) if parts.password else None
        try:
            self.port = parts.port
        except ValueError:
            raise ConnectionFieldError(
                "the port is not a number from 0 to 65535", conn_id=self.conn_id, field="port"
            ) from None
        if parts.query:
            query: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
            if EXTRA_KEY in query:
                self.extra = query[EXTRA_KEY]
            else:
                self.extra = json.dumps({k: _json_or_text(v) for k, v in query.items()})

    def get_uri(self) -> str:
        """The URI form (Airflow's: percent-encoded parts, ``extra`` as query parameters or ``__extra__``)."""
        uri = f"{self.conn_type.lower().replace('_', '-')}://" if self.conn_type else "//"
        host, protocol = self.host, None
        if self.host and "://" in self.host:
            given_protocol, bare = self.host.split("://", 1)
            if given_protocol != self.conn_type:
                host, protocol = bare, given_protocol
        if protocol:
            uri += f"{protocol}://"
        authority = ""
        if self.login is not None:
            authority += quote(self.login, safe="")
        if self.password is not None:
            authority += ":" + quote(self.password, safe="")
        if authority:
            authority += "@"
            uri += authority
        host_block = quote(host, safe="") if host else ""
        if self.port:
            host_block += f"@:{self.port}" if not host_block and not authority else f":{self.port}"
        if self.schema:
            host_block += f"/{quote(self.schema, safe='')}"
        uri += host_block
        if self.extra:
            uri += ("?" if self.schema else "/?") + self._extra_query()
        return uri

    def _extra_query(self) -> str:
        extra = self.extra_dejson
        if all(isinstance(v, str) for v in extra.values()):
            query = urlencode(extra)
            if query and extra == dict(parse_qsl(query, keep_blank_values=True)):
                return query
        return urlencode({EXTRA_KEY: self.extra})

    # -- extra ----------------------------------------------------------------------------------------------
    @property
    def extra_dejson(self) -> dict[str, Any]:
        return self.get_extra_dejson()

    def get_extra_dejson(self, nested: bool = False) -> dict[str, Any]:
        """``extra`` decoded; with ``nested``, string values holding JSON are decoded too."""
        if not self.extra:
            return {}
        decoded = _check_extra(self.extra, self.conn_id)
        if nested:
            return {k: _json_or_text(v) if isinstance(v, str) else v for k, v in decoded.items()}
        return decoded

    # -- the JSON form --------------------------------------------------------------------------------------
    def to_dict(self, *, prune_empty: bool = False, validate: bool = True) -> dict[str, Any]:
        values: dict[str, Any] = {f: getattr(self, f) for f in FIELDS if f != "extra"}
        if prune_empty:
            values = {k: v for k, v in values.items() if v not in (None, "")}
        extra = self.extra_dejson
        if extra or not prune_empty:
            values["extra"] = extra
        if validate:
            json.dumps(values)
        return values

    def as_json(self) -> str:
        """The JSON form (without ``conn_id``), as an environment variable or a secrets backend holds it."""
        values = self.to_dict(prune_empty=True, validate=False)
        values.pop("conn_id", None)
        return json.dumps(values)

    @classmethod
    def from_json(cls, value: str, conn_id: str | None = None) -> Connection:
        try:
            fields = json.loads(value)
        except ValueError:
            raise ConnectionFieldError(
                "the JSON form is not valid JSON", conn_id=conn_id, field="json"
            ) from None
        if not isinstance(fields, dict):
            raise ConnectionFieldError("the JSON form is not an object", conn_id=conn_id, field="json")
        unknown = sorted(set(fields) - set(FIELDS) - {"uri"})
        if unknown:
            raise ConnectionFieldError(
                f"the JSON form has unknown fields {unknown}", conn_id=conn_id, field=unknown[0]
            )
        extra = fields.pop("extra", None)
        if extra:
            fields["extra"] = extra if isinstance(extra, str) else json.dumps(extra)
        if fields.get("conn_type"):
            fields["conn_type"] = normalize_conn_type(fields["conn_type"])
        else:
            fields.pop("conn_type", None)
        port = fields.pop("port", None)
        if port:
            try:
                fields["port"] = int(port)
            except (TypeError, ValueError):
                raise ConnectionFieldError(
                    f"port must be a whole number, got {port!r}", conn_id=conn_id, field="port"
                ) from None
        fields.pop("conn_id", None)
        return cls(conn_id=conn_id, **fields)

    @classmethod
    def from_uri(cls, uri: str, conn_id: str | None = None) -> Connection:
        return cls(conn_id=conn_id, uri=uri)

    @classmethod
    def parse(cls, text: str, conn_id: str) -> Connection:
        """A connection from its stored text: the JSON form when it starts with ``{``, else the URI form."""
        text = text.strip()
        return cls.from_json(text, conn_id) if text.startswith("{") else cls.from_uri(text, conn_id)

    # -- lookup ----------------------------------------------------------------------------------------------
    @classmethod
    def get(cls, conn_id: str) -> Connection:
        """The connection ``conn_id``: environment first, then the task runtime. NotFoundError if none."""
        for name in env_var_names(conn_id):
            text = os.environ.get(name)
            if text:
                return cls.parse(text, conn_id)
        fields = get_runtime().get_connection(conn_id)
        if fields is None:
            raise NotFoundError(f"connection {conn_id!r} is not defined", kind="connection", ident=conn_id)
        return cls.from_fields(fields)

    @classmethod
    def get_connection_from_secrets(cls, conn_id: str) -> Connection:
        """Airflow 2's name for ``get``."""
        return cls.get(conn_id)

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Connection:
        """From ``to_dict()``'s shape (``extra`` as a dict or JSON text), as the task runtime returns it."""
        values = {k: fields.get(k) for k in FIELDS}
        return cls(**values)

    def get_hook(self, *, hook_params: dict[str, Any] | None = None) -> Any:
        """An instance of the hook class registered for this connection's ``conn_type``."""
        hook_class = hook_class_for(self.conn_type, conn_id=self.conn_id)
        return hook_class(**{hook_class.conn_name_attr: self.conn_id}, **(hook_params or {}))


def _split(uri: str, conn_id: str | None) -> Any:
    try:
        return urlsplit(uri)
    except ValueError:
        raise ConnectionFieldError("the URI does not parse", conn_id=conn_id, field="uri") from None


def _hostname(parts: Any) -> str:
    """The host as written (``urlsplit`` lowercases it; a host holding ``/`` is taken from the netloc)."""
    host = unquote(parts.hostname or "")
    if "/" in host:
        host = parts.netloc
        if "@" in host:
            host = host.rsplit("@", 1)[1]
        if ":" in host:
            host = host.split(":", 1)[0]
        host = unquote(host)
    return host


def _json_or_text(value: str) -> Any:
    if not value:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _check_extra(extra: str, conn_id: str | None) -> dict[str, Any]:
    try:
        decoded = json.loads(extra)
    except ValueError:
        raise ConnectionFieldError("extra is not valid JSON", conn_id=conn_id, field="extra") from None
    if not isinstance(decoded, dict):
        raise ConnectionFieldError("extra must be a JSON object", conn_id=conn_id, field="extra")
    return decoded
