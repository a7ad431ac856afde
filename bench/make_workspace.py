"""Build a large, seeded benchmark workspace through the project's own format writers.

Everything is written by the format writers (``pipe.write_line``,
``ai.write_line``, ``applog.write_line``/``write_container_line``,
``pylog.write_record``, ``manifest.write_manifest``) and the store is made by
``init_store`` and then filled in one transaction, so the workspace is exactly
what the producer would leave behind. The same seed and sizes give the same
bytes whatever the number of processes: the logs are generated in fixed
chunks of 50,000 lines, each with its own seeded random stream.

The mix: items go DISCOVER → PROCESS → COMPLETE, FAIL (about 5 % of the lines),
RETRY or SKIP, joined by item id and correlation id, over 50+ sources;
0.5 % malformed lines; one line in 4,000 is 10 to 100 KB long. The last line
of every log is a unique marker (``OOSBENCH-LAST-…``) stamped after
everything else, so a viewer showing the newest events shows it; three lines
of one rare item (the "needle") are spread through ``oos.log``.

Beside the workspace (``OUT``) it makes ``OUT-solo/`` holding only a hard
link to ``oos.log``: the same file as a workspace of its own, for comparisons
with tools that open one file; and ``OUT-nolong/oos.log``, the same file
without its lines over 8 KB, because lnav 0.11.1's UI crashes (SIGSEGV in
pcre2) on the full file. ``OUT/bench-workspace.json`` records the
parameters, markers, counts and sizes; a rebuild with the same parameters
reuses the workspace unless ``--force``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from oos_tui.demo.catalog import SOURCES, TASK_TYPES, worker_names
from oos_tui.demo.jobs import STAGES
from oos_tui.formats import ai as ai_format
from oos_tui.formats import applog as app_format
from oos_tui.formats import pipe as pipe_format
from oos_tui.formats.base import format_ts, parse_ts
from oos_tui.formats.manifest import write_manifest
from oos_tui.formats.pylog import write_record
from oos_tui.store.schema import init_store

GENERATOR_VERSION = 2
CHUNK = 50_000
MANIFEST = "bench-workspace.json"
DEFAULT_OUT = Path(__file__).resolve().parent / ".work" / "ws"
LAST_PREFIX = "OOSBENCH-LAST"
NEEDLE_ITEM = "NeedleCast_7340121"
MALFORMED_P = 0.005
LONG_EVERY = 4000
APP_FILES = ("worker", "api", "scheduler", "containers")
LNAV_MAX_LINE = 8192

WORDS = (
    "queue",
    "worker",
    "feed",
    "episode",
    "transcript",
    "audio",
    "segment",
    "retry",
    "backoff",
    "model",
    "inference",
    "token",
    "batch",
    "download",
    "upload",
    "cache",
    "index",
    "vector",
    "embedding",
    "summary",
    "chapter",
    "speaker",
    "language",
    "loudness",
    "cluster",
    "window",
    "prompt",
    "completion",
    "publish",
    "webhook",
    "slug",
    "bucket",
    "shard",
    "replica",
)
_PREFIXES = (
    "Tech",
    "News",
    "Science",
    "AI",
    "City",
    "Health",
    "Sports",
    "Finance",
    "History",
    "Comedy",
    "Music",
    "Culture",
)
_SUFFIXES = ("Podcast", "Daily", "Hour", "Weekly")
FEEDS: tuple[tuple[str, str], ...] = tuple(
    [(s.name, s.content_type) for s in SOURCES]
    + [
        (f"{p}{s}", "radio" if s == "Hour" else "video" if s == "Weekly" else "podcast")
        for p in _PREFIXES
        for s in _SUFFIXES
    ]
)
FEED_WEIGHTS = tuple(1.0 / (1 + k) ** 0.7 for k in range(len(FEEDS)))
SERVICES = ("worker", "scheduler", "api", "ingest", "asr", "summarizer", "publisher", "collector")
CONTAINERS = ("redis", "postgres", "asr-api", "nginx", "minio", "ollama")
QUEUE_OF = {name: t.queue for name, t in TASK_TYPES.items()}
ALL_ERRORS = tuple(
    (name, text) for name, t in TASK_TYPES.items() for text in (*t.errors, *t.faults, t.poison)
)
WORKERS = tuple(w for q in ("ingest", "asr", "publish") for w in worker_names(q))


@dataclass(frozen=True)
class Params:
    """What the workspace is made of; equal parameters give identical bytes."""

    seed: int
    lines: int
    app_lines: int
    ai_lines: int
    tasks: int
    dead: int
    jobs: int
    store_events: int
    end: str
    days: float

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values, with the generator's version."""
        return {"generator": GENERATOR_VERSION, **self.__dict__}


