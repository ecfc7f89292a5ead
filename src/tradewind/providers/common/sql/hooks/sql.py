"""``DbApiHook``: what every SQL database hook shares over a DB-API 2 driver (Airflow's names and meaning).

A subclass sets ``conn_name_attr``, ``default_conn_name``, ``conn_type`` and implements ``get_conn()``; the
rest (``run``, ``get_records``, ``get_first``, ``insert_rows``, ``test_connection`` ...) works on any driver.
Connection failures raise ``ExternalSystemError`` naming the connection id and host, never the password.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar

from tradewind.providers.common.sql.hooks.handlers import (
    fetch_all_handler,
    fetch_one_handler,
    get_row_count,
    return_single_query_results,
)
from tradewind.providers.common.sql.statements import split_sql_string, strip_sql_string
from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import ExternalSystemError, MissingDependencyError
from tradewind.sdk.hooks.base import BaseHook

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

__all__ = [
    "DbApiHook",
    "fetch_all_handler",
    "fetch_one_handler",
    "return_single_query_results",
    "split_sql_string",
]

#: Placeholders a connection's ``extra`` may choose (``{"placeholder": "?"}``), as Airflow allows.
SQL_PLACEHOLDERS = frozenset({"%s", "?"})
Parameters = Iterable[Any] | Mapping[str, Any] | None


class DbApiHook(BaseHook):
    """Base of SQL hooks. ``DbApiHook("my_db")`` or ``DbApiHook(<conn_name_attr>="my_db")`` names the
    connection (the class's ``default_conn_name`` otherwise); ``schema=`` overrides the connection's."""

    #: Whether the driver's connection has a settable ``autocommit``.
    supports_autocommit: ClassVar[bool] = False
    #: Whether ``insert_rows`` sends each chunk with one ``executemany`` call.
    supports_executemany: ClassVar[bool] = False
    #: The driver's parameter style, unless the connection's extra names another from SQL_PLACEHOLDERS.
    default_placeholder: ClassVar[str] = "%s"
    #: The query ``test_connection`` runs.
    _test_connection_sql: ClassVar[str] = "select 1"
    #: What the database is called in messages ("PostgreSQL", "SQLite").
    system_name: ClassVar[str] = "the database"

    def __init__(
        self,
        *args: str,
        schema: str | None = None,
        log_sql: bool = True,
        connection: Connection | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if len(args) > 1:
            raise TypeError(f"{type(self).__name__} takes at most one positional argument, the connection id")
        conn_id = args[0] if args else kwargs.get(self.conn_name_attr, self.default_conn_name)
        setattr(self, self.conn_name_attr, conn_id)
        self.schema = schema
        self.log_sql = log_sql
        #: The cursor descriptions of the statements of the last ``run`` whose results it returned.
        self.descriptions: list[Sequence[Sequence[Any]] | None] = []
        self._connection = connection

    def get_conn_id(self) -> str:
        return str(getattr(self, self.conn_name_attr))

    # -- the connection -----------------------------------------------------------------------------------
    @property
    def connection(self) -> Connection:
        """The connection, looked up once per hook."""
        if self._connection is None:
            self._connection = self.get_connection(self.get_conn_id())
        return self._connection

    @property
    def connection_extra(self) -> dict[str, Any]:
        return self.connection.extra_dejson

    @property
    def placeholder(self) -> str:
        chosen = self.connection_extra.get("placeholder")
        if chosen and chosen in SQL_PLACEHOLDERS:
            return str(chosen)
        if chosen:
            self.log.warning(
                "connection %r: placeholder %r is not one of %s; using %r",
                self.get_conn_id(), chosen, sorted(SQL_PLACEHOLDERS), self.default_placeholder,
            )  # fmt: skip
        return self.default_placeholder

    def get_conn(self) -> Any:
        """A new DB-API 2 connection; each database's hook defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define get_conn()")

    def connection_failed(
        self, exc: BaseException, *, host: str | None, port: int | None = None
    ) -> ExternalSystemError:
        """The error to raise when connecting failed: names the connection id and the host, never the password."""
        reason = " ".join(str(exc).split())
        password = self.connection.password
        if password:
            reason = reason.replace(password, "***")
        where = f"host {host!r}" + (f" port {port}" if port else "")
        return ExternalSystemError(
            f"connection {self.get_conn_id()!r}: cannot connect to {self.system_name} at {where}: {reason}",
            conn_id=self.get_conn_id(),
        )

    def get_uri(self) -> str:
        """The connection as a URI (with ``schema=`` applied)."""
        conn = copy.copy(self.connection)
        if self.schema:
            conn.schema = self.schema
        return conn.get_uri()

    @property
    def sqlalchemy_url(self) -> URL:
        """The connection as a SQLAlchemy URL; hooks that know their SQLAlchemy dialect define it."""
        raise NotImplementedError(f"{type(self).__name__} does not build a SQLAlchemy URL")

    def get_sqlalchemy_engine(self, engine_kwargs: Mapping[str, Any] | None = None) -> Engine:
        """A SQLAlchemy engine on this connection (``sqlalchemy_url``, else ``get_uri()``)."""
        from sqlalchemy import create_engine

        try:
            url: URL | str = self.sqlalchemy_url
        except NotImplementedError:
            url = self.get_uri()
        return create_engine(url, **dict(engine_kwargs or {}))

    # -- autocommit ---------------------------------------------------------------------------------------
    def set_autocommit(self, conn: Any, autocommit: bool) -> None:
        if autocommit and not self.supports_autocommit:
            self.log.warning("connection %r: the driver does not support autocommit", self.get_conn_id())
        conn.autocommit = autocommit

    def get_autocommit(self, conn: Any) -> bool:
        return bool(getattr(conn, "autocommit", False)) and self.supports_autocommit

    @contextmanager
    def _open(self, autocommit: bool) -> Iterator[Any]:
        with closing(self.get_conn()) as conn:
            if self.supports_autocommit:
                self.set_autocommit(conn, autocommit)
            yield conn

    def get_cursor(self) -> Any:
        return self.get_conn().cursor()

    # -- queries ------------------------------------------------------------------------------------------
    def get_records(self, sql: str | list[str], parameters: Parameters = None) -> Any:
        """Every row of the query (a list of rows per statement when ``sql`` is a list)."""
        return self.run(sql=sql, parameters=parameters, handler=fetch_all_handler)

    def get_first(self, sql: str | list[str], parameters: Parameters = None) -> Any:
        """The first row of the query (None when it returns none)."""
        return self.run(sql=sql, parameters=parameters, handler=fetch_one_handler)

    split_sql_string = staticmethod(split_sql_string)
    strip_sql_string = staticmethod(strip_sql_string)

    @property
    def last_description(self) -> Sequence[Sequence[Any]] | None:
        return self.descriptions[-1] if self.descriptions else None

    def run(
        self,
        sql: str | Iterable[str],
        autocommit: bool = False,
        parameters: Parameters = None,
        handler: Callable[[Any], Any] | None = None,
        split_statements: bool = False,
        return_last: bool = True,
    ) -> Any:
        """Run one statement, a script (``split_statements=True``) or a list of statements, in one connection,
        committed at the end unless ``autocommit``.

        Without ``handler`` it returns None. With one (``fetch_all_handler``), it returns the handler's
        result of the last statement when ``sql`` is a string and ``return_last`` (or it is not split), and
        a list of every statement's result otherwise (always for a list of statements), as Airflow does.
        """
        if isinstance(sql, str):
            statements = split_sql_string(sql) if split_statements else ([sql] if sql.strip() else [])
        else:
            statements = list(sql)
        if not statements:
            raise ValueError(f"connection {self.get_conn_id()!r}: there is no SQL statement to run")
        single = return_single_query_results(sql, return_last, split_statements)
        results: list[Any] = []
        last_result: Any = None
        last_description: Sequence[Sequence[Any]] | None = None
        self.descriptions = []
        with self._open(autocommit) as conn, closing(conn.cursor()) as cursor:
            for statement in statements:
                self._run_command(cursor, statement, parameters)
                if handler is None:
                    continue
                result = self._make_common_data_structure(handler(cursor))
                if single:
                    last_result, last_description = result, cursor.description
                else:
                    results.append(result)
                    self.descriptions.append(cursor.description)
            if not self.get_autocommit(conn):
                conn.commit()
        if handler is None:
            return None
        if single:
            self.descriptions = [last_description]
            return last_result
        return results

    def _run_command(self, cursor: Any, statement: str, parameters: Parameters) -> None:
        if self.log_sql:
            self.log.info("Running statement: %s, parameters: %s", statement, parameters)
        if parameters:
            cursor.execute(statement, tuple(parameters) if isinstance(parameters, list) else parameters)
        else:
            cursor.execute(statement)
        count = get_row_count(cursor)
        if count is not None:
            self.log.info("Rows affected: %s", count)

    def _make_common_data_structure(self, result: Any) -> Any:
        """Rows as the driver gives them (tuples); a hook whose driver returns other row objects converts."""
        return result

    def get_pandas_df(self, sql: str, parameters: Parameters = None, **kwargs: Any) -> Any:
        """The query's result as a pandas DataFrame (pandas must be installed)."""
        try:
            import pandas
        except ImportError:
            raise MissingDependencyError(
                f"{type(self).__name__}.get_pandas_df needs pandas, which is not installed: "
                "pip install pandas",
                package="pandas",
            ) from None
        with closing(self.get_conn()) as conn:
            return pandas.read_sql(sql, con=conn, params=parameters, **kwargs)

    # -- inserting ----------------------------------------------------------------------------------------
    def insert_rows(
        self,
        table: str,
        rows: Iterable[Sequence[Any]],
        target_fields: Sequence[str] | None = None,
        commit_every: int = 1000,
        replace: bool = False,
        *,
        executemany: bool = False,
        autocommit: bool = False,
        **kwargs: Any,
    ) -> None:
        """Insert ``rows`` (tuples) into ``table``, committing every ``commit_every`` rows (0: once at the
        end), so rows committed before a failing row stay. ``replace`` replaces rows with the same key
        (each database says how; PostgreSQL needs ``target_fields`` and a key, see PostgresHook)."""
        batched = self.supports_executemany or executemany
        loaded = 0
        with self._open(autocommit) as conn, closing(conn.cursor()) as cursor:
            conn.commit()
            for chunk in _chunks(rows, commit_every):
                values = [self._serialize_cells(row, conn) for row in chunk]
                if batched:
                    cursor.executemany(
                        self._generate_insert_sql(table, values[0], target_fields, replace, **kwargs), values
                    )
                else:
                    for row_values in values:
                        sql = self._generate_insert_sql(table, row_values, target_fields, replace, **kwargs)
                        cursor.execute(sql, row_values)
                conn.commit()
                loaded += len(values)
                self.log.info("Loaded %s rows into %s so far", loaded, table)
        self.log.info("Done loading. Loaded a total of %s rows into %s", loaded, table)

    def _generate_insert_sql(
        self,
        table: str,
        values: Sequence[Any],
        target_fields: Sequence[str] | None,
        replace: bool = False,
        **kwargs: Any,
    ) -> str:
        """``INSERT INTO table (fields) VALUES (...)``; ``REPLACE INTO`` with ``replace`` (MySQL and SQLite
        syntax; a database with another syntax overrides this)."""
        verb = "REPLACE INTO" if replace else "INSERT INTO"
        columns = f"({', '.join(target_fields)}) " if target_fields else ""
        placeholders = ", ".join([self.placeholder] * len(values))
        return f"{verb} {table} {columns}VALUES ({placeholders})"

    def _serialize_cells(self, row: Sequence[Any], conn: Any = None) -> tuple[Any, ...]:
        return tuple(self._serialize_cell(cell, conn) for cell in row)

    @staticmethod
    def _serialize_cell(cell: Any, conn: Any = None) -> Any:
        """A cell as the driver takes it; this default (Airflow's) sends text, dates in ISO format."""
        if cell is None:
            return None
        if isinstance(cell, datetime):
            return cell.isoformat()
        return str(cell)

    # -- checking -----------------------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """``(True, message)`` when ``select 1`` runs on the connection, else ``(False, reason)``."""
        try:
            self.get_first(self._test_connection_sql)
        except Exception as exc:
            return False, str(exc)
        return True, "Connection successfully tested"


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    if size <= 0:
        everything = list(iterator)
        if everything:
            yield everything
        return
    while chunk := list(islice(iterator, size)):
        yield chunk
