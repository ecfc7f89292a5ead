"""Metadata databases at the newest schema, made fast: each backend is migrated once per test session into
a template, and every test gets a copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL).
The migrations themselves are tested on empty databases in tests/integration/store/test_migrations.py."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.postgres_databases import create_database, drop_now, replace_database
from tradewind.store.engine import make_engine
from tradewind.store.migrate import upgrade

_lock = threading.Lock()
_sqlite_template: Path | None = None
_postgres_templates: dict[str, str] = {}


def _admin_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def _sqlite_template_path() -> Path:
    global _sqlite_template
    with _lock:
        if _sqlite_template is None:
            folder = Path(tempfile.mkdtemp(prefix="tw-template-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            path = folder / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()
            _sqlite_template = path
        return _sqlite_template


def _postgres_template(admin_url: str) -> str:
    with _lock:
        name = _postgres_templates.get(admin_url)
        if name is None:
            name = f"tw_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            create_database(admin_url, name)
            engine = make_engine(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
            upgrade(engine)
            engine.dispose()
            _postgres_templates[admin_url] = name
            atexit.register(_drop, admin_url, name)
        return name


def _drop(admin_url: str, name: str) -> None:
    drop_now(admin_url, name)


def migrate_database(url: str) -> None:
    """Give the (empty or missing) database at ``url`` the newest schema and the default pool."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = Path(parsed.database or "")
        if target.exists() and target.stat().st_size > 0:
            upgrade(make_engine(url))
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template_path(), target)
        return
    admin = _admin_url(url)
    replace_database(admin, parsed.database or "", template=_postgres_template(admin))
