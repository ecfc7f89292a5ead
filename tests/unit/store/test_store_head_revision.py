"""The constant that lets start-up skip Alembic must name the newest packaged revision."""

from __future__ import annotations

import subprocess
import sys

from tradewind.store.migrate import HEAD_REVISION, head_revision


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    assert head_revision() == HEAD_REVISION


def test_a_database_at_head_is_recognised_without_importing_alembic(tmp_path: object) -> None:
    code = f"""
import sys
from tradewind.store.engine import make_engine
from tradewind.store.migrate import upgrade
engine = make_engine("sqlite:///{tmp_path}/tw.db")
upgrade(engine)
for name in [m for m in sys.modules if m.startswith("alembic")]:
    del sys.modules[name]
upgrade(engine)
print("alembic" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
