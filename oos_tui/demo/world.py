"""The simulated OOS pipeline: discovery, workers, breakers, episodes, all on simulated time.

The store is the truth. Workers take tasks from it (pending, due, by priority
then id), mark them ``processing``, and later complete or fail them; they
re-read their breaker rows before taking work. So anything the console does
to the store (retrying a dead letter, resetting a breaker) is simply what the
next worker step sees.

One tick is at most one primary action (a discovery or one worker step, each
one short transaction) plus the periodic work that falls due: metrics, job
progress, episode changes, burst chunks, container chatter. Every decision
compares simulated time ``t`` and draws from seeded random streams, so a seed
(and a fixed start) replays the same run on any machine.

Episodes that make the console's views interesting, on cadences divided by
``--speed``:

* the bad source (``BadFeed``) fails every fetch for a while, so its breaker
  ``dep_feed_badfeed`` opens, goes half-open at ``retry_at`` and closes;
* one worker at a time falls sick and fails everything, tripping its own breaker;
* a re-index backfill pushes ``publish`` past 1000 pending, then drains.
"""

from __future__ import annotations

import random
import sqlite3
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from oos_tui.demo.catalog import (
    BAD_SOURCE,
    BREAKER_WINDOW,
    BURST,
    DEPENDENCIES,
    FAILURE_THRESHOLD,
    HOST,
    OUTAGE,
    QUEUES,
    SICK,
    SOURCES,
    TASK_TYPES,
    Cadence,
    Source,
    TaskType,
    dependency_for,
    worker_names,
)
from oos_tui.demo.jobs import JobRunner
from oos_tui.demo.logs import Logs
from oos_tui.demo.metrics import MetricsSource
from oos_tui.demo.options import DemoOptions
from oos_tui.demo.rules import (
    Breaker,
    admit,
    backoff_seconds,
    headline,
    record_failure,
    record_success,
    signature,
)
from oos_tui.demo.store import DemoStore, TaskRow
from oos_tui.formats.base import format_ts
from oos_tui.store.connection import error_kind

__all__ = ["MARKER", "World"]

MARKER = ".oos-demo.json"
"""Written at the top of a workspace the demo created; it never writes into any other."""

_DISCOVER_PER_SECOND = 1.6  # nominal items per second of the real pipeline
_DISCOVER_SHARE = 0.06  # at most this share of ticks discovers (leaves room to drain)
_IDLE_POLL = 0.5  # nominal seconds an idle worker waits before polling again
_METRICS_EVERY = 5.0  # simulated seconds between system_metrics samples (not scaled)
_HEALTH_EVERY = 10.0
_DUPLICATE_P = 0.03
_URGENT_P = 0.05
_POISON_PER_MILLE = 10
_RETRIED_POISON_HEALS = 0.7
_BURST_SIZE = 1800
_BURST_CHUNK = 250
_BURST_CHECK_TICKS = 10
_BACKLOG = 1000
_DRAINED = 100
_OUTAGE_DUMP = 12
_EPISODE_FAILURES = FAILURE_THRESHOLD
_EPISODE_MAX = 4.0  # an episode that cannot reach its failures still ends after 4x its length
_PATTERN_COUNT = 5
_PATTERN_WINDOW = 60.0
_CHATTER_P = 0.06
_RETENTION = 2 * 3600.0  # simulated seconds of events and completed tasks kept in the store
_PRUNE_EVERY = 60.0
_METADATA = {"host": HOST, "producer": "oos-tui demo"}
_BAD = next(s for s in SOURCES if s.name == BAD_SOURCE)

_TITLES = (
    "AI Revolution",
    "Scaling Laws Revisited",
    "The Quiet Pipeline",
    "Night Shift at the Data Center",
    "Why Breakers Trip",
    "City Council, Late Session",
    "Attention Is Still All You Need",
    "Backpressure in Practice",
    "Edge Inference on a Budget",
    "Listener Questions #",
)

_SICK_ERRORS = {
    "ingest": "WorkerLost: {worker} killed by the OOM killer (exit code -9)",
    "asr": "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB on {worker}",
    "publish": "ConnectionError: redis://cache-1:6379 refused the connection ({worker})",
}

_CHATTER: tuple[tuple[str, str | None, str, str], ...] = (
    (
        "asr-gpu-0",
        "INFO",
        "stdout",
        'INFO:     10.0.3.{n}:5{n}12 - "POST /v1/transcribe HTTP/1.1" 200',
    ),
    ("asr-gpu-0", None, "stderr", "UserWarning: FP16 is not supported on CPU; using FP32 instead"),
    ("feed-fetcher", "INFO", "stdout", "fetched {n} entries from https://aiweekly.example.net/rss"),
    ("feed-fetcher", "DEBUG", "stdout", "conditional GET: 304 Not Modified ({n}1 ms)"),
    ("postgres", None, "stderr", "LOG:  checkpoint complete: wrote {n}3 buffers (0.{n}%)"),
    ("redis", "INFO", "stdout", "Background saving terminated with success ({n} keys changed)"),
    ("cms-proxy", "WARNING", "stderr", "upstream response time {n}.2s exceeds 2s budget"),
)


