"""``SqliteHook``: a SQLite file through the standard library's ``sqlite3`` (Airflow's names and meaning).

The connection's ``host`` is the file's path, as Airflow has it (``sqlite://%2Ftmp%2Fdata.db``, or the JSON
form ``{"conn_type": "sqlite", "host": "/tmp/data.db"}``); a URI written ``sqlite:////tmp/data.db`` puts
the path in ``schema``, which is read when ``host`` is empty. Extras become ``file:`` URI parameters
(``{"mode": "ro"}``).
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode

from tradewind.providers.common.sql.hooks.sql import DbApiHook

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

MEMORY = ":memory:"


class SqliteHook(DbApiHook):
    """``SqliteHook(sqlite_conn_id="my_file")``; placeholder ``?``."""

    conn_name_attr = "sqlite_conn_id"
    default_conn_name = "sqlite_default"
    conn_type = "sqlite"
    hook_name = "Sqlite"
    supports_autocommit: ClassVar[bool] = True
    default_placeholder: ClassVar[str] = "?"
    system_name: ClassVar[str] = "SQLite"

    @property
    def path(self) -> str:
        """The database file's path (``:memory:`` when the connection names none)."""
        conn = self.connection
        return conn.host or conn.schema or MEMORY

    def get_conn(self) -> sqlite3.Connection:
        path = self.path
        params = {k: str(v) for k, v in self.connection_extra.items() if k != "placeholder"}
        try:
            if path == MEMORY and not params:
                return sqlite3.connect(MEMORY)
            query = f"?{urlencode(params)}" if params else ""
            return sqlite3.connect(f"file:{quote(path)}{query}", uri=True)
        except sqlite3.Error as exc:
            raise self.connection_failed(exc, host=path) from None

    def get_uri(self) -> str:
        """``sqlite:///<path>`` (an absolute path gives four slashes), as SQLAlchemy reads it."""
        return f"sqlite:///{self.path}"

    @property
    def sqlalchemy_url(self) -> URL:
        from sqlalchemy.engine import make_url

        return make_url(self.get_uri())

    def set_autocommit(self, conn: Any, autocommit: bool) -> None:
        # sqlite3 before Python 3.12 has no ``autocommit``: no implicit transactions means autocommit.
        conn.isolation_level = None if autocommit else ""

    def get_autocommit(self, conn: Any) -> bool:
        return conn.isolation_level is None

    @staticmethod
    def _serialize_cell(cell: Any, conn: Any = None) -> Any:
        """Numbers, text, bytes and NULL as they are (SQLite stores them natively); dates as ISO text."""
        if cell is None or isinstance(cell, int | float | str | bytes):
            return cell
        if isinstance(cell, datetime | date):
            return cell.isoformat()
        return str(cell)
