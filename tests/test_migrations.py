"""The DDL in migrations.py and the SQLModel tables agree; migrations are recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from locker import db
from locker.migrations import MIGRATIONS, migrate
from locker.models import SQLModel


def test_blank_database_migrates_and_records_each_step(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "d.sqlite", isolation_level=None)
    applied = migrate(con, "2026-01-01T00:00:00+00:00")
    assert applied == [name for name, _ in MIGRATIONS]
    rows = con.execute("SELECT name FROM schema_migrations ORDER BY rowid").fetchall()
    assert [r[0] for r in rows] == applied
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert migrate(con, "2026-01-02T00:00:00+00:00") == []


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    engine = db.engine_for(tmp_path / "d.sqlite", create=True)
    con = sqlite3.connect(tmp_path / "d.sqlite")
    for table in SQLModel.metadata.sorted_tables:
        columns = {row[1] for row in con.execute(f"PRAGMA table_info({table.name})")}
        assert columns == {c.name for c in table.columns}, table.name
    assert engine is db.engine_for(tmp_path / "d.sqlite")


def test_names_are_unique_and_ordered() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert len(set(names)) == len(names)
    assert names == sorted(names)
