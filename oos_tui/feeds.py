"""Where data meets Textual: the workers that feed the console.

Four loops, each a worker of the app, none blocking the UI:

* **stream**: a thread stepping the :class:`~oos_tui.eventlog.stream.EventStream`
  (index history, then follow every log and the store's events table), woken
  early by watchfiles and otherwise by a heartbeat. It posts one update at a
  time and waits until the app has taken it, so bursts coalesce into larger
  batches instead of flooding the message queue. The pipeline counters are
  kept here too, so the UI thread never counts.
* **watch**: watchfiles over the workspace; its events are only hints.
* **store**: polls the store reader; a poll re-arms only when the last one ended.
* **metrics**: a thread sampling psutil at the configured interval.
* **jobs**: a thread scanning ``out/`` (incremental: unchanged jobs cost a stat).
* **resources**: a thread for the slower figures: the pipeline's processes,
  workspace sizes, the producer's metrics history, the backups list and the
  alert engine's file-based facts (integrity record, backup age, dead-letter
  growth, error counts per minute).

A failing source posts :class:`FeedFailed` and keeps retrying; it never takes
the app down.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from oos_tui.clock import Clock
from oos_tui.config import Settings
from oos_tui.eventlog.access import RecordReader
from oos_tui.eventlog.first import FirstStep
from oos_tui.eventlog.stream import EventStream, StreamUpdate
from oos_tui.memory import release_free_memory
from oos_tui.pipeline import HistoryCount, PipelineCounter, PipelineStats

__all__ = [
    "AlertFacts",
    "BackupsListed",
    "EventsArrived",
    "FeedFailed",
    "Feeds",
    "HostSampled",
    "JobsScanned",
    "ResourcesSampled",
    "StoreUpdated",
]


_HOT_WAIT = 0.015
"""After a step that found new lines, the next poll comes this soon (seconds)."""
_SCAN_COST_FACTOR = 200.0
"""With a watcher, the jobs rescan waits at least this many times its own duration."""
_TRIM_SECONDS = 30.0
"""Freed memory is handed back to the OS this often (and when indexing ends)."""
_FIRST_VIEW_WAIT = 3.0
"""The job scan (seconds over thousands of job logs) and the size walk wait until
the event stream's first view is drawn, so the newest events are on screen before
they take the GIL; at most this long (seconds), should the stream be stuck."""
_FIRST_PAINT_WAIT = 0.5
"""After its first view the stream waits this long at most for the app to draw it."""


class StoreUpdated(Message):
    """A store poll finished; ``snapshot`` is None when nothing changed."""

    def __init__(self, snapshot: Any) -> None:
        super().__init__()
        self.snapshot = snapshot


class EventsArrived(Message):
    """A step of the event stream: a new immutable view and what arrived live.

    ``pipeline`` carries the oos.log counters and ``pipeline_progress`` the
    history count's progress (None once done).
    """

    def __init__(
        self,
        update: StreamUpdate,
        pipeline: PipelineStats | None = None,
        pipeline_progress: float | None = None,
    ) -> None:
        super().__init__()
        self.update = update
        self.pipeline = pipeline
        self.pipeline_progress = pipeline_progress


class HostSampled(Message):
    """One psutil sample."""

    def __init__(self, sample: Any) -> None:
        super().__init__()
        self.sample = sample


class JobsScanned(Message):
    """A new scan of ``out/``."""

    def __init__(self, snapshot: Any) -> None:
        super().__init__()
        self.snapshot = snapshot


class ResourcesSampled(Message):
    """Processes, workspace sizes (with growth rates) and the producer's metrics history."""

    def __init__(
        self,
        processes: tuple[Any, ...] | None = None,
        sizes: Any = None,
        size_rates: dict[str, float | None] | None = None,
        history: Any = None,
    ) -> None:
        super().__init__()
        self.processes = processes
        self.sizes = sizes
        self.size_rates = size_rates
        self.history = history


class BackupsListed(Message):
    """The backups directory, newest first."""

    def __init__(self, backups: tuple[Any, ...]) -> None:
        super().__init__()
        self.backups = backups


class AlertFacts(Message):
    """The alert engine's inputs that need file or store I/O (read off the UI thread)."""

    def __init__(self, facts: dict[str, Any]) -> None:
        super().__init__()
        self.facts = facts


