"""Checks a workspace against the contract: what the demo promises, verifiable by anyone.

:func:`check_workspace` reads a stopped (or quiet) workspace and lists every
way it breaks CONTRACT.md: missing files or tables, a dead letter whose task
is not ``failed``, a breaker whose counters disagree with its state, a
manifest that does not parse or whose lineage does not resolve, a pipeline
log line of an unknown shape. The demo's tests assert it finds nothing;
benchmarks can use it to check the workspace they ran against.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import orjson

from oos_tui.demo.catalog import DEPENDENCIES, QUEUES, worker_names
from oos_tui.formats.manifest import ManifestError, parse_manifest
from oos_tui.formats.pylog import PYLOG
from oos_tui.store.connection import ro_uri
from oos_tui.store.schema import SCHEMA_VERSION, TABLES

__all__ = ["PIPELINE_SHAPES", "check_workspace"]

PIPELINE_SHAPES: tuple[re.Pattern[str], ...] = (
    re.compile(r"job (?P<job>\S+) started"),
    re.compile(r"stage (?P<stage>\d\d_\w+) started"),
    re.compile(r"stage (?P<stage>\d\d_\w+) finished: (?P<status>\w+) in (?P<seconds>[\d.]+)s"),
    re.compile(r"stage (?P<stage>\d\d_\w+) failed: (?P<error>.+)"),
    re.compile(r"job (?P<job>\S+) finished: (?P<status>success|failed)"),
)
"""The only messages a pipeline log holds (see :mod:`oos_tui.demo.jobs`)."""

_FILES = ("oos.log", "ai_events.log", "logs/worker.log", "logs/api.log", "logs/collector.log")
_MIB = 1024 * 1024


def check_workspace(workspace: Path) -> list[str]:
    """Every problem found in ``workspace``; an empty list means it keeps the contract."""
    problems: list[str] = []
    for name in _FILES:
        if not (workspace / name).is_file():
            problems.append(f"missing file {name}")
    store = workspace / "data" / "oos.db"
    if not store.is_file():
        problems.append("missing store data/oos.db")
    else:
        problems += _check_store(store)
    out = workspace / "out"
    jobs = sorted(p for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    if not jobs:
        problems.append("no job directory under out/")
    for job in jobs:
        problems += _check_job(job)
    return problems


def _check_store(path: Path) -> list[str]:
    conn = sqlite3.connect(ro_uri(path), uri=True, isolation_level=None, timeout=5)
    try:
        conn.execute("BEGIN")
        return _store_problems(conn)
    finally:
        conn.close()


def _store_problems(conn: sqlite3.Connection) -> list[str]:
    problems: list[str] = []
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    for table in TABLES:
        if table not in have:
            problems.append(f"missing table {table}")
    if problems:
        return problems
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version != SCHEMA_VERSION:
        problems.append(f"user_version {version}, expected {SCHEMA_VERSION}")
    (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    if str(mode).lower() != "wal":
        problems.append(f"journal mode {mode}, expected wal")

    for dl_id, task_id, status in conn.execute(
        "SELECT d.id, d.task_id, t.status FROM dead_letter d LEFT JOIN tasks t ON t.id = d.task_id"
    ):
        if status != "failed":
            problems.append(f"dead_letter {dl_id}: task {task_id} is {status or 'missing'}")

    for row in conn.execute(
        "SELECT id, status, attempts, max_attempts, worker_id, next_attempt_at, payload FROM tasks"
    ):
        task_id, status, attempts, max_attempts, worker, next_at, payload = row
        if status not in ("pending", "processing", "completed", "failed"):
            problems.append(f"task {task_id}: unknown status {status!r}")
        if status == "processing" and not worker:
            problems.append(f"task {task_id}: processing without a worker")
        if status == "pending" and attempts > 0 and next_at is None:
            problems.append(f"task {task_id}: retry without next_attempt_at")
        if status == "failed" and attempts < max_attempts:
            problems.append(f"task {task_id}: failed after {attempts}/{max_attempts} attempts")
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError:
            problems.append(f"task {task_id}: payload is not JSON")
            continue
        if not isinstance(doc, dict) or "item_id" not in doc or "correlation_id" not in doc:
            problems.append(f"task {task_id}: payload without item_id and correlation_id")

    expected = {n for q in QUEUES for n in worker_names(q)} | set(DEPENDENCIES)
    seen: set[str] = set()
    for row in conn.execute(
        "SELECT name, state, consecutive_failures, failure_threshold, total_failures,"
        " total_successes, opened_at, retry_at FROM circuit_breakers"
    ):
        name, state, consecutive, threshold, failures, successes, opened, retry = row
        seen.add(name)
        where = f"breaker {name}"
        if min(consecutive, failures, successes) < 0 or consecutive > failures:
            problems.append(f"{where}: counters out of order ({consecutive}/{failures})")
        if state == "closed":
            if consecutive >= threshold or opened is not None or retry is not None:
                problems.append(f"{where}: closed with {consecutive} failures or a retry time")
        elif state == "open":
            if opened is None or retry is None or consecutive < threshold:
                problems.append(f"{where}: open without opened_at/retry_at or below threshold")
        elif state == "half_open":
            if opened is None:
                problems.append(f"{where}: half_open without opened_at")
        else:
            problems.append(f"{where}: unknown state {state!r}")
    for name in sorted(expected - seen):
        problems.append(f"breaker {name} missing")

    for event_id, severity, data, tags, metadata in conn.execute(
        "SELECT id, severity, data, tags, metadata FROM events"
    ):
        if severity not in ("debug", "info", "warning", "error", "critical"):
            problems.append(f"event {event_id}: severity {severity!r}")
        try:
            parsed = [orjson.loads(data), orjson.loads(tags), orjson.loads(metadata)]
        except orjson.JSONDecodeError:
            problems.append(f"event {event_id}: data, tags or metadata is not JSON")
            continue
        if not isinstance(parsed[1], list) or not all(isinstance(t, str) for t in parsed[1]):
            problems.append(f"event {event_id}: tags is not a list of strings")
    return problems


def _check_job(job: Path) -> list[str]:
    problems: list[str] = []
    outputs: dict[str, str] = {}
    for stage_dir in sorted(p for p in job.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        where = f"{job.name}/{stage_dir.name}"
        if not (stage_dir / "stage.log").is_file():
            problems.append(f"{where}: no stage.log")
        try:
            stage = parse_manifest((stage_dir / "manifest.json").read_bytes(), stage_dir.name)
        except (OSError, ManifestError) as exc:
            problems.append(f"{where}: manifest: {exc}")
            continue
        raw = orjson.loads((stage_dir / "manifest.json").read_bytes())
        for index, item in enumerate(stage.inputs):
            declared = raw["inputs"][index]
            external = isinstance(declared, dict) and bool(declared.get("external"))
            if external:
                if not os.path.isabs(item.path) or not os.path.exists(item.path):
                    problems.append(f"{where}: external input {item.path} is not on disk")
            elif item.path not in outputs:
                problems.append(f"{where}: input {item.path} is no earlier stage's output")
        for item in stage.outputs:
            path = job / item.path
            if not path.is_file():
                problems.append(f"{where}: output {item.path} missing")
            elif item.size_mb is not None and abs(path.stat().st_size / _MIB - item.size_mb) > 1e-5:
                problems.append(f"{where}: output {item.path} size differs from its manifest")
            outputs[item.path] = stage_dir.name
    logs = sorted((job / "logs").glob("99_pipeline_*.log"))
    if len(logs) != 1:
        problems.append(f"{job.name}: {len(logs)} pipeline logs")
    for log in logs:
        for number, line in enumerate(log.read_bytes().splitlines(), start=1):
            event = PYLOG.parse(line, str(log), number)
            message = getattr(event, "message", None)
            if message is None or not any(p.fullmatch(message) for p in PIPELINE_SHAPES):
                problems.append(f"{job.name}: pipeline log line {number} has an unknown shape")
    return problems
