"""Connection helpers: URIs that survive odd paths, read-only really is, errors in one line."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from oos_tui.store.connection import (
    describe_error,
    error_kind,
    open_ro,
    open_ro_sync,
    open_rw,
    ro_uri,
)
from oos_tui.store.schema import init_store


def test_ro_uri_quotes_characters_sqlite_would_misread(tmp_path: Path) -> None:
    odd = tmp_path / "a b?c#d%e" / "oos.db"
    uri = ro_uri(odd)
    assert uri.startswith("file:/") and uri.endswith("?mode=ro")
    assert "%3F" in uri and "%23" in uri and "%25" in uri and "%20" in uri
    init_store(odd)
    conn = open_ro_sync(odd)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        conn.close()


def test_ro_uri_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert ro_uri("data/oos.db") == f"file:{tmp_path}/data/oos.db?mode=ro"


async def test_open_ro_refuses_writes_and_never_creates(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as missing:
        await open_ro(tmp_path / "absent.db")
    assert error_kind(missing.value) == "cantopen"
    assert not (tmp_path / "absent.db").exists()

    path = tmp_path / "oos.db"
    init_store(path)
    conn = await open_ro(path, busy_timeout_ms=300)
    try:
        assert conn.isolation_level is None
        assert (await conn.execute_fetchall("PRAGMA busy_timeout"))[0][0] == 300
        with pytest.raises(sqlite3.OperationalError) as caught:
            await conn.execute_fetchall("DELETE FROM tasks")
        assert describe_error(caught.value) == "store is read-only"
    finally:
        await conn.close()


async def test_open_rw_writes_without_foreign_keys_and_never_creates(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await open_rw(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()

    path = tmp_path / "oos.db"
    init_store(path)
    conn = await open_rw(path, busy_timeout_ms=1234)
    try:
        assert conn.isolation_level is None
        assert (await conn.execute_fetchall("PRAGMA foreign_keys"))[0][0] == 0
        assert (await conn.execute_fetchall("PRAGMA busy_timeout"))[0][0] == 1234
        # A dead letter whose task does not exist: the producer may write one.
        await conn.execute_fetchall(
            "INSERT INTO dead_letter (task_id, queue, task_type, payload, attempts, error,"
            " failed_at) VALUES (999, 'q', 't', '{}', 1, 'e', '2025-01-01T00:00:00Z')"
        )
        assert (await conn.execute_fetchall("SELECT count(*) FROM dead_letter"))[0][0] == 1
    finally:
        await conn.close()


def test_describe_error_on_a_busy_store(tmp_path: Path) -> None:
    path = tmp_path / "oos.db"
    init_store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO operator_actions VALUES (1, 'a', 'b', 'c', 'd', '{}', 'ok')")
    holder.execute("COMMIT")
    reader = open_ro_sync(path, busy_timeout_ms=50)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            reader.execute("SELECT count(*) FROM tasks").fetchone()
        assert error_kind(caught.value) == "busy"
        assert describe_error(caught.value) == "store busy (locked by another process)"
    finally:
        reader.close()
        holder.close()


def test_describe_error_on_garbage_and_schema_mistakes(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    conn = open_ro_sync(garbage)
    try:
        with pytest.raises(sqlite3.DatabaseError) as caught:
            conn.execute("SELECT 1 FROM sqlite_schema").fetchall()
        assert describe_error(caught.value) == "store is corrupt: file is not a database"
    finally:
        conn.close()
    mem = sqlite3.connect(":memory:")
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            mem.execute("SELECT * FROM x")
        assert describe_error(caught.value) == "no such table: x"
        assert error_kind(caught.value) == "schema"
    finally:
        mem.close()


@pytest.mark.parametrize(
    ("exc", "kind", "line"),
    [
        (FileNotFoundError(2, "No such file", "/s/oos.db"), "missing",
         "store not found: /s/oos.db"),
        (PermissionError(13, "Permission denied"), "permission", "permission denied on store: "
         "Permission denied"),
        (sqlite3.DatabaseError("database disk image is malformed"), "corrupt",
         "store is corrupt: database disk image is malformed"),
        (sqlite3.OperationalError("database is locked"), "busy",
         "store busy (locked by another process)"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "readonly",
         "store is read-only"),
        (sqlite3.OperationalError("something odd\nsecond line"), "error", "something odd"),
    ],
)  # fmt: skip
def test_describe_error_is_one_line(exc: BaseException, kind: str, line: str) -> None:
    assert error_kind(exc) == kind
    assert describe_error(exc) == line