class FeedFailed(Message):
    """A source failed (``message``) or recovered (``message`` is None)."""

    def __init__(self, source: str, message: str | None) -> None:
        super().__init__()
        self.source = source
        self.message = message


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class _Tail:
    """The stream thread's state: the stream, a record reader and the pipeline counters.

    Built by the stream thread, or by the app for the :class:`FirstStep`'s view
    before that thread starts; only ever used by one thread at a time.
    """

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.reader = RecordReader(cache_size=16)
        self.counter = PipelineCounter()
        self.history: HistoryCount | None = None

    @property
    def counting(self) -> bool:
        """Whether the history count (all of ``oos.log``) is still going."""
        return self.history is not None and not self.history.finished

    def count(self, update: StreamUpdate) -> float:
        """Count the update's pipeline events and a slice of history; seconds spent."""
        if self.history is None and update.view.ready:
            self.history = HistoryCount(self.counter, list(update.view.files))
        for ev in update.events:
            if ev.kind == "oos":
                if self.history is None:
                    self.counter.feed(ev.event_type, ev.source, ev.item_id, ev.ts)
                else:
                    self.history.hold(ev.event_type, ev.source, ev.item_id, ev.ts)
        history = self.history
        if history is None or history.finished:
            return 0.0
        began = time.monotonic()
        history.step(self.reader.range_bytes)
        return time.monotonic() - began

    def arrival(self, update: StreamUpdate, now: float) -> EventsArrived:
        """The message that carries ``update`` and the counters to the app."""
        progress = self.history.progress if self.history is not None else 0.0
        return EventsArrived(update, self.counter.snapshot(now), progress)

    def close(self) -> None:
        self.stream.close()
        self.reader.close()


