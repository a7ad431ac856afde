"""Where data meets Textual: the workers that feed the console.

Four loops, each a worker of the app, none blocking the UI:

* **tail**: a thread polling :class:`~oos_tui.sources.live.LiveSources`, woken
  early by watchfiles and otherwise by a heartbeat. It posts one batch at a
  time and waits until the app has taken it, so bursts coalesce into larger
  batches instead of flooding the message queue.
* **watch**: watchfiles over the workspace; its events are only hints.
* **store**: polls the store reader; a poll re-arms only when the last one ended.
* **metrics**: a thread sampling psutil at the configured interval.

A failing source posts :class:`FeedFailed` and keeps retrying; it never takes
the app down.
"""

from __future__ import annotations

import asyncio
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
from oos_tui.pipeline import PipelineCounter, PipelineStats
from oos_tui.sources.live import LiveBatch, LiveSources

__all__ = ["EventsArrived", "FeedFailed", "Feeds", "HostSampled", "StoreUpdated"]


class StoreUpdated(Message):
    """A store poll finished; ``snapshot`` is None when nothing changed."""

    def __init__(self, snapshot: Any, store_events: tuple[Any, ...] = ()) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.store_events = store_events


class EventsArrived(Message):
    """A batch of parsed log records (and unreadable lines) from the tailers.

    ``pipeline`` carries the oos.log counters, updated in the worker thread
    so the UI thread never counts.
    """

    def __init__(self, batch: LiveBatch, pipeline: PipelineStats | None = None) -> None:
        super().__init__()
        self.batch = batch
        self.pipeline = pipeline


class HostSampled(Message):
    """One psutil sample."""

    def __init__(self, sample: Any) -> None:
        super().__init__()
        self.sample = sample


class FeedFailed(Message):
    """A source failed (``message``) or recovered (``message`` is None)."""

    def __init__(self, source: str, message: str | None) -> None:
        super().__init__()
        self.source = source
        self.message = message


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Feeds:
    """Starts and stops the feed workers of one app; posts messages to ``target``."""

    def __init__(
        self,
        target: MessagePump,
        settings: Settings,
        clock: Clock,
        *,
        sampler_factory: Callable[[], Any] | None = None,
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

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start every loop as a worker of the target (an App)."""
        run = self._target.run_worker  # type: ignore[attr-defined]
        self._async_stop = asyncio.Event()
        run(self._tail_loop, thread=True, group="feed-tail", exit_on_error=False)
        run(self._watch_loop(), group="feed-watch", exit_on_error=False)
        run(self._store_loop(), group="feed-store", exit_on_error=False)
        run(self._metrics_loop, thread=True, group="feed-metrics", exit_on_error=False)

    def stop(self) -> None:
        """Ask every loop to end (threads notice within one heartbeat)."""
        self._stop.set()
        self._wake.set()
        self._taken.set()
        if self._async_stop is not None:
            self._async_stop.set()

    def batch_taken(self) -> None:
        """The app consumed the last batch: the tail thread may post the next."""
        self._taken.set()

    def wake(self) -> None:
        """Poll the files now (a watch hint or an explicit refresh)."""
        self._wake.set()

    def _post(self, message: Message) -> None:
        if not self._stop.is_set():
            self._target.post_message(message)

    # -- loops -------------------------------------------------------------

    def _tail_loop(self) -> None:
        worker = get_current_worker()
        heartbeat = self._settings.refresh.tail_heartbeat_seconds
        live = LiveSources(self._settings)
        counter = PipelineCounter()
        failing = False
        try:
            while not worker.is_cancelled and not self._stop.is_set():
                try:
                    batch = live.poll()
                except Exception as exc:  # a failing source is shown, then retried
                    self._post(FeedFailed("logs", _one_line(exc)))
                    failing = True
                    self._wake.wait(max(heartbeat, 1.0))
                    continue
                if failing:
                    self._post(FeedFailed("logs", None))
                    failing = False
                pipeline = None
                oos = [e for e in batch.events if e.kind == "oos"]
                if oos:
                    for e in oos:
                        counter.feed(e.event_type, e.source, e.item_id, e.ts)
                    pipeline = counter.snapshot(self._clock.now())
                if batch.events or batch.errors or batch.notes:
                    # Back-pressure: one batch in flight; while the UI is busy the
                    # next poll simply returns a bigger batch.
                    self._taken.wait()
                    if self._stop.is_set():
                        break
                    self._taken.clear()
                    self._post(EventsArrived(batch, pipeline))
                if not batch.more:
                    self._wake.wait(heartbeat)
                    self._wake.clear()
        finally:
            live.close()

    async def _watch_loop(self) -> None:
        from watchfiles import awatch

        ws = self._settings.workspace
        if not ws.is_dir():
            return  # nothing to watch yet; the heartbeat still polls

        def interesting(_change: Any, path: str) -> bool:
            name = Path(path).name
            return ".log" in name or name == "manifest.json"

        try:
            async for _changes in awatch(
                ws,
                watch_filter=interesting,
                debounce=100,
                step=20,
                rust_timeout=1000,
                yield_on_timeout=False,
                stop_event=self._async_stop,
            ):
                self._wake.set()
        except Exception as exc:  # inotify limits, vanished workspace: heartbeat still works
            self._post(FeedFailed("watch", _one_line(exc) + " (polling instead)"))

    async def _store_loop(self) -> None:
        from oos_tui.store.reader import StoreReader

        interval = self._settings.refresh.store_poll_seconds
        reader = StoreReader(self._settings.store_path, clock=self._clock)
        last_rowid: int | None = None
        try:
            while self._async_stop is None or not self._async_stop.is_set():
                started = time.monotonic()
                try:
                    snapshot = await reader.poll()
                    events: tuple[Any, ...] = ()
                    if snapshot is not None and getattr(snapshot.health, "readable", False):
                        latest = snapshot.latest_event_rowid
                        if last_rowid is None:
                            last_rowid = max(0, latest - 500)  # recent history only
                        if latest > last_rowid:
                            rows, last_rowid = await reader.events_since(last_rowid)
                            events = tuple(rows)
                    self._post(StoreUpdated(snapshot, events))
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