@dataclass
class _Worker:
    """A worker's in-memory state between its take and its finish."""

    name: str
    queue: str
    held: list[TaskRow] = field(default_factory=list)
    busy_until: float = 0.0
    idle_until: float = 0.0
    trial_dep: str | None = None


@dataclass
class _Episode:
    """A running outage or sickness: it ends after its length and enough failures."""

    started: float
    ends: float
    hard_end: float
    target: str
    failures: int = 0


def _spec(task_type: str) -> TaskType | None:
    return TASK_TYPES.get(task_type)


def _exclusion(dep: str) -> tuple[str, list[Any]]:
    """SQL that matches the tasks guarded by ``dep`` (the worker then leaves them)."""
    source = "CASE WHEN json_valid(payload) THEN json_extract(payload, '$.source') END"
    if dep == "dep_feed_badfeed":
        return f"task_type = 'fetch_feed_item' AND {source} IS ?", [BAD_SOURCE]
    types = [t.name for t in TASK_TYPES.values() if t.dependency == dep]
    marks = ",".join("?" * len(types))
    if dep == "dep_feed_fetch":
        return f"task_type IN ({marks}) AND {source} IS NOT ?", [*types, BAD_SOURCE]
    return f"task_type IN ({marks})", types


def _queue_deps(queue: str) -> list[str]:
    deps = {t.dependency for t in TASK_TYPES.values() if t.queue == queue}
    if queue == "ingest":
        deps.add("dep_feed_badfeed")
    return sorted(deps)


def _poisoned(item_id: str, task_type: str) -> bool:
    """A permanently broken item, decided by its id so every attempt agrees."""
    return zlib.crc32(f"{item_id}:{task_type}".encode()) % 1000 < _POISON_PER_MILLE


def _with_traceback(error: str, queue: str) -> str:
    """The traceback a worker logs; one exception always comes from the same code line."""
    exc = error.split(":", 1)[0]
    line = 40 + zlib.crc32(f"{queue}:{exc}".encode()) % 360
    return (
        "Traceback (most recent call last):\n"
        f'  File "/opt/oos/workers/{queue}.py", line {line}, in handle\n'
        "    result = self.run(task)\n"
        f'  File "/opt/oos/workers/{queue}.py", line {line + 58}, in run\n'
        f"    raise {exc}(detail)\n"
        f"{error}"
    )


