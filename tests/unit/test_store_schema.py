"""The store's schema in code and ``init_store``: a fresh store is right, nothing is clobbered."""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from pathlib import Path

import pytest

from oos_tui.store import schema
from oos_tui.store.schema import (
    COLUMNS,
    SCHEMA_VERSION,
    TABLES,
    StoreError,
    StoreExistsError,
    init_store,
    schema_sql,
)

CONTRACT = Path("/work/shared/CONTRACT.md")
INDEXES = {
    "idx_tasks_queue_status",
    "idx_events_timestamp",
    "idx_events_system",
    "idx_events_type",
    "idx_events_severity",
    "idx_events_correlation",
    "idx_events_component",
}


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def test_schema_sql_is_package_data_and_creates_every_table() -> None:
    sql = schema_sql()
    assert "CREATE TABLE tasks" in sql
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(sql)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        indexes = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='index'")
            if not r[0].startswith("sqlite_autoindex")
        }
        assert tables == set(TABLES)
        assert indexes == INDEXES
        for table in TABLES:
            columns = tuple(r[1] for r in conn.execute(f"PRAGMA table_info({table})"))
            assert columns == COLUMNS[table], table
    finally:
        conn.close()


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract is not on this machine")
def test_schema_sql_is_the_contracts_sql_exactly() -> None:
    block = re.search(r"## 3\..*?```sql\n(.*?)```", CONTRACT.read_text(), re.S)
    assert block is not None
    assert schema_sql() == block.group(1)


def test_init_creates_a_wal_store_of_version_1_with_parents(tmp_path: Path) -> None:
    path = tmp_path / "ws" / "data" / "oos.db"
    init_store(path)
    assert sorted(os.listdir(path.parent)) == ["oos.db"]  # no temporary left behind
    conn = _open(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema")}
        assert set(TABLES) <= names
        assert names >= INDEXES
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == 0
    finally:
        conn.close()


@pytest.mark.parametrize("content", [b"", b"not a database", None])
def test_init_refuses_anything_already_there(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "oos.db"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(StoreExistsError, match="already exists"):
        init_store(path)
    if content is not None:
        assert path.read_bytes() == content
    assert sorted(os.listdir(tmp_path)) == ["oos.db"]


def test_init_refuses_a_dangling_symlink_and_a_stale_wal(tmp_path: Path) -> None:
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "nowhere.db")
    with pytest.raises(StoreExistsError):
        init_store(link)
    assert not (tmp_path / "nowhere.db").exists()

    stale = tmp_path / "oos.db-wal"
    stale.write_bytes(b"left by a deleted store")
    with pytest.raises(StoreExistsError, match=r"oos\.db-wal"):
        init_store(tmp_path / "oos.db")
    assert not (tmp_path / "oos.db").exists()


def test_store_exists_error_is_a_store_error() -> None:
    assert issubclass(StoreExistsError, StoreError)


def test_a_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "schema_sql", lambda: "CREATE TABLE tasks (id);\nNOT SQL AT ALL;")
    with pytest.raises(StoreError, match="cannot create"):
        init_store(tmp_path / "oos.db")
    assert os.listdir(tmp_path) == []


def test_a_failed_rename_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_link(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "link", broken_link)
    with pytest.raises(StoreError, match="Input/output error"):
        init_store(tmp_path / "oos.db")
    assert os.listdir(tmp_path) == []


def test_init_falls_back_to_rename_where_links_are_unsupported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    init_store(tmp_path / "oos.db")
    assert os.listdir(tmp_path) == ["oos.db"]
    conn = _open(tmp_path / "oos.db")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        conn.close()


def test_init_under_a_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a directory")
    with pytest.raises(StoreError) as caught:
        init_store(tmp_path / "data" / "oos.db")
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_init_in_a_read_only_directory_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o555)
    try:
        with pytest.raises(StoreError):
            init_store(target / "oos.db")
        assert os.listdir(target) == []
    finally:
        target.chmod(0o755)
