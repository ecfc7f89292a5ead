"""``PostgresHook``: PostgreSQL through psycopg 3 (Airflow's names and meaning).

The connection gives host, port, login, password and the database (its ``schema`` field; ``database=``
overrides it); its extras are libpq parameters (``sslmode``, ``connect_timeout``, ``application_name`` ...)
except ``cursor`` (``dictcursor`` or ``namedtuplecursor``: the row type) and the SQLAlchemy ones
(``sqlalchemy_scheme``, ``sqlalchemy_query``). psycopg is the ``postgres`` extra, imported when first used.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any, ClassVar

from tradewind.providers.common.sql.hooks.sql import DbApiHook
from tradewind.sdk.errors import ConnectionFieldError, MissingDependencyError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: Extras that steer the hook rather than libpq.
HOOK_EXTRAS = frozenset({"cursor", "sqlalchemy_scheme", "sqlalchemy_query", "placeholder"})
#: Seconds to wait for the server when the connection names no ``connect_timeout`` (libpq waits forever).
DEFAULT_CONNECT_TIMEOUT = 30


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise MissingDependencyError(
            "PostgresHook needs psycopg 3, which is not installed: pip install 'tradewind[postgres]'",
            package="psycopg",
        ) from None
    return psycopg


class PostgresHook(DbApiHook):
    """``PostgresHook(postgres_conn_id="my_pg", database="other_db", options="-c search_path=s1")``."""

    conn_name_attr = "postgres_conn_id"
    default_conn_name = "postgres_default"
    conn_type = "postgres"
    hook_name = "Postgres"
    supports_autocommit: ClassVar[bool] = True
    supports_executemany: ClassVar[bool] = True
    system_name: ClassVar[str] = "PostgreSQL"

    def __init__(
        self,
        *args: str,
        options: str | None = None,
        database: str | None = None,
        sqlalchemy_scheme: str | None = None,
        enable_log_db_messages: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.database = database
        self.options = options
        self.enable_log_db_messages = enable_log_db_messages
        self._sqlalchemy_scheme = sqlalchemy_scheme
        self.conn: Any = None

    @property
    def database_name(self) -> str | None:
        """``database=``, else the connection's ``schema`` field (Airflow keeps the database there)."""
        return self.database or self.schema or self.connection.schema or None

    def _libpq_extras(self) -> dict[str, Any]:
        return {k: v for k, v in self.connection_extra.items() if k not in HOOK_EXTRAS}

    def get_conn(self) -> Any:
        psycopg = _psycopg()
        conn = self.connection
        args: dict[str, Any] = {
            "host": conn.host,
            "port": conn.port,
            "user": conn.login,
            "password": conn.password,
            "dbname": self.database_name,
            "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
        }
        if self.options:
            args["options"] = self.options
        args.update(self._libpq_extras())
        cursor = self.connection_extra.get("cursor")
        if cursor:
            args["row_factory"] = self._row_factory(str(cursor))
        try:
            self.conn = psycopg.connect(**{k: v for k, v in args.items() if v is not None})
        except psycopg.OperationalError as exc:
            raise self.connection_failed(exc, host=conn.host, port=conn.port) from None
        except psycopg.ProgrammingError as exc:  # an extra libpq does not know
            raise ConnectionFieldError(
                f"libpq refused the connection's parameters: {exc}", conn_id=self.get_conn_id(), field="extra"
            ) from None
        if self.enable_log_db_messages:
            self.conn.add_notice_handler(lambda notice: self.log.info("%s", notice.message_primary))
        return self.conn

    def _row_factory(self, name: str) -> Any:
        from psycopg import rows

        factories = {"dictcursor": rows.dict_row, "namedtuplecursor": rows.namedtuple_row}
        if name.lower() not in factories:
            raise ConnectionFieldError(
                f"cursor must be one of {', '.join(factories)} (psycopg 3), got {name!r}",
                conn_id=self.get_conn_id(),
                field="extra",
            )
        return factories[name.lower()]

    # -- URIs -----------------------------------------------------------------------------------------------
    @property
    def sqlalchemy_scheme(self) -> str:
        scheme = str(self._sqlalchemy_scheme or self.connection_extra.get("sqlalchemy_scheme") or "")
        if not scheme:
            return "postgresql+psycopg"
        if scheme != "postgresql" and not scheme.startswith("postgresql+"):
            raise ConnectionFieldError(
                f"sqlalchemy_scheme must be 'postgresql' or 'postgresql+<driver>', got {scheme!r}",
                conn_id=self.get_conn_id(),
                field="extra",
            )
        return scheme

    @property
    def sqlalchemy_url(self) -> URL:
        from sqlalchemy.engine import URL

        conn = self.connection
        query = {k: str(v) for k, v in self._libpq_extras().items()}
        extra_query = self.connection_extra.get("sqlalchemy_query") or {}
        if not isinstance(extra_query, dict):
            raise ConnectionFieldError(
                "sqlalchemy_query must be a JSON object", conn_id=self.get_conn_id(), field="extra"
            )
        query.update({k: str(v) for k, v in extra_query.items()})
        return URL.create(
            drivername=self.sqlalchemy_scheme,
            username=conn.login,
            password=conn.password,
            host=conn.host,
            port=conn.port,
            database=self.database_name,
            query=query,
        )

    def get_uri(self) -> str:
        """``postgresql+psycopg://user:password@host:port/database?extras``, which SQLAlchemy opens as is."""
        return self.sqlalchemy_url.render_as_string(hide_password=False)

    # -- inserting ------------------------------------------------------------------------------------------
    @staticmethod
    def _serialize_cell(cell: Any, conn: Any = None) -> Any:
        """psycopg adapts Python values itself; dicts and lists go as JSON."""
        if isinstance(cell, dict | list):
            from psycopg.types.json import Json

            return Json(cell)
        return cell

    def _generate_insert_sql(
        self,
        table: str,
        values: Sequence[Any],
        target_fields: Sequence[str] | None,
        replace: bool = False,
        **kwargs: Any,
    ) -> str:
        """With ``replace``, an upsert: ``INSERT ... ON CONFLICT (replace_index) DO UPDATE SET`` the other
        ``target_fields`` (or ``replace_target``; none: ``DO NOTHING``). ``replace_index`` defaults to the
        table's primary key."""
        sql = super()._generate_insert_sql(table, values, target_fields, False)
        if not replace:
            return sql
        if not target_fields:
            raise ValueError(
                f"connection {self.get_conn_id()!r}: insert_rows(replace=True) on PostgreSQL needs "
                "target_fields (the column names), for its ON CONFLICT upsert"
            )
        key = kwargs.get("replace_index") or self.get_table_primary_key(table)
        if not key:
            raise ValueError(
                f"connection {self.get_conn_id()!r}: insert_rows(replace=True) on PostgreSQL needs "
                f"replace_index (the unique columns) as table {table!r} has no primary key"
            )
        key_columns = [key] if isinstance(key, str) else list(key)
        update = kwargs.get("replace_target")
        if update is None:
            update = [f for f in target_fields if f not in key_columns]
        conflict = f" ON CONFLICT ({', '.join(key_columns)})"
        if not update:
            return f"{sql}{conflict} DO NOTHING"
        return f"{sql}{conflict} DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in update)

    def get_table_primary_key(self, table: str, schema: str | None = "public") -> list[str] | None:
        """The primary key's columns of ``table`` (``schema.table`` or ``table`` in ``schema``), in order."""
        if "." in table and schema == "public":
            schema, table = table.split(".", 1)
        rows = self.get_records(
            "SELECT kcu.column_name FROM information_schema.table_constraints tco "
            "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tco.constraint_name "
            "AND kcu.constraint_schema = tco.constraint_schema "
            "WHERE tco.constraint_type = 'PRIMARY KEY' AND kcu.table_schema = %s AND kcu.table_name = %s "
            "ORDER BY kcu.ordinal_position",
            (schema, table),
        )
        return [row[0] if isinstance(row, Sequence) else next(iter(row.values())) for row in rows] or None

    # -- COPY -----------------------------------------------------------------------------------------------
    def copy_expert(self, sql: str, filename: str) -> None:
        """Run ``COPY ... FROM STDIN`` with the file's bytes (an absent file loads nothing), or
        ``COPY ... TO STDOUT`` into the file."""
        self.log.info("Running copy expert: %s, filename: %s", sql, filename)
        if " from stdin" in sql.lower():
            if not os.path.isfile(filename):
                open(filename, "wb").close()
            with open(filename, "rb") as source, closing(self.get_conn()) as conn:
                with conn.cursor() as cursor, cursor.copy(sql) as copy:
                    while data := source.read(65536):
                        copy.write(data)
                conn.commit()
            return
        with open(filename, "wb") as target, closing(self.get_conn()) as conn:
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                for data in copy:
                    target.write(data)
            conn.commit()

    def bulk_load(self, table: str, tmp_file: str) -> None:
        """Load a tab-delimited file into ``table``."""
        self.copy_expert(f"COPY {table} FROM STDIN", tmp_file)

    def bulk_dump(self, table: str, tmp_file: str) -> None:
        """Write ``table`` to a tab-delimited file."""
        self.copy_expert(f"COPY {table} TO STDOUT", tmp_file)