class World:
    """The simulation, writing one workspace.

    Args:
        options: The run's options (workspace, seed, rate, speed…).
        start: Simulated time of tick 0 (epoch seconds).
        metrics: Where ``system_metrics`` samples come from.

    Raises:
        StoreError, sqlite3.Error, OSError: the workspace cannot be set up.
    """

    def __init__(self, options: DemoOptions, start: float, metrics: MetricsSource) -> None:
        self.options = options
        self.start = start
        self.t = start
        ws = options.workspace
        ws.mkdir(parents=True, exist_ok=True)
        seed = options.seed
        self._rng = random.Random(f"{seed}:world")
        self._noise = random.Random(f"{seed}:noise")
        ids = random.Random(f"{seed}:ids")
        self._ids = ids
        self._metrics = metrics
        marker = ws / MARKER
        if not marker.exists():
            marker.write_bytes(
                orjson.dumps(
                    {"created_by": "oos-tui demo", "seed": seed, "created_at": format_ts(start)}
                )
                + b"\n"
            )
        self.logs = Logs(
            ws,
            self._noise,
            malformed_share=options.malformed_share,
            rotate_bytes=options.rotate_bytes,
            app_rotate_bytes=options.app_rotate_bytes,
            keep=options.rotate_keep,
        )
        (ws / "data").mkdir(exist_ok=True)
        self.store = DemoStore(ws / "data" / "oos.db", ids)
        # A reused workspace already holds this seed's first ids: continue from its state.
        ids.seed(f"{seed}:ids:{self.store.max_task_id()}:{self.store.max_event_rowid()}")
        self.jobs = JobRunner(
            ws / "out",
            ws / "inputs",
            random.Random(f"{seed}:jobs"),
            speed=options.speed,
            rate=options.rate,
            keep=options.keep_jobs,
            on_event=self._job_event,
        )
        self.workers = [_Worker(name, q) for q in QUEUES for name in worker_names(q)]
        self._cursor = 0
        self._trials: set[str] = set()
        self._episode_ids: dict[str, str] = {}
        self._seq = self.store.max_task_id()
        self._p_discover = min(_DISCOVER_PER_SECOND * options.speed / options.rate, _DISCOVER_SHARE)
        self._next_metrics = start
        self._next_health = start + _HEALTH_EVERY
        self._next_prune = start + _PRUNE_EVERY
        self._next_outage = start + options.scaled(OUTAGE.first)
        self._next_sick = start + options.scaled(SICK.first)
        self._next_burst = start + options.scaled(BURST.first)
        self._outage: _Episode | None = None
        self._sick: _Episode | None = None
        self._burst_left = 0
        self._burst_id: str | None = None
        self._burst_started = 0.0
        self._burst_alerted = False
        self._burst_seq = 0
        self._failures_by_sig: dict[str, deque[float]] = {}
        self._pattern_at: dict[str, float] = {}
        self._last_corr: dict[str, str] = {}
        self.busy_skips = 0
        self.ticks = 0
        self.stats: dict[str, int] = {
            "discovered": 0,
            "skipped": 0,
            "taken": 0,
            "completed": 0,
            "retries": 0,
            "dead_lettered": 0,
            "workflows_completed": 0,
            "breaker_opened": 0,
            "breaker_closed": 0,
            "bursts": 0,
            "backlog_alerts": 0,
            "pruned": 0,
        }

    # -- lifecycle --------------------------------------------------------

    def begin(self) -> None:
        """Create the breaker rows, requeue orphaned tasks, announce the start."""
        t = self.t
        names = [w.name for w in self.workers] + list(DEPENDENCIES)
        self.store.ensure_breakers(names, FAILURE_THRESHOLD, t)
        orphans = self.store.requeue_orphans(t)
        self.logs.ai(
            t,
            "start",
            "system",
            "oos-demo",
            {
                "action": "service_start",
                "host": HOST,
                "seed": self.options.seed,
                "rate": self.options.rate,
                "speed": self.options.speed,
                "requeued_orphans": orphans,
            },
            self._metrics.sample(),
        )
        self._next_metrics = t + _METRICS_EVERY

    def finish(self) -> None:
        """Announce the stop and close everything; files are complete and the store closed."""
        self.logs.discard()  # lines of an action cut short by a second signal are not written
        try:
            self.logs.ai(
                self.t,
                "stop",
                "system",
                "oos-demo",
                {"action": "service_stop", "host": HOST, "ticks": self.ticks},
                self._metrics.sample(),
            )
        finally:
            try:
                self.jobs.close()
            finally:
                try:
                    self.logs.close()
                finally:
                    self.store.close()

    def step(self, tick: int, t: float) -> None:
        """Run tick ``tick`` at simulated time ``t``."""
        self.t = t
        self.ticks = tick + 1
        self._periodic(tick, t)
        if self._rng.random() < self._p_discover:
            self._act(lambda: self._discover(t))
            return
        worker = self._next_ready(t)
        if worker is None:
            return
        if worker.held:
            self._act(lambda: self._finish(worker, t))
        else:
            self._act(lambda: self._take(worker, t))

    def _act(self, body: Callable[[], None]) -> None:
        """Run one action as one transaction; its log lines are written once it commits.

        ``BEGIN IMMEDIATE`` is the only statement that can wait on another
        process (reads never block in WAL mode), so a store kept busy past the
        timeout skips the action before anything changed.
        """
        self.logs.hold()
        try:
            with self.store.transaction():
                body()
        except sqlite3.OperationalError as exc:
            self.logs.discard()
            if error_kind(exc) != "busy":
                raise
            self.busy_skips += 1
            return
        except BaseException:
            self.logs.discard()
            raise
        self.logs.release()

    def _next_ready(self, t: float) -> _Worker | None:
        n = len(self.workers)
        for offset in range(n):
            w = self.workers[(self._cursor + offset) % n]
            if (w.held and t >= w.busy_until) or (not w.held and t >= w.idle_until):
                self._cursor = (self._cursor + offset + 1) % n
                return w
        return None

    # -- periodic work ----------------------------------------------------

    def _periodic(self, tick: int, t: float) -> None:
        if t >= self._next_metrics:
            self._next_metrics += _METRICS_EVERY
            self.logs.ai(
                t,
                "metric",
                "system",
                "resource_monitor",
                {"action": "sample", "host": HOST},
                self._metrics.sample(),
            )
        if t >= self._next_health:
            self._next_health += _HEALTH_EVERY
            self.logs.app_line(
                "api",
                t,
                "DEBUG",
                "api",
                "GET /healthz 200",
                {"request_id": f"health-{tick}"},
                {"status": 200, "duration_ms": self._noise.randrange(1, 5)},
            )
        if t >= self._next_prune:
            self._next_prune += _PRUNE_EVERY
            self._act(lambda: self._prune(t))
        self._episodes(t)
        if self._burst_left:
            self._act(lambda: self._burst_chunk(t))
        elif self._burst_id is not None and tick % _BURST_CHECK_TICKS == 0:
            self._watch_backlog(t)
        self.jobs.step(t, tick)
        if self._noise.random() < _CHATTER_P:
            self._chatter(t)

    def _prune(self, t: float) -> None:
        """Keep a long demo's store bounded: old events and completed tasks go."""
        self.stats["pruned"] += self.store.prune(t - _RETENTION)

    def _episodes(self, t: float) -> None:
        opts = self.options
        if self._outage is None and t >= self._next_outage:
            self._outage = self._new_episode(t, OUTAGE, BAD_SOURCE)
            self._next_outage = t + opts.scaled(OUTAGE.every)
            self._act(lambda: self._outage_dump(_BAD, t))
        elif self._outage is not None and self._episode_over(self._outage, t):
            self._outage = None
        if self._sick is None and t >= self._next_sick:
            worker = self._rng.choice(self.workers).name
            self._sick = self._new_episode(t, SICK, worker)
            self._next_sick = t + opts.scaled(SICK.every)
        elif self._sick is not None and self._episode_over(self._sick, t):
            self._sick = None
        if self._burst_id is None and t >= self._next_burst:
            self._next_burst = t + opts.scaled(BURST.every)
            if self.store.pending("publish") < _DRAINED * 2:
                self._burst_seq += 1
                self._burst_id = f"burst-{self._burst_seq:04d}-{self._ids.getrandbits(32):08x}"
                self._burst_left = _BURST_SIZE
                self._burst_started = t
                self._burst_alerted = False
                self.stats["bursts"] += 1

    def _new_episode(self, t: float, cadence: Cadence, target: str) -> _Episode:
        lasts = self.options.scaled(cadence.lasts)
        return _Episode(t, t + lasts, t + lasts * _EPISODE_MAX, target)

    @staticmethod
    def _episode_over(episode: _Episode, t: float) -> bool:
        if t >= episode.hard_end:
            return True
        return t >= episode.ends and episode.failures >= _EPISODE_FAILURES

    def _outage_dump(self, source: Source, t: float) -> None:
        """The bad feed publishes a page of items just as it starts failing."""
        for _ in range(_OUTAGE_DUMP):
            self._discover(t, source=source, duplicates=False)
        self.logs.app_line(
            "api",
            t,
            "INFO",
            "feed_watcher",
            f"GET {source.feed} 200 ({_OUTAGE_DUMP} new items)",
            {"request_id": f"poll-{source.name}-{int(t)}"},
            {"source": source.name, "new_items": _OUTAGE_DUMP},
        )

    def _burst_chunk(self, t: float) -> None:
        """Insert the next slice of the backfill (short transactions, never one huge one)."""
        burst = self._burst_id
        assert burst is not None
        n = min(_BURST_CHUNK, self._burst_left)
        first = self._burst_left == _BURST_SIZE
        for _ in range(n):
            self._seq += 1
            item_id = f"Archive_{self._seq:06d}"
            payload = {
                "item_id": item_id,
                "correlation_id": burst,
                "source": "ArchiveBackfill",
                "content_type": "episode",
                "index": "episodes-v7",
                "url": f"https://archive.example.com/episodes/{self._seq}",
            }
            task_id = self.store.insert_task(
                "publish",
                "reindex_search",
                payload,
                t,
                priority=-1,
                max_attempts=TASK_TYPES["reindex_search"].max_attempts,
            )
            self.logs.pipe(
                t,
                "DISCOVER",
                "episode",
                "ArchiveBackfill",
                item_id,
                {"url": payload["url"], "task_id": task_id, "correlation_id": burst},
            )
        self._burst_left -= n
        if first:
            self.store.event(
                t,
                "publish",
                "backfill_started",
                "info",
                "Search re-index backfill started",
                f"{_BURST_SIZE} reindex_search tasks queued on publish",
                {"tasks": _BURST_SIZE, "queue": "publish", "task_type": "reindex_search"},
                ["backfill", "publish"],
                burst,
                "backfill",
                metadata=_METADATA,
            )
            self.logs.app_line(
                "api",
                t,
                "INFO",
                "api",
                "POST /v1/admin/reindex 202",
                {"request_id": burst},
                {"tasks": _BURST_SIZE, "status": 202},
            )

    def _watch_backlog(self, t: float) -> None:
        depth = self.store.pending("publish")
        burst = self._burst_id
        if not self._burst_alerted and depth > _BACKLOG:
            self._burst_alerted = True
            self.stats["backlog_alerts"] += 1

            def alert() -> None:
                self.store.event(
                    t,
                    "publish",
                    "queue_backlog",
                    "warning",
                    f"publish queue depth {depth} over {_BACKLOG}",
                    "re-index backfill is ahead of the publish workers",
                    {"queue": "publish", "pending": depth, "threshold": _BACKLOG},
                    ["queue", "backlog"],
                    burst,
                    "scheduler",
                    metadata=_METADATA,
                )
                self.logs.ai(
                    t,
                    "pattern",
                    "system",
                    "scheduler",
                    {
                        "message": f"queue publish depth {depth} exceeds {_BACKLOG}",
                        "queue": "publish",
                        "pending": depth,
                        "correlation_id": burst,
                    },
                )

            self._act(alert)
        elif self._burst_alerted and depth < _DRAINED:
            seconds = round(t - self._burst_started, 1)

            def drained() -> None:
                self.store.event(
                    t,
                    "publish",
                    "queue_drained",
                    "info",
                    f"publish queue drained to {depth}",
                    f"backfill absorbed in {seconds}s",
                    {"queue": "publish", "pending": depth, "seconds": seconds},
                    ["queue", "backlog"],
                    burst,
                    "scheduler",
                    metadata=_METADATA,
                )

            self._act(drained)
            self._burst_id = None
        elif not self._burst_alerted and depth < _DRAINED:
            self._burst_id = None

    def _chatter(self, t: float) -> None:
        service, level, stream, text = self._noise.choice(_CHATTER)
        content = text.format(n=self._noise.randrange(1, 10))
        extra: dict[str, Any] = {"container_id": f"{zlib.crc32(service.encode()):08x}"}
        if service.startswith("asr") and "asr" in self._last_corr:
            extra["correlation_id"] = self._last_corr["asr"]
        self.logs.container(t, level, service, content, stream, **extra)

    def _job_event(
        self, t: float, event_type: str, severity: str, job_id: str, data: Mapping[str, Any]
    ) -> None:
        title = {
            "job_started": f"Job {job_id} started",
            "job_finished": f"Job {job_id} succeeded",
            "job_failed": f"Job {job_id} failed",
        }[event_type]
        description = str(data.get("error") or data.get("item_id") or "")

        def record() -> None:
            self.store.event(
                t,
                "pipeline",
                event_type,
                severity,
                title,
                description,
                dict(data),
                ["job"],
                job_id,
                "pipeline",
                int(data["seconds"] * 1000) if "seconds" in data else None,
                _METADATA,
            )

        self._act(record)

    # -- discovery --------------------------------------------------------

    def _discover(self, t: float, source: Source | None = None, duplicates: bool = True) -> None:
        rng = self._rng
        src = source or rng.choices(SOURCES, weights=[s.weight for s in SOURCES])[0]
        self._seq += 1
        item_id = f"{src.name}_{self._seq:06d}"
        url = f"https://cdn.example.com/{src.name.lower()}/{self._seq}.mp3"
        if duplicates and rng.random() < _DUPLICATE_P:
            self.stats["skipped"] += 1
            self.logs.pipe(
                t,
                "SKIP",
                src.content_type,
                src.name,
                item_id,
                {
                    "reason": "duplicate",
                    "url": url,
                    "duplicate_of": f"{src.name}_{self._seq - 1:06d}",
                },
            )
            return
        corr = f"wf-{self._ids.getrandbits(48):012x}"
        title = rng.choice(_TITLES)
        if title.endswith("#"):
            title += str(self._seq)
        task_type = "download_media" if src.content_type == "video" else "fetch_feed_item"
        payload = {
            "item_id": item_id,
            "correlation_id": corr,
            "source": src.name,
            "content_type": src.content_type,
            "url": url,
            "title": title,
            "feed": src.feed,
        }
        priority = 5 if rng.random() < _URGENT_P else 0
        task_id = self.store.insert_task(
            "ingest",
            task_type,
            payload,
            t,
            priority=priority,
            max_attempts=TASK_TYPES[task_type].max_attempts,
        )
        self.stats["discovered"] += 1
        self.store.event(
            t,
            "ingest",
            "item_discovered",
            "info",
            f"Discovered {item_id}",
            f"{src.name}: {title}",
            {"item_id": item_id, "task_id": task_id, "url": url, "priority": priority},
            ["discovery", src.content_type],
            corr,
            "feed_watcher",
            metadata=_METADATA,
        )
        self.logs.pipe(
            t,
            "DISCOVER",
            src.content_type,
            src.name,
            item_id,
            {"url": url, "title": title, "correlation_id": corr, "task_id": task_id},
        )
        self.logs.app_line(
            "api",
            t,
            "INFO",
            "api",
            "POST /v1/items 201",
            {"request_id": corr, "method": "POST", "path": "/v1/items"},
            {"item_id": item_id, "task_id": task_id, "status": 201},
        )

    # -- workers: taking --------------------------------------------------

    def _take(self, w: _Worker, t: float) -> None:
        opts = self.options
        deps = _queue_deps(w.queue)
        rows = self.store.breakers([w.name, *deps])
        own = rows.get(w.name)
        trial = False
        if own is not None:
            allowed, changed = admit(own, t)
            if not allowed:
                retry = own.retry_ts()
                w.idle_until = min(retry if retry is not None else t, t + opts.scaled(_IDLE_POLL))
                return
            if changed is not None:
                self._transition(own, changed, t)
                own = changed
            trial = own.state == "half_open"
        excluded: list[str] = []
        due: dict[str, Breaker] = {}
        for dep in deps:
            row = rows.get(dep)
            if row is None or row.state == "closed":
                continue
            if dep in self._trials:
                excluded.append(dep)
            elif row.state == "open":
                allowed, changed = admit(row, t)
                if allowed and changed is not None:
                    due[dep] = changed
                else:
                    excluded.append(dep)
        conditions = [_exclusion(dep) for dep in excluded]
        found = self.store.due_tasks(w.queue, t, conditions, 1)
        if not found:
            w.idle_until = t + opts.scaled(_IDLE_POLL)
            return
        head = found[0]
        spec = _spec(head.task_type)
        guard = dependency_for(head.task_type, head.payload.get("source")) if spec else None
        guard_row = rows.get(guard) if guard else None
        dep_trial = guard is not None and (
            guard in due or (guard_row is not None and guard_row.state == "half_open")
        )
        tasks = [head]
        if spec is not None and spec.batch > 1 and not trial and not dep_trial:
            tasks += self.store.due_tasks(
                w.queue,
                t,
                [*conditions, ("id = ?", [head.id])],
                spec.batch - 1,
                task_type=head.task_type,
            )
        if guard is not None and guard in due:
            self._transition(rows[guard], due[guard], t)
        if guard is not None and dep_trial:
            self._trials.add(guard)
            w.trial_dep = guard
        self.store.claim([task.id for task in tasks], w.name, t)
        low, high = spec.duration if spec else (0.1, 0.5)
        w.held = tasks
        w.busy_until = t + opts.scaled(self._rng.uniform(low, high) * (1 + 0.1 * (len(tasks) - 1)))
        self.stats["taken"] += len(tasks)
        for task in tasks:
            p = task.payload
            corr = p.get("correlation_id")
            self.logs.pipe(
                t,
                "PROCESS",
                str(p.get("content_type", "")),
                str(p.get("source", "unknown")),
                str(p.get("item_id", "")) or None,
                {
                    "task_id": task.id,
                    "queue": w.queue,
                    "task_type": task.task_type,
                    "attempt": task.attempts + 1,
                    "worker": w.name,
                    "correlation_id": corr,
                },
            )
        first = tasks[0].payload
        message = "Task started" if len(tasks) == 1 else f"Bulk of {len(tasks)} tasks started"
        self.logs.app_line(
            "worker",
            t,
            "INFO",
            w.name,
            message,
            {"request_id": first.get("correlation_id"), "worker": w.name},
            {
                "task_id": tasks[0].id,
                "task_ids": [task.id for task in tasks],
                "item_id": first.get("item_id"),
                "queue": w.queue,
                "task_type": tasks[0].task_type,
                "attempt": tasks[0].attempts + 1,
                "trial": trial or dep_trial,
            },
        )

    # -- workers: finishing -----------------------------------------------

    def _finish(self, w: _Worker, t: float) -> None:
        held, trial_dep = w.held, w.trial_dep
        w.held, w.trial_dep = [], None
        w.idle_until = t
        if trial_dep is not None:
            self._trials.discard(trial_dep)
        for task in held:
            if not self.store.still_mine(task.id, w.name):
                self.logs.app_line(
                    "worker",
                    t,
                    "WARNING",
                    w.name,
                    f"task {task.id} changed while it was processing; result dropped",
                    {"request_id": task.payload.get("correlation_id")},
                    {"task_id": task.id},
                )
                continue
            kind, error = self._outcome(w, task)
            if kind == "ok":
                self._succeed(w, task, t)
            else:
                self._fail(w, task, t, kind, error)

    def _outcome(self, w: _Worker, task: TaskRow) -> tuple[str, str]:
        """``("ok", "")``, or a failure blamed on the ``dep`` or the worker (``fault``)."""
        rng = self._rng
        spec = _spec(task.task_type)
        p = task.payload
        item = str(p.get("item_id", task.id))
        source = p.get("source")
        fill = {
            "item_id": item,
            "url": p.get("url", "https://cdn.example.com/unknown"),
            "n": rng.randrange(1, 40),
            "slug": item.lower().replace("_", "-"),
            "host": "cdn-edge-3.example.com",
        }
        if self._sick is not None and self._sick.target == w.name:
            self._sick.failures += 1
            return "fault", _SICK_ERRORS[w.queue].format(worker=w.name)
        if spec is None:
            return "ok", ""
        if _poisoned(item, task.task_type):
            healed = task.attempts == 0 and task.last_error and rng.random() < _RETRIED_POISON_HEALS
            if not healed:
                return "fault", spec.poison.format(**fill)
        if (
            self._outage is not None
            and source == BAD_SOURCE
            and task.task_type == "fetch_feed_item"
        ):
            self._outage.failures += 1
            page = rng.randrange(1, 4)
            return "dep", f"HTTPError: 503 Service Unavailable for url: {_BAD.feed}?page={page}"
        if rng.random() < spec.fail_p:
            if rng.random() < 0.7:
                return "dep", rng.choice(spec.errors).format(**fill)
            return "fault", rng.choice(spec.faults).format(**fill)
        return "ok", ""

    def _breaker_update(
        self, names: Sequence[str | None], t: float, apply: Callable[[Breaker], Breaker]
    ) -> None:
        wanted = [n for n in names if n]
        if not wanted:
            return
        for row in self.store.breakers(wanted).values():
            changed = apply(row)
            self.store.save_breaker(changed)
            if changed.state != row.state:
                self._transition(row, changed, t, saved=True)

    def _succeed(self, w: _Worker, task: TaskRow, t: float) -> None:
        p = task.payload
        corr = p.get("correlation_id")
        item = p.get("item_id")
        spec = _spec(task.task_type)
        dep = dependency_for(task.task_type, p.get("source")) if spec else None
        self.store.complete(task.id, t)
        self.stats["completed"] += 1
        self._breaker_update([w.name, dep], t, lambda row: record_success(row, t))
        duration_ms = self._rng.randrange(40, 4000)
        self.store.event(
            t,
            w.queue,
            "task_completed",
            "info",
            f"{task.task_type} completed",
            f"task {task.id} ({item}) completed by {w.name}",
            {"task_id": task.id, "item_id": item, "attempts": task.attempts + 1},
            [w.queue, task.task_type],
            corr,
            w.name,
            duration_ms,
            _METADATA,
        )
        self.logs.app_line(
            "worker",
            t,
            "INFO",
            w.name,
            "Task completed",
            {"request_id": corr, "worker": w.name},
            {"task_id": task.id, "item_id": item, "queue": w.queue, "duration_ms": duration_ms},
        )
        if isinstance(corr, str):
            self._last_corr[w.queue] = corr
        follow = self._next_task(task)
        if follow is not None:
            queue, task_type, extra = follow
            payload = {**p, **extra, "parent_task_id": task.id}
            self.store.insert_task(
                queue,
                task_type,
                payload,
                t,
                priority=task.priority if task.priority > 0 else 0,
                max_attempts=TASK_TYPES[task_type].max_attempts,
            )
        else:
            self.stats["workflows_completed"] += 1
            self.logs.pipe(
                t,
                "COMPLETE",
                str(p.get("content_type", "")),
                str(p.get("source", "unknown")),
                str(item or "") or None,
                {
                    "task_id": task.id,
                    "queue": w.queue,
                    "duration_ms": duration_ms,
                    "correlation_id": corr,
                },
            )
        self._ai_after_success(w, task, t)

    def _next_task(self, task: TaskRow) -> tuple[str, str, dict[str, Any]] | None:
        p = task.payload
        item = p.get("item_id", task.id)
        if task.queue == "ingest":
            kind = "diarize_speakers" if self._rng.random() < 0.2 else "transcribe_audio"
            return "asr", kind, {"audio_path": f"/data/media/{item}.wav", "language": "en"}
        if task.queue == "asr":
            slug = str(item).lower().replace("_", "-")
            return "publish", "publish_summary", {"slug": slug}
        if task.task_type == "publish_summary" and self._rng.random() < 0.25:
            return "publish", "notify_webhook", {"hook": f"https://hooks.example.org/oos/{task.id}"}
        return None

    def _ai_after_success(self, w: _Worker, task: TaskRow, t: float) -> None:
        rng = self._rng
        if task.task_type not in ("transcribe_audio", "diarize_speakers", "publish_summary"):
            return
        if rng.random() >= 0.5:
            return
        p = task.payload
        details = {
            "item_id": p.get("item_id"),
            "correlation_id": p.get("correlation_id"),
            "task_id": task.id,
        }
        if w.queue == "asr":
            details["action"] = "model_selected"
            details["reason"] = rng.choice(("long audio", "multiple speakers", "low snr"))
            analysis = {
                "model": rng.choice(("whisper-large-v3", "whisper-medium")),
                "language": "en",
                "confidence": round(rng.uniform(0.6, 0.99), 3),
            }
            source = "asr_router"
        else:
            details["action"] = "summary_accepted"
            analysis = {
                "model": "gpt-4o-mini",
                "tokens": rng.randrange(200, 1200),
                "quality": round(rng.uniform(0.5, 0.98), 3),
            }
            source = "summarizer"
        self.logs.ai(t, "decision", "ai", source, details, None, analysis)

    def _fail(self, w: _Worker, task: TaskRow, t: float, kind: str, error: str) -> None:
        p = task.payload
        corr = p.get("correlation_id")
        item = p.get("item_id")
        spec = _spec(task.task_type)
        if kind == "fault":
            error = _with_traceback(error, w.queue)
            blamed = w.name
        else:
            blamed = dependency_for(task.task_type, p.get("source")) if spec else w.name
        window = self.options.scaled(BREAKER_WINDOW)
        self._breaker_update([blamed], t, lambda row: record_failure(row, t, error, window))
        first = headline(error)
        attempts = task.attempts + 1
        content_type = str(p.get("content_type", ""))
        source = str(p.get("source", "unknown"))
        item_id = str(item or "") or None
        if attempts >= task.max_attempts:
            dl_id = self.store.dead_letter(task, attempts, error, w.name, t)
            self.stats["dead_lettered"] += 1
            self.store.event(
                t,
                w.queue,
                "task_dead_lettered",
                "error",
                f"{task.task_type} dead-lettered",
                first,
                {
                    "task_id": task.id,
                    "dead_letter_id": dl_id,
                    "item_id": item,
                    "attempts": attempts,
                    "error": error,
                },
                [w.queue, task.task_type, "dead_letter"],
                corr,
                w.name,
                metadata=_METADATA,
            )
            self.logs.pipe(
                t,
                "FAIL",
                content_type,
                source,
                item_id,
                {
                    "error": first,
                    "task_id": task.id,
                    "queue": w.queue,
                    "attempts": attempts,
                    "correlation_id": corr,
                },
            )
            self.logs.ai(
                t,
                "error",
                "system",
                w.name,
                {
                    "message": f"task {task.id} dead-lettered after {attempts} attempts: {first}",
                    "item_id": item,
                    "correlation_id": corr,
                    "queue": w.queue,
                    "task_id": task.id,
                },
            )
        else:
            at = t + self.options.scaled(backoff_seconds(attempts))
            self.store.retry_later(task.id, attempts, error, at, t)
            self.stats["retries"] += 1
            self.store.event(
                t,
                w.queue,
                "task_retry_scheduled",
                "warning",
                f"{task.task_type} failed, retry {attempts}/{task.max_attempts}",
                first,
                {
                    "task_id": task.id,
                    "item_id": item,
                    "attempts": attempts,
                    "next_attempt_at": format_ts(at),
                    "error": first,
                },
                [w.queue, task.task_type],
                corr,
                w.name,
                metadata=_METADATA,
            )
            self.logs.pipe(
                t,
                "RETRY",
                content_type,
                source,
                item_id,
                {
                    "error": first,
                    "task_id": task.id,
                    "attempt": attempts,
                    "next_attempt_at": format_ts(at),
                    "correlation_id": corr,
                },
            )
        self.logs.app_line(
            "worker",
            t,
            "ERROR",
            w.name,
            f"Task failed: {first}" + (f"\n{error}" if error != first else ""),
            {"request_id": corr, "worker": w.name},
            {
                "task_id": task.id,
                "item_id": item,
                "queue": w.queue,
                "attempt": attempts,
                "blamed": blamed,
            },
        )
        self._pattern(signature(error), t, corr)

    def _pattern(self, sig: str, t: float, corr: Any) -> None:
        window = self.options.scaled(_PATTERN_WINDOW)
        seen = self._failures_by_sig.setdefault(sig, deque())
        seen.append(t)
        while seen and seen[0] < t - window:
            seen.popleft()
        if len(seen) >= _PATTERN_COUNT and t - self._pattern_at.get(sig, -1e18) >= window:
            self._pattern_at[sig] = t
            self.logs.ai(
                t,
                "pattern",
                "system",
                "error_analyzer",
                {
                    "message": f"{len(seen)} failures in {window:g}s: {sig}",
                    "signature": sig,
                    "count": len(seen),
                    "correlation_id": corr,
                },
            )

    # -- breakers ---------------------------------------------------------

    def _transition(self, old: Breaker, new: Breaker, t: float, *, saved: bool = False) -> None:
        """Save (unless done) and report a breaker's change of state everywhere it shows."""
        if not saved:
            self.store.save_breaker(new)
        name = new.name
        if new.state == "open" and old.state == "closed":
            self._episode_ids[name] = f"brk-{name}-{self._ids.getrandbits(32):08x}"
        episode = self._episode_ids.get(name) or f"brk-{name}"
        if new.state == "open":
            self.stats["breaker_opened"] += 1
            severity, event_type = "warning", "breaker_opened"
            title = f"Breaker {name} opened"
            text = (
                f"{new.consecutive_failures} consecutive failures; retry at {new.retry_at}"
                f" (last error: {new.last_error})"
            )
        elif new.state == "half_open":
            severity, event_type = "info", "breaker_half_open"
            title = f"Breaker {name} half-open"
            text = "retry window passed; letting one trial through"
        else:
            self.stats["breaker_closed"] += 1
            severity, event_type = "info", "breaker_closed"
            title = f"Breaker {name} closed"
            text = "trial succeeded; traffic resumes"
            self._episode_ids.pop(name, None)
        data = {
            "breaker": name,
            "from": old.state,
            "to": new.state,
            "consecutive_failures": new.consecutive_failures,
            "retry_at": new.retry_at,
        }
        self.store.event(
            t,
            "breakers",
            event_type,
            severity,
            title,
            text,
            data,
            ["breaker", new.state],
            episode,
            name,
            metadata=_METADATA,
        )
        self.logs.ai(
            t,
            "decision",
            "system",
            "circuit_breaker",
            {
                "action": event_type,
                "message": f"{title}: {text}",
                "correlation_id": episode,
                **data,
            },
        )
        self.logs.app_line(
            "worker",
            t,
            "WARNING" if new.state == "open" else "INFO",
            "circuit_breaker",
            f"{title}: {text}",
            {"correlation_id": episode},
            data,
        )

    # -- summary ----------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What this run wrote, for the final JSON line."""
        return {
            "ticks": self.ticks,
            "sim_start": format_ts(self.start),
            "sim_end": format_ts(self.t),
            "lines": self.logs.counts(),
            "malformed": dict(sorted(self.logs.malformed.items())),
            "rotations": self.logs.rotations(),
            "transactions": self.store.transactions,
            "busy_skips": self.busy_skips,
            "jobs": {
                "started": self.jobs.started,
                "running": self.jobs.running(),
                **self.jobs.finished,
            },
            **self.stats,
        }

    @property
    def workspace(self) -> Path:
        """The workspace being written."""
        return self.options.workspace
