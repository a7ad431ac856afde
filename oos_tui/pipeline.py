"""Pipeline figures from ``oos.log``: items by lifecycle state, throughput, success rates.

Fed one processing event at a time (from the tailer or a history scan), it
keeps memory bounded: finished items are counters, only unfinished and failed
items are remembered (by the hash of their id), and each map is capped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["HistoryCount", "PipelineCounter", "PipelineStats", "SourceRate"]

_DISCOVERED, _PROCESSING, _FAILED = 1, 2, 3
_UNKNOWN = -1
_NEXT_STATE: dict[str, int | None] = {
    "DISCOVER": _DISCOVERED,
    "PROCESS": _PROCESSING,
    "RETRY": _PROCESSING,
    "COMPLETE": None,  # finished items are only counted
    "FAIL": _FAILED,
}
"""An item's state after each processing event type (other types leave it alone)."""
_NEXT_STATE_BYTES = {k.encode(): v for k, v in _NEXT_STATE.items()}
_MAX_TRACKED = 200_000
_WINDOW_MINUTES = 60


@dataclass(frozen=True, slots=True)
class SourceRate:
    """Completions and failures of one source."""

    source: str
    completed: int
    failed: int

    @property
    def success_rate(self) -> float | None:
        """Completed over finished, or None before anything finished."""
        total = self.completed + self.failed
        return self.completed / total if total else None


@dataclass(frozen=True, slots=True)
class PipelineStats:
    """An immutable view of the counters at one moment."""

    discovered: int
    processing: int
    completed: int
    failed: int
    retries: int
    events: int
    completed_per_minute: tuple[int, ...]  # the last 60 minutes, oldest first
    until: float  # the end of the last minute bucket (epoch seconds)
    by_source: tuple[SourceRate, ...]

    @property
    def completed_last_hour(self) -> int:
        """Completions in the throughput window."""
        return sum(self.completed_per_minute)