class Feeds:
    """Starts and stops the feed workers of one app; posts messages to ``target``."""

    def __init__(
        self,
        target: MessagePump,
        settings: Settings,
        clock: Clock,
        *,
        sampler_factory: Callable[[], Any] | None = None,
        first_step: FirstStep | None = None,
    ) -> None:
        self._target = target
        self._settings = settings
        self._clock = clock
        self._sampler_factory = sampler_factory
        self._wake = threading.Event()
        self._taken = threading.Event()
        self._taken.set()
        self._stop = threading.Event()
        self._async_stop: asyncio.Event | None = None
        self._slow = threading.Event()
        self._hints: set[str] = set()
        self._jobs_wake = threading.Event()
        self._hints_lock = threading.Lock()
        self._watching = False
        """True while the file watcher runs: then the tail polls what it names."""
        self._first_view = threading.Event()
        self._first = first_step
        self._tail: _Tail | None = None
        self._first_shown = False
        """The app composed its first screen with :meth:`first_arrival`'s view."""
        self._posted_version = -1

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start every loop as a worker of the target (an App)."""
        run = self._target.run_worker  # type: ignore[attr-defined]
        self._async_stop = asyncio.Event()
        run(self._tail_loop, thread=True, group="feed-tail", exit_on_error=False)
        run(self._watch_loop(), group="feed-watch", exit_on_error=False)
        run(self._store_loop(), group="feed-store", exit_on_error=False)
        run(self._metrics_loop, thread=True, group="feed-metrics", exit_on_error=False)
        run(self._jobs_loop, thread=True, group="feed-jobs", exit_on_error=False)
        run(self._resources_loop, thread=True, group="feed-resources", exit_on_error=False)

    def stop(self) -> None:
        """Ask every loop to end (threads notice within one heartbeat)."""
        self._stop.set()
        self._wake.set()
        self._jobs_wake.set()
        self._taken.set()
        self._slow.set()
        self._first_view.set()
        if self._async_stop is not None:
            self._async_stop.set()

    def refresh_slow(self) -> None:
        """Re-read the slow figures now (after a backup, a check, an action)."""
        self._slow.set()

    def batch_taken(self) -> None:
        """The app consumed the last update: the stream thread may post the next.

        The first view is taken once drawn: the thread waits for it before
        indexing on (see ``_FIRST_PAINT_WAIT``).
        """
        self._taken.set()

    def wake(self) -> None:
        """Poll the files now (a watch hint or an explicit refresh)."""
        self._wake.set()

    def _take_hints(self) -> frozenset[str] | None:
        """The paths the watcher saw change since the last step (None: no watcher)."""
        with self._hints_lock:
            if not self._watching:
                return None
            hints = frozenset(self._hints)
            self._hints.clear()
        return hints

    def _post(self, message: Message) -> None:
        if not self._stop.is_set():
            self._target.post_message(message)

    # -- loops -------------------------------------------------------------

    def first_arrival(self) -> EventsArrived | None:
        """The stream's first view when the CLI's :class:`FirstStep` has read it.

        Called by the app before its first screen is composed, so that screen
        is drawn with the newest events in it. The app takes the view once drawn
        (:meth:`batch_taken`), like any first view; until then the stream waits.
        None when there is no first step or it has not ended yet: the feed's
        thread then takes it (or opens the stream itself) and posts it.
        """
        if self._first is None or self._tail is not None:
            return None
        taken = self._first.take(wait=0)
        if taken is None:
            return None
        stream, update = taken
        self._tail = tail = _Tail(stream)
        tail.count(update)
        self._posted_version = update.view.version
        self._taken.clear()
        self._first_shown = True
        return tail.arrival(update, self._clock.now())

    def _tail_loop(self) -> None:
        worker = get_current_worker()
        heartbeat = self._settings.refresh.tail_heartbeat_seconds
        tail = self._tail
        update: StreamUpdate | None = None
        if tail is None:
            taken = self._first.take() if self._first is not None else None
            stream, update = taken if taken is not None else (EventStream(self._settings), None)
            self._tail = tail = _Tail(stream)
        elif self._first_shown:
            # The app composed its first screen with the first view: let it draw
            # that before indexing on (as after a first view posted below).
            self._taken.wait(_FIRST_PAINT_WAIT)
            self._first_view.set()
        failing = False
        was_busy = True
        trimmed = time.monotonic()
        try:
            while not worker.is_cancelled and not self._stop.is_set():
                try:
                    if update is None:
                        update = tail.stream.step(hints=self._take_hints())
                    counted = tail.count(update)
                except Exception as exc:  # a failing source is shown, then retried
                    update = None
                    self._post(FeedFailed("logs", _one_line(exc)))
                    self._first_view.set()
                    failing = True
                    self._wake.wait(max(heartbeat, 1.0))
                    continue
                if failing:
                    self._post(FeedFailed("logs", None))
                    failing = False
                busy = update.more or tail.counting
                changed = update.events or update.errors or update.notes or busy
                if changed or update.view.version != self._posted_version:
                    # Back-pressure: one update in flight; while the UI is busy the
                    # next step simply carries more.
                    self._taken.wait()
                    if self._stop.is_set():
                        break
                    self._taken.clear()
                    self._posted_version = update.view.version
                    self._post(tail.arrival(update, self._clock.now()))
                    if not self._first_view.is_set():
                        # The app takes the first view once it is drawn: until then
                        # indexing, the job scan and the size walk leave the GIL to
                        # the screen (bounded, should the app be slow to start).
                        self._taken.wait(_FIRST_PAINT_WAIT)
                        self._first_view.set()
                found = bool(update.events or update.errors)
                update = None
                now = time.monotonic()
                if (was_busy and not busy) or now - trimmed >= _TRIM_SECONDS:
                    # Indexing, history counting and searches free large arrays:
                    # hand the pages back rather than keep the peak resident.
                    release_free_memory()
                    trimmed = now
                was_busy = busy
                if busy:
                    # Let the UI thread take the GIL between steps. Counting the
                    # history is pure Python for seconds: it gets at most half
                    # of the GIL, so the screen keeps up with a followed file.
                    time.sleep(max(0.001, counted))
                else:
                    # A file being written is read again at once, not at the next
                    # heartbeat or watcher batch: that is the follow latency.
                    self._wake.wait(_HOT_WAIT if found else heartbeat)
                    self._wake.clear()
        finally:
            tail.close()

    async def _watch_loop(self) -> None:
        from watchfiles import awatch

        ws = self._settings.workspace
        if not ws.is_dir():
            return  # nothing to watch yet; the heartbeat still polls

        def interesting(_change: Any, path: str) -> bool:
            name = Path(path).name
            return ".log" in name or name == "manifest.json"

        with self._hints_lock:
            self._watching = True
        out_dir = os.path.realpath(self._settings.out_dir) + os.sep
        try:
            async for changes in awatch(
                ws,
                watch_filter=interesting,
                debounce=50,
                # The watcher's thread wakes every step to look for a stop: 50
                # ms, not 20, halves what an idle console spends on it; a file
                # being written is polled every 15 ms by the stream anyway.
                step=50,
                rust_timeout=1000,
                yield_on_timeout=False,
                stop_event=self._async_stop,
            ):
                paths = {os.path.realpath(path) for _change, path in changes}
                with self._hints_lock:
                    self._hints.update(paths)
                self._wake.set()
                if any(p.startswith(out_dir) for p in paths):
                    self._jobs_wake.set()
        except Exception as exc:  # inotify limits, vanished workspace: heartbeat still works
            self._post(FeedFailed("watch", _one_line(exc) + " (polling instead)"))
        finally:
            with self._hints_lock:
                self._watching = False  # every live file is polled at each heartbeat again

    async def _store_loop(self) -> None:
        from oos_tui.store.reader import StoreReader

        interval = self._settings.refresh.store_poll_seconds
        reader = StoreReader(self._settings.store_path, clock=self._clock)
        try:
            while self._async_stop is None or not self._async_stop.is_set():
                started = time.monotonic()
                try:
                    self._post(StoreUpdated(await reader.poll()))
                except Exception as exc:
                    self._post(FeedFailed("store", _one_line(exc)))
                elapsed = time.monotonic() - started
                await asyncio.sleep(max(0.05, interval - elapsed))
        finally:
            await reader.close()

    def _metrics_loop(self) -> None:
        worker = get_current_worker()
        interval = self._settings.refresh.metrics_seconds
        if self._sampler_factory is not None:
            sampler = self._sampler_factory()
        else:
            from oos_tui.sources.system import SystemSampler

            sampler = SystemSampler(self._settings.workspace, clock=self._clock)
        while not worker.is_cancelled and not self._stop.is_set():
            try:
                self._post(HostSampled(sampler.sample()))
            except Exception as exc:
                self._post(FeedFailed("metrics", _one_line(exc)))
            self._stop.wait(interval)

    def _jobs_loop(self) -> None:
        from oos_tui.sources.jobs import JobScanner

        worker = get_current_worker()
        scanner = JobScanner(self._settings, clock=self._clock)
        interval = self._settings.refresh.jobs_scan_seconds
        last: Any = None
        self._first_view.wait(_FIRST_VIEW_WAIT)
        while not worker.is_cancelled and not self._stop.is_set():
            started = time.monotonic()
            try:
                snap = scanner.scan()
                if last is None or snap.jobs != last.jobs or snap.errors != last.errors:
                    self._post(JobsScanned(snap))
                    last = snap
            except Exception as exc:
                self._post(FeedFailed("jobs", _one_line(exc)))
            # Hundreds of job directories make a scan costly: while the watcher
            # runs (it wakes this loop on any change under out/), the periodic
            # rescan waits long enough to cost at most ~0.5 % of a core (at 50
            # times its cost it was 1.2 % of the 2 % an idle console may use).
            wait = interval
            if self._watching:
                wait = max(interval, _SCAN_COST_FACTOR * (time.monotonic() - started))
            self._jobs_wake.wait(wait)
            self._jobs_wake.clear()

    def _resources_loop(self) -> None:
        from oos_tui.alerts import backup_facts, count_dead_letters_since
        from oos_tui.integrity import last_integrity
        from oos_tui.sources.metrics_history import read_metrics_history
        from oos_tui.sources.processes import ProcessScanner
        from oos_tui.sources.recent import recent_error_counts
        from oos_tui.sources.sizes import SizeTracker, measure_sizes

        worker = get_current_worker()
        settings = self._settings
        scanner = ProcessScanner(settings.processes.patterns)
        tracker = SizeTracker()
        proc_every = settings.refresh.process_scan_seconds
        last_slow = -1e18
        self._first_view.wait(_FIRST_VIEW_WAIT)
        while not worker.is_cancelled and not self._stop.is_set():
            now = self._clock.now()
            try:
                procs = scanner.scan()
                message = ResourcesSampled(processes=procs)
                forced = self._slow.is_set()
                self._slow.clear()
                if forced or time.monotonic() - last_slow >= 30.0:
                    last_slow = time.monotonic()
                    sizes = measure_sizes(settings, now)
                    tracker.add(sizes)
                    message.sizes, message.size_rates = sizes, tracker.rates()
                    message.history = read_metrics_history(settings.ai_events_log, now)
                    self._post(BackupsListed(self._backups()))
                    window = settings.alerts.dead_letter_window_minutes * 60.0
                    self._post(
                        AlertFacts(
                            {
                                "integrity": last_integrity(settings),
                                "backups": backup_facts(settings),
                                "dead_letters_in_window": count_dead_letters_since(
                                    settings.store_path, now - window
                                ),
                                "error_counts": recent_error_counts(settings, now),
                            }
                        )
                    )
                self._post(message)
                self._post(FeedFailed("resources", None))
            except Exception as exc:
                self._post(FeedFailed("resources", _one_line(exc)))
            self._slow.wait(proc_every)

    def _backups(self) -> tuple[Any, ...]:
        from oos_tui.actions.backup import list_backups

        return tuple(list_backups(self._settings))