# -- shared bits ---------------------------------------------------------------


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def _long_text(rng: random.Random) -> str:
    size = rng.randint(10_000, 100_000)
    out: list[str] = []
    have = 0
    while have < size:
        sentence = _words(rng, 8, 20).capitalize() + "."
        out.append(sentence)
        have += len(sentence) + 1
    return " ".join(out)[:size]


def _error_text(rng: random.Random, template: str, item_id: str) -> str:
    feed = item_id.rsplit("_", 1)[0]
    return template.format(
        url=f"https://feeds.example.com/{feed.lower()}/{rng.randrange(10**6)}.mp3",
        host=f"cdn-{rng.randrange(1, 9)}.example.net",
        item_id=item_id,
        n=rng.randrange(1, 900),
        slug=f"{feed.lower()}-{rng.randrange(10**4)}",
    )


def _corrupt(rng: random.Random, line: bytes) -> bytes:
    # No NUL bytes: lnav 0.11.1 crashes (SIGSEGV in pcre2) on a line holding one.
    body = line.rstrip(b"\n")
    choice = rng.randrange(5)
    if choice == 0:
        body = body[: rng.randrange(1, len(body))]
    elif choice == 1:
        body = b"\xff\xfe garbage " + body[:60]
    elif choice == 2:
        body = body.replace(b"|", b";", 3)
    elif choice == 3:
        body = b"Traceback (most recent call last): worker crashed mid-write"
    else:
        body = body[: len(body) // 2] + b"\x1b[31m" + body[len(body) // 2 :]
    return body + b"\n"


def _corr(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


# -- oos.log -------------------------------------------------------------------


@dataclass
class _Item:
    item_id: str
    feed: str
    content_type: str
    corr: str
    task_type: str
    state: str = "discovered"
    attempt: int = 0


def _needle_lines(total: int) -> dict[int, str]:
    """Global line numbers of the rare item's three lines."""
    if total < 10:
        return {}
    return {total // 10: "DISCOVER", total // 2: "PROCESS", total * 9 // 10: "FAIL"}


def _pipe_chunk(
    job: tuple[int, int, int, int, float, float, int],
) -> tuple[bytes, dict[str, int]]:
    seed, chunk, first, count, start, step, body = job
    rng = random.Random(f"{seed}:pipe:{chunk}")
    needles = _needle_lines(body)
    active: list[_Item] = []
    serial = chunk * 1_000_000
    counts = {"lines": 0, "FAIL": 0, "malformed": 0, "long": 0}
    out: list[bytes] = []
    feed_names = [f for f, _ in FEEDS]
    task_names = list(TASK_TYPES)
    for k in range(count):
        i = first + k
        ts = start + i * step
        needle = needles.get(i)
        if needle is not None:
            data: dict[str, Any] = {"correlation_id": "needle0needle000", "worker": WORKERS[0]}
            if needle == "FAIL":
                data["error"] = f"DownloadError: unsupported container for {NEEDLE_ITEM}"
                counts["FAIL"] += 1
            else:
                data["title"] = "the rare needle item"
            out.append(
                pipe_format.write_line(ts, needle, "podcast", "NeedleCast", NEEDLE_ITEM, data)
            )
            counts["lines"] += 1
            continue
        if len(active) < 30 or (len(active) < 300 and rng.random() < 0.317):
            feed_idx = rng.choices(range(len(feed_names)), weights=FEED_WEIGHTS)[0]
            feed, ctype = FEEDS[feed_idx]
            serial += 1
            item = _Item(f"{feed}_{serial:07d}", feed, ctype, _corr(rng), rng.choice(task_names))
            active.append(item)
            event = "DISCOVER"
            data = {
                "url": f"https://feeds.example.com/{feed.lower()}/ep/{serial}.mp3",
                "title": _words(rng, 3, 9).title(),
                "correlation_id": item.corr,
            }
            item.state = "discovered"
        else:
            pos = rng.randrange(len(active))
            item = active[pos]
            data = {"correlation_id": item.corr, "worker": rng.choice(WORKERS)}
            if item.state == "discovered":
                event = "PROCESS"
                item.attempt += 1
                item.state = "processing"
                data["task_type"] = item.task_type
                data["queue"] = QUEUE_OF[item.task_type]
                data["attempt"] = item.attempt
            else:
                roll = rng.random()
                if roll < 0.72:
                    event = "COMPLETE"
                    data["duration_s"] = round(rng.uniform(0.2, 900.0), 3)
                    data["outputs"] = [
                        f"05_asr/{item.item_id}.json",
                        f"06_summarize/{item.item_id}.md",
                    ]
                elif roll < 0.88:
                    event = "FAIL"
                    name, template = ALL_ERRORS[rng.randrange(len(ALL_ERRORS))]
                    data["error"] = _error_text(rng, template, item.item_id)
                    data["task_type"] = name
                    data["attempt"] = item.attempt
                elif roll < 0.95:
                    event = "RETRY"
                    name, template = ALL_ERRORS[rng.randrange(len(ALL_ERRORS))]
                    data["reason"] = _error_text(rng, template, item.item_id)
                    data["next_attempt_in"] = min(300, 2**item.attempt)
                    item.state = "discovered"
                else:
                    event = "SKIP"
                    data["reason"] = rng.choice(
                        ("duplicate", "too short", "language not supported")
                    )
                if event != "RETRY":
                    active[pos] = active[-1]
                    active.pop()
        if (i + 1) % LONG_EVERY == 0:
            data["transcript"] = _long_text(rng)
            counts["long"] += 1
        line = pipe_format.write_line(ts, event, item.content_type, item.feed, item.item_id, data)
        if rng.random() < MALFORMED_P:
            line = _corrupt(rng, line)
            counts["malformed"] += 1
        elif event == "FAIL":
            counts["FAIL"] += 1
        out.append(line)
        counts["lines"] += 1
    return b"".join(out), counts


# -- ai_events.log -------------------------------------------------------------


def _ai_chunk(job: tuple[int, int, int, int, float, float]) -> tuple[bytes, dict[str, int]]:
    seed, chunk, first, count, start, step = job
    rng = random.Random(f"{seed}:ai:{chunk}")
    counts = {"lines": 0, "error": 0, "malformed": 0, "long": 0}
    out: list[bytes] = []
    cpu = 30.0
    for k in range(count):
        i = first + k
        ts = start + i * step
        roll = rng.random()
        event = (
            "error"
            if roll < 0.05
            else "pattern"
            if roll < 0.08
            else rng.choice(("start", "stop", "decision", "metric", "metric", "metric"))
        )
        source = rng.choice(SERVICES)
        details: dict[str, Any]
        if event == "error":
            _, template = ALL_ERRORS[rng.randrange(len(ALL_ERRORS))]
            feed = rng.choice(FEEDS)[0]
            item_id = f"{feed}_{rng.randrange(10**6):07d}"
            details = {"message": _error_text(rng, template, item_id), "item_id": item_id}
        elif event == "decision":
            details = {
                "description": f"route {rng.choice(WORDS)} to {rng.choice(WORKERS)}",
                "confidence": round(rng.random(), 3),
            }
        elif event == "pattern":
            details = {
                "description": f"{rng.randint(3, 40)} failures of {rng.choice(list(TASK_TYPES))}"
                " in 5 minutes",
                "window_s": 300,
            }
        else:
            details = {"action": f"{rng.choice(WORDS)}_{rng.choice(WORDS)}"}
        if (i + 1) % LONG_EVERY == 0:
            details["trace"] = _long_text(rng)
            counts["long"] += 1
        analysis = None
        if rng.random() < 0.2:
            analysis = {
                "model": "gpt-4o-mini",
                "scores": [round(rng.random(), 3) for _ in range(5)],
                "reasoning": {"steps": [_words(rng, 3, 8) for _ in range(3)]},
            }
        cpu = min(100.0, max(0.0, cpu + rng.uniform(-5, 5)))
        metrics = {
            "cpu_percent": round(cpu, 1),
            "memory_percent": round(rng.uniform(20, 80), 1),
            "disk_percent": round(rng.uniform(40, 70), 1),
        }
        category = "system" if event in ("start", "stop", "metric") else "ai"
        line = ai_format.write_line(
            ts, event, category, source, details, metrics, None, analysis, correlation_id=_corr(rng)
        )
        if rng.random() < MALFORMED_P:
            line = _corrupt(rng, line)
            counts["malformed"] += 1
        elif event == "error":
            counts["error"] += 1
        out.append(line)
        counts["lines"] += 1
    return b"".join(out), counts


# -- logs/*.log ----------------------------------------------------------------

_APP_MESSAGES = (
    "Task started",
    "Task completed in {s}s",
    "Fetched feed {feed} ({n} new items)",
    "Claimed {n} tasks from {queue}",
    "GET /api/v1/items/{item} 200 ({n} ms)",
    "Heartbeat ok",
    "Cache hit ratio {r}",
    "Scheduled {n} retries",
)


def _app_chunk(job: tuple[int, int, int, int, float, float, str]) -> tuple[bytes, dict[str, int]]:
    seed, chunk, first, count, start, step, name = job
    rng = random.Random(f"{seed}:app:{name}:{chunk}")
    counts = {"lines": 0, "ERROR": 0, "malformed": 0, "long": 0}
    out: list[bytes] = []
    for k in range(count):
        i = first + k
        ts = start + i * step
        roll = rng.random()
        level = "ERROR" if roll < 0.05 else "WARNING" if roll < 0.13 else "INFO"
        if rng.random() < 0.1:
            level = "DEBUG" if level == "INFO" else level
        feed = rng.choice(FEEDS)[0]
        item_id = f"{feed}_{rng.randrange(10**6):07d}"
        task_type = rng.choice(list(TASK_TYPES))
        if level == "ERROR":
            _, template = ALL_ERRORS[rng.randrange(len(ALL_ERRORS))]
            message = _error_text(rng, template, item_id)
        else:
            message = rng.choice(_APP_MESSAGES).format(
                s=round(rng.uniform(0.1, 60), 2),
                feed=feed,
                n=rng.randrange(1, 500),
                queue=QUEUE_OF[task_type],
                item=item_id,
                r=round(rng.random(), 2),
            )
        if (i + 1) % LONG_EVERY == 0:
            message += "\n" + _long_text(rng)
            counts["long"] += 1
        if name == "containers":
            line = app_format.write_container_line(
                ts,
                None if rng.random() < 0.5 else level,
                rng.choice(CONTAINERS),
                message,
                stream="stderr" if level in ("ERROR", "WARNING") else "stdout",
            )
        else:
            line = app_format.write_line(
                ts,
                level,
                name if rng.random() < 0.7 else rng.choice(SERVICES),
                message,
                {"request_id": _corr(rng), "worker": rng.choice(WORKERS)},
                {
                    "task_id": rng.randrange(1, 10**6),
                    "item_id": item_id,
                    "queue": QUEUE_OF[task_type],
                },
            )
        if rng.random() < MALFORMED_P:
            line = _corrupt(rng, line)
            counts["malformed"] += 1
        elif level == "ERROR":
            counts["ERROR"] += 1
        out.append(line)
        counts["lines"] += 1
    return b"".join(out), counts


# -- the logs, in parallel -----------------------------------------------------


def _chunks(total: int) -> Iterator[tuple[int, int, int]]:
    for chunk, first in enumerate(range(0, total, CHUNK)):
        yield chunk, first, min(CHUNK, total - first)


def _last_line_pipe(ts: float, seed: int) -> tuple[str, bytes]:
    marker = f"{LAST_PREFIX}-oos-s{seed}"
    line = pipe_format.write_line(
        ts, "COMPLETE", "bench", "bench", marker, {"message": f"{marker} the last line of oos.log"}
    )
    return marker, line


def _write_logs(ws: Path, p: Params, start: float, end: float, procs: int) -> dict[str, Any]:
    span = end - start
    plans: list[tuple[str, Path, Any, list[tuple[Any, ...]]]] = []
    body = max(0, p.lines - 1)
    plans.append(
        (
            "oos",
            ws / "oos.log",
            _pipe_chunk,
            [(p.seed, c, f, n, start, span / max(1, body), body) for c, f, n in _chunks(body)],
        )
    )
    ai_body = max(0, p.ai_lines - 1)
    plans.append(
        (
            "ai",
            ws / "ai_events.log",
            _ai_chunk,
            [(p.seed, c, f, n, start, span / max(1, ai_body)) for c, f, n in _chunks(ai_body)],
        )
    )
    per_file = [p.app_lines // len(APP_FILES)] * len(APP_FILES)
    per_file[0] += p.app_lines - sum(per_file)
    for name, n_lines in zip(APP_FILES, per_file, strict=True):
        app_body = max(0, n_lines - 1)
        plans.append(
            (
                f"app:{name}",
                ws / "logs" / f"{name}.log",
                _app_chunk,
                [
                    (p.seed, c, f, n, start, span / max(1, app_body), name)
                    for c, f, n in _chunks(app_body)
                ],
            )
        )
    (ws / "logs").mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    markers: dict[str, str] = {}
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(procs) as pool:
        for key, path, fn, jobs in plans:
            totals: dict[str, int] = {}
            with open(path, "wb") as fh:
                for data, counts in pool.imap(fn, jobs, chunksize=1):
                    fh.write(data)
                    for name, value in counts.items():
                        totals[name] = totals.get(name, 0) + value
                # The marker is stamped after everything else; oos.log's is the newest of all.
                if key == "oos":
                    marker, line = _last_line_pipe(end, p.seed)
                elif key == "ai":
                    marker = f"{LAST_PREFIX}-ai-s{p.seed}"
                    line = ai_format.write_line(
                        end - 1.0, "stop", "system", "bench", {"message": marker}
                    )
                else:
                    marker = f"{LAST_PREFIX}-{key.replace(':', '-')}-s{p.seed}"
                    line = app_format.write_line(end - 1.0, "INFO", "bench", marker)
                fh.write(line)
                totals["lines"] = totals.get("lines", 0) + 1
            markers[key] = marker
            totals["bytes"] = path.stat().st_size
            files[str(path.relative_to(ws))] = totals
    return {"files": files, "markers": markers}


# -- the store -----------------------------------------------------------------


def _write_store(ws: Path, p: Params, start: float, end: float) -> dict[str, int]:
    path = ws / "data" / "oos.db"
    init_store(path)
    rng = random.Random(f"{p.seed}:store")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    span = end - start
    task_names = list(TASK_TYPES)
    dead = min(p.dead, p.tasks)
    tasks: list[tuple[Any, ...]] = []
    dead_rows: list[tuple[Any, ...]] = []
    statuses = {"pending": 0, "processing": 0, "completed": 0, "failed": 0}
    error: str | None
    dead_ids = set(rng.sample(range(1, p.tasks + 1), dead)) if dead else set()
    for task_id in range(1, p.tasks + 1):
        name = rng.choice(task_names)
        spec = TASK_TYPES[name]
        feed = rng.choice(FEEDS)[0]
        item_id = f"{feed}_{rng.randrange(10**6):07d}"
        created = start + span * (task_id - 1) / max(1, p.tasks)
        payload = {"item_id": item_id, "source": feed, "url": f"https://feeds.example.com/{feed}"}
        worker = rng.choice(worker_names(spec.queue))
        if task_id in dead_ids:
            status, attempts, nxt = "failed", spec.max_attempts, None
            error = _error_text(rng, spec.poison if rng.random() < 0.4 else spec.errors[0], item_id)
            failed_at = format_ts(created + rng.uniform(60, 3600))
            dead_rows.append(
                (
                    task_id,
                    spec.queue,
                    name,
                    orjson.dumps(payload).decode(),
                    attempts,
                    error,
                    worker,
                    failed_at,
                )
            )
        else:
            roll = rng.random()
            recent = created > end - 3600
            if (recent and roll < 0.6) or roll < 0.03:
                status = "pending"
            elif recent and roll < 0.62:
                status = "processing"
            else:
                status = "completed"
            attempts = rng.randrange(1, 4) if status == "pending" and rng.random() < 0.3 else 0
            nxt = format_ts(created + min(300, 2**attempts)) if attempts else None
            error = _error_text(rng, rng.choice(spec.errors), item_id) if attempts else None
        statuses[status] += 1
        stamp = format_ts(created)
        tasks.append(
            (
                task_id,
                spec.queue,
                name,
                orjson.dumps(payload).decode(),
                status,
                rng.choice((0, 0, 0, 5, 10)),
                attempts,
                spec.max_attempts,
                nxt,
                worker if status != "pending" else None,
                error,
                stamp,
                stamp,
            )
        )
    breakers = []
    for name in (*WORKERS, "dep_feed_fetch", "dep_media_cdn", "dep_asr_api", "dep_cms_api"):
        state = rng.choices(("closed", "open", "half_open"), weights=(8, 1, 1))[0]
        fails = 10 if state != "closed" else rng.randrange(0, 4)
        breakers.append(
            (
                name,
                state,
                fails,
                10,
                rng.randrange(50, 5000),
                rng.randrange(5000, 500_000),
                format_ts(end - 120) if state != "closed" else None,
                format_ts(end + 30) if state != "closed" else None,
                "TimeoutError: upstream timed out" if fails else None,
                format_ts(end - 60),
            )
        )
    events = []
    for k in range(p.store_events):
        ts = start + span * k / max(1, p.store_events)
        roll = rng.random()
        severity = "error" if roll < 0.05 else "warning" if roll < 0.12 else "info"
        system = rng.choice(("pipeline", "scheduler", "collector", "backup", "alerts"))
        event_type = rng.choice(("job_started", "job_finished", "breaker_opened", "task_retried"))
        events.append(
            (
                f"{rng.getrandbits(128):032x}",
                format_ts(ts),
                system,
                event_type,
                severity,
                f"{event_type.replace('_', ' ')} on {rng.choice(WORKERS)}",
                _words(rng, 5, 20),
                orjson.dumps({"n": k, "queue": rng.choice(("ingest", "asr", "publish"))}).decode(),
                orjson.dumps([system, severity]).decode(),
                _corr(rng),
                rng.choice(WORKERS),
                rng.randrange(1, 100_000),
                "{}",
            )
        )
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO tasks VALUES ({','.join('?' * 13)})", tasks)
    conn.executemany(
        "INSERT INTO dead_letter (task_id, queue, task_type, payload, attempts, error,"
        " worker_id, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        dead_rows,
    )
    conn.executemany(f"INSERT INTO circuit_breakers VALUES ({','.join('?' * 10)})", breakers)
    conn.executemany(f"INSERT INTO events VALUES ({','.join('?' * 13)})", events)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "tasks": p.tasks,
        "dead_letter": len(dead_rows),
        "breakers": len(breakers),
        "events": len(events),
        **{f"tasks_{k}": v for k, v in statuses.items()},
    }


# -- jobs ----------------------------------------------------------------------


def _write_jobs(ws: Path, p: Params, start: float, end: float) -> dict[str, int]:
    rng = random.Random(f"{p.seed}:jobs")
    out = ws / "out"
    span = end - start
    counts = {"jobs": 0, "failed": 0, "files": 0}
    for j in range(p.jobs):
        t = start + span * (j + 0.5) / max(1, p.jobs)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t))
        job_id = f"job-{stamp}-{j:04x}"
        job_dir = out / job_id
        (job_dir / "logs").mkdir(parents=True, exist_ok=True)
        feed = rng.choice(FEEDS)[0]
        item = f"{feed}_{rng.randrange(10**6):07d}"
        pipeline = [write_record(t, "INFO", f"job {job_id} started", "oos.pipeline")]
        failed = False
        for spec in STAGES:
            stage_dir = job_dir / spec.dir
            stage_dir.mkdir()
            logger = f"oos.stage.{spec.dir[3:]}"
            began = t
            records = [write_record(t, "INFO", f"starting {spec.dir} for {item}", logger)]
            pipeline.append(write_record(t, "INFO", f"stage {spec.dir} started", "oos.pipeline"))
            for _ in range(rng.randint(5, 25)):
                t += rng.uniform(0.5, 5.0)
                text = rng.choice(spec.progress).format(n=rng.randrange(1, 10))
                records.append(write_record(t, rng.choice(("INFO", "INFO", "DEBUG")), text, logger))
            t += rng.uniform(1, 30)
            fails = rng.random() < 0.04
            errors: list[dict[str, Any]] = []
            if fails:
                first = rng.choice(spec.errors)[0].format(n=rng.randrange(2, 900))
                trace = (
                    "Traceback (most recent call last):\n"
                    f'  File "/opt/oos/pipeline/stages/{spec.dir[3:]}.py", line 42, in run\n'
                    f"    result = self.process(inputs)\n{first}"
                )
                records.append(write_record(t, "ERROR", f"stage failed: {first}\n{trace}", logger))
                errors.append({"at": format_ts(t), "message": first, "traceback": trace})
            else:
                records.append(
                    write_record(t, "INFO", f"finished {spec.dir} in {t - began:.3f}s", logger)
                )
            (stage_dir / "stage.log").write_bytes(b"".join(records))
            manifest = write_manifest(
                spec.dir[3:],
                "failed" if fails else "success",
                began,
                round(t - began, 3),
                [i if isinstance(i, str) else dict(i) for i in spec.inputs],
                [] if fails else [f"{spec.dir}/{name}" for name, _, _ in spec.outputs],
                config=dict(spec.config, item_id=item),
                resources={
                    "cpu_percent": round(rng.uniform(20, 390), 1),
                    "memory_mb": rng.randrange(200, 6000),
                },
                errors=errors,
            )
            (stage_dir / "manifest.json").write_bytes(manifest)
            counts["files"] += 2
            if fails:
                pipeline.append(
                    write_record(t, "ERROR", f"stage {spec.dir} failed: {first}", "oos.pipeline")
                )
                failed = True
                break
        status = "failed" if failed else "success"
        pipeline.append(
            write_record(
                t, "ERROR" if failed else "INFO", f"job {job_id} finished: {status}", "oos.pipeline"
            )
        )
        log_name = (
            "99_pipeline_"
            + time.strftime("%Y%m%d_%H%M%S", time.gmtime(start + span * (j + 0.5) / max(1, p.jobs)))
            + ".log"
        )
        (job_dir / "logs" / log_name).write_bytes(b"".join(pipeline))
        counts["jobs"] += 1
        counts["failed"] += failed
        counts["files"] += 1
    return counts


# -- the whole workspace -------------------------------------------------------


def read_manifest(ws: Path) -> dict[str, Any] | None:
    """The workspace's ``bench-workspace.json``, or None when absent or unreadable."""
    try:
        return json.loads((ws / MANIFEST).read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def _reusable(ws: Path, p: Params) -> dict[str, Any] | None:
    doc = read_manifest(ws)
    if doc is None or doc.get("params") != p.as_dict():
        return None
    for rel, info in doc.get("files", {}).items():
        try:
            if (ws / rel).stat().st_size != info["bytes"]:
                return None
        except OSError:
            return None
    return doc


def build(ws: Path, p: Params, procs: int, force: bool = False) -> dict[str, Any]:
    """Build the workspace at ``ws`` (or reuse a matching one); returns its manifest."""
    ws = ws.resolve()
    if not force:
        found = _reusable(ws, p)
        if found is not None:
            found = ensure_nolong(ws, found)
            found["reused"] = True
            return found
    solo = ws.parent / f"{ws.name}-solo"
    for path in (ws, solo, ws.parent / f"{ws.name}-nolong"):
        if path.exists():
            shutil.rmtree(path)
    ws.mkdir(parents=True)
    began = time.perf_counter()
    end = parse_ts(p.end)
    if end is None:
        raise SystemExit(f"make_workspace: bad --end time {p.end!r}")
    start = end - p.days * 86400
    doc: dict[str, Any] = {"params": p.as_dict(), "workspace": str(ws), "solo": str(solo)}
    doc.update(_write_logs(ws, p, start, end, procs))
    doc["store"] = _write_store(ws, p, start, end - 2.0)
    doc["jobs"] = _write_jobs(ws, p, start, end - 3600)
    doc["needle"] = NEEDLE_ITEM
    doc["end_ts"] = end
    oos = doc["files"]["oos.log"]
    doc["fail_fraction"] = round(oos["FAIL"] / max(1, oos["lines"]), 4)
    doc["build_seconds"] = round(time.perf_counter() - began, 1)
    doc["processes"] = procs
    solo.mkdir()
    try:
        os.link(ws / "oos.log", solo / "oos.log")
    except OSError:
        shutil.copyfile(ws / "oos.log", solo / "oos.log")
    doc = ensure_nolong(ws, doc)
    doc["reused"] = False
    return doc


def ensure_nolong(ws: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """``OUT-nolong/oos.log``: oos.log without its lines over 8 KB, for lnav (see README)."""
    folder = ws.parent / f"{ws.name}-nolong"
    target = folder / "oos.log"
    if doc.get("nolong") == str(folder) and target.exists():
        return doc
    folder.mkdir(exist_ok=True)
    removed = 0
    with open(ws / "oos.log", "rb") as src, open(target, "wb") as dst:
        for line in src:
            if len(line) > LNAV_MAX_LINE:
                removed += 1
            else:
                dst.write(line)
    doc["nolong"] = str(folder)
    doc["nolong_removed"] = removed
    (ws / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"workspace directory (default {DEFAULT_OUT})"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--lines", type=int, default=2_000_000, help="lines of oos.log (default 2000000)"
    )
    parser.add_argument(
        "--app-lines", type=int, default=None, help="lines of logs/*.log in all (default: --lines)"
    )
    parser.add_argument(
        "--ai-lines", type=int, default=None, help="lines of ai_events.log (default: --lines / 10)"
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--dead", type=int, default=10_000, help="dead letters (default 10000)")
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument(
        "--store-events", type=int, default=20_000, help="rows of the store's events table"
    )
    parser.add_argument(
        "--end", default="2026-01-01T00:00:00Z", help="time of the newest event (UTC)"
    )
    parser.add_argument("--days", type=float, default=7.0, help="days of history (default 7)")
    parser.add_argument(
        "--procs", type=int, default=os.cpu_count() or 1, help="generator processes"
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if a matching workspace exists"
    )
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")
    args = parser.parse_args(argv)
    params = Params(
        seed=args.seed,
        lines=args.lines,
        app_lines=args.lines if args.app_lines is None else args.app_lines,
        ai_lines=max(1, args.lines // 10) if args.ai_lines is None else args.ai_lines,
        tasks=args.tasks,
        dead=args.dead,
        jobs=args.jobs,
        store_events=args.store_events,
        end=args.end,
        days=args.days,
    )
    doc = build(args.out, params, max(1, args.procs), force=args.force)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        verb = "reused" if doc["reused"] else f"built in {doc['build_seconds']} s"
        print(f"workspace {doc['workspace']} {verb}")
        for rel, info in doc["files"].items():
            print(f"  {rel:<22} {info['lines']:>10,} lines {info['bytes'] / 1e6:>8.1f} MB")
        print(f"  store: {doc['store']}")
        print(f"  jobs: {doc['jobs']}  FAIL share of oos.log: {doc['fail_fraction']:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