class PipelineCounter:
    """Counts item lifecycles (DISCOVER → PROCESS → COMPLETE | FAIL) joined by item id."""

    def __init__(self, max_tracked: int = _MAX_TRACKED) -> None:
        # Keyed by the item id's hash, not the id: a 2,000,000-line history
        # leaves ~100,000 unfinished items, whose ids and OrderedDict nodes
        # cost ~23 MB; int keys in a plain dict cost ~9 MB. Two ids sharing a
        # 64-bit hash (about 1 in 10^9 at the cap) would share a state.
        self._state: dict[int, int] = {}
        self._max = max_tracked
        self._counts = {_DISCOVERED: 0, _PROCESSING: 0, _FAILED: 0}
        self._completed = 0
        self._retries = 0
        self._events = 0
        self._per_minute: dict[int, int] = {}
        self._sources: dict[str, list[int]] = {}

    def _set(self, item: str, new: int | None) -> None:
        # Inlined in feed_lines (two million calls when a history is counted).
        key = hash(item)
        old = self._state.pop(key, None)
        if old is not None:
            self._counts[old] -= 1
        if new is not None:
            self._state[key] = new  # re-inserted: the dict's order is last-touched order
            self._counts[new] += 1
            if len(self._state) > self._max:
                self._forget_oldest()

    def _forget_oldest(self) -> None:
        """Drop the least recently touched tenth at once.

        A dict cannot drop its first entry cheaply again and again (each
        lookup of the first live entry walks over the ones deleted before
        it), so the oldest are dropped in a batch and the dict rebuilt.
        """
        drop = max(1, self._max // 10)
        items = iter(self._state.items())
        for _ in range(drop):
            _, state = next(items)
            self._counts[state] -= 1
        self._state = dict(items)

    def feed(self, event_type: str, source: str, item_id: str | None, ts: float) -> None:
        """Account for one processing event."""
        self._events += 1
        item = item_id or ""
        new = _NEXT_STATE.get(event_type, _UNKNOWN)
        if new is _UNKNOWN:
            return
        if event_type == "RETRY":
            self._retries += 1
        if item:
            self._set(item, new)
        if event_type == "COMPLETE":
            self._complete(source, ts)
        elif event_type == "FAIL":
            self._fail(source)

    def _complete(self, source: str, ts: float) -> None:
        self._completed += 1
        minute = int(ts // 60)
        self._per_minute[minute] = self._per_minute.get(minute, 0) + 1
        self._sources.setdefault(source, [0, 0])[0] += 1

    def _fail(self, source: str) -> None:
        self._sources.setdefault(source, [0, 0])[1] += 1

    def feed_lines(self, lines: list[bytes], stamps: list[float]) -> None:
        """Account for raw ``oos.log`` lines (a history), as :meth:`feed` would one by one.

        Counting the history of a 2,000,000-line file shares the GIL with the
        screen for seconds, so the per-line work is inlined here: split on the
        first five ``|`` only (the JSON is never read) and decode only what is
        kept. A line without six fields is not a processing event.
        """
        state, counts, cap = self._state, self._counts, self._max
        nxt = _NEXT_STATE_BYTES
        events = retries = 0
        for raw, ts in zip(lines, stamps, strict=False):
            parts = raw.split(b"|", 5)
            if len(parts) != 6:
                continue
            events += 1
            kind = parts[1]
            new = nxt.get(kind, _UNKNOWN)
            if new is _UNKNOWN:
                continue
            if kind == b"RETRY":
                retries += 1
            item = parts[4]
            if item:
                key = hash(item.decode("utf-8", "replace"))
                old = state.pop(key, None)
                if old is not None:
                    counts[old] -= 1
                if new is not None:
                    state[key] = new
                    counts[new] += 1
                    if len(state) > cap:
                        self._forget_oldest()
                        state = self._state
            if kind == b"COMPLETE":
                self._complete(parts[3].decode("utf-8", "replace"), ts)
            elif kind == b"FAIL":
                self._fail(parts[3].decode("utf-8", "replace"))
        self._events += events
        self._retries += retries

    def snapshot(self, now: float) -> PipelineStats:
        """Freeze the counters; throughput is the 60 minutes up to ``now``."""
        last = int(now // 60)
        first = last - _WINDOW_MINUTES + 1
        for minute in [m for m in self._per_minute if m < first]:
            del self._per_minute[minute]
        per_minute = tuple(self._per_minute.get(m, 0) for m in range(first, last + 1))
        sources = tuple(
            SourceRate(name, done, failed) for name, (done, failed) in sorted(self._sources.items())
        )
        return PipelineStats(
            discovered=self._counts[_DISCOVERED],
            processing=self._counts[_PROCESSING],
            completed=self._completed,
            failed=self._counts[_FAILED],
            retries=self._retries,
            events=self._events,
            completed_per_minute=per_minute,
            until=(last + 1) * 60.0,
            by_source=sources,
        )


class HistoryCount:
    """Counts the lifecycles already in ``oos.log`` (and its rotations), in bounded steps.

    Live events that arrive meanwhile are held back and applied after the
    history, so an item's DISCOVER from the past is never counted after its
    COMPLETE from now.
    """

    def __init__(self, counter: PipelineCounter, files: list[object]) -> None:
        self._counter = counter
        self._files = [f for f in files if getattr(f, "format", "") == "pipe"]
        self._file = 0
        self._record = 0
        self._held: list[tuple[str, str, str | None, float]] = []
        self.total = sum(f.count for f in self._files)  # type: ignore[attr-defined]
        self.done = 0

    @property
    def finished(self) -> bool:
        """True once every historical record has been counted."""
        return self._file >= len(self._files)

    @property
    def progress(self) -> float | None:
        """Share counted so far, None when finished."""
        if self.finished:
            return None
        return self.done / self.total if self.total else 0.0

    def hold(self, event_type: str, source: str, item_id: str | None, ts: float) -> None:
        """A live event: counted now if history is done, else after it."""
        if self.finished:
            self._counter.feed(event_type, source, item_id, ts)
        else:
            self._held.append((event_type, source, item_id, ts))

    def step(self, read: Callable[[object, int, int], bytes | None], budget: int = 10_000) -> None:
        """Count up to ``budget`` more records; ``read(file, start, stop)`` returns raw bytes."""
        while budget > 0 and not self.finished:
            f = self._files[self._file]
            count = f.count  # type: ignore[attr-defined]
            stop = min(count, self._record + budget)
            if stop > self._record:
                data = read(f, self._record, stop)
                ts = f.ts.slice(self._record, stop).tolist()  # type: ignore[attr-defined]
                lines = data.split(b"\n") if data else []
                self._counter.feed_lines(lines[: stop - self._record], ts)
                budget -= stop - self._record
                self.done += stop - self._record
                self._record = stop
            if self._record >= count:
                self._file += 1
                self._record = 0
        if self.finished and self._held:
            held, self._held = self._held, []
            for item in held:
                self._counter.feed(*item)
