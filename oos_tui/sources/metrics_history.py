"""The producer's own host samples (``system_metrics`` in ``ai_events.log``) as a time series.

An operator who opens the console after an incident sees what the host did
before: the producer records ``system_metrics`` (``cpu_percent``,
``memory_percent``, sometimes more) with its events, and this module reads
them back from ``ai_events.log`` and its rotations, backwards from the end,
bounded by age and by count, so it is cheap however long the log. Lines
that cannot be read are skipped and counted; a stretch with no samples
(more than ``gap_factor`` times the usual interval) is marked so the UI
draws a break instead of a straight line across it.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from oos_tui.formats.ai import AI
from oos_tui.formats.base import loads_replaced, text_ts
from oos_tui.models import Event
from oos_tui.sources.discovery import rotations
from oos_tui.sources.recent import BackwardReader

__all__ = [
    "MetricSample",
    "ProducerHistory",
    "numeric_metrics",
    "read_metrics_history",
    "sample_from_event",
]

MAX_HOURS = 24.0
MAX_SAMPLES = 20_000
GAP_FACTOR = 5.0
_KEY = b'"system_metrics"'
_FIRST_KEYS = ("cpu_percent", "memory_percent")
_FUTURE_SLACK = 120.0
_MTIME_SLACK = 600.0


@dataclass(frozen=True, slots=True)
class MetricSample:
    """One ``system_metrics`` object: its time and every numeric figure in it."""

    ts: float
    values: Mapping[str, float]
    gap_before: bool = False
    """True when the previous sample is more than ``gap_factor`` median intervals earlier."""

    @property
    def cpu_percent(self) -> float | None:
        """The producer host's CPU %, when recorded."""
        return self.values.get("cpu_percent")

    @property
    def memory_percent(self) -> float | None:
        """The producer host's memory use %, when recorded."""
        return self.values.get("memory_percent")


@dataclass(frozen=True, slots=True)
class ProducerHistory:
    """The producer's samples, oldest first, and what reading them found."""

    samples: tuple[MetricSample, ...] = ()
    keys: tuple[str, ...] = ()
    """Every figure seen, ``cpu_percent`` and ``memory_percent`` first."""
    median_interval: float | None = None
    malformed: int = 0
    """Lines skipped because they could not be read (bad JSON, no timestamp, bad metrics)."""
    files: tuple[str, ...] = ()
    bytes_read: int = 0
    truncated: bool = False
    """True when the count bound, not the age bound, ended the reading."""
    max_samples: int = MAX_SAMPLES
    gap_factor: float = GAP_FACTOR
    notes: tuple[str, ...] = ()

    @property
    def gaps(self) -> int:
        """How many breaks the series has."""
        return sum(1 for s in self.samples if s.gap_before)

    def series(self, key: str) -> tuple[tuple[float, float | None], ...]:
        """``(ts, value)`` points of one figure, with a ``None`` point inside each gap.

        A plot that skips None values draws a break there; samples without
        the figure give None too.
        """
        out: list[tuple[float, float | None]] = []
        prev: float | None = None
        for s in self.samples:
            if s.gap_before and prev is not None:
                out.append(((prev + s.ts) / 2.0, None))
            out.append((s.ts, s.values.get(key)))
            prev = s.ts
        return tuple(out)

    def extended(self, new: Iterable[MetricSample], now: float) -> ProducerHistory:
        """The history with newer live samples appended, still bounded by count and age."""
        fresh = sorted(new, key=lambda s: s.ts)
        last = self.samples[-1].ts if self.samples else None
        fresh = [s for s in fresh if last is None or s.ts > last]
        if not fresh:
            return self
        combined = [*self.samples, *fresh]
        median = self.median_interval or _median_interval(combined)
        flagged = list(self.samples)
        prev = last
        for s in fresh:
            gap = prev is not None and median is not None and s.ts - prev > self.gap_factor * median
            flagged.append(replace(s, gap_before=gap))
            prev = s.ts
        cutoff = now - MAX_HOURS * 3600.0
        kept = [s for s in flagged[-self.max_samples :] if s.ts >= cutoff]
        if kept and kept[0].gap_before:
            kept[0] = replace(kept[0], gap_before=False)
        return replace(
            self,
            samples=tuple(kept),
            keys=_ordered_keys(kept),
            median_interval=median,
        )


def numeric_metrics(obj: Any) -> dict[str, float] | None:
    """The numeric figures of a ``system_metrics`` value; None when it is not an object.

    Nested objects are flattened one level with a dot (``disk.percent``);
    booleans, strings, NaN and infinities are not figures and are left out.
    """
    if obj.__class__ is not dict:
        return None
    out: dict[str, float] = {}
    for key, value in obj.items():
        if value.__class__ is dict:
            for sub, inner in value.items():
                number = _number(inner)
                if number is not None:
                    out[f"{key}.{sub}"] = number
            continue
        number = _number(value)
        if number is not None:
            out[str(key)] = number
    return out


def _number(value: Any) -> float | None:
    if value.__class__ is int or value.__class__ is float:
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def sample_from_event(event: Event) -> MetricSample | None:
    """The sample carried by a parsed ``ai_events.log`` event, if any (for the live feed)."""
    data = event.data
    if data.__class__ is not dict:
        return None
    values = numeric_metrics(data.get("system_metrics"))
    if not values:
        return None
    return MetricSample(event.ts, MappingProxyType(values))


def _median_interval(samples: list[MetricSample]) -> float | None:
    steps = [b.ts - a.ts for a, b in itertools.pairwise(samples) if b.ts > a.ts]
    return statistics.median(steps) if steps else None


def _ordered_keys(samples: Iterable[MetricSample]) -> tuple[str, ...]:
    seen: set[str] = set()
    for s in samples:
        seen.update(s.values)
    first = [k for k in _FIRST_KEYS if k in seen]
    return (*first, *sorted(seen.difference(_FIRST_KEYS)))


class _Scan:
    def __init__(self, cutoff: float, horizon: float) -> None:
        self.cutoff = cutoff
        self.horizon = horizon
        self.samples: list[MetricSample] = []
        self.malformed = 0

    def region(self, region: bytes) -> float | None:
        """Collect the samples of one region; return its oldest timestamp."""
        oldest: float | None = None
        for raw in region.split(b"\n"):
            if not raw or raw.isspace():
                continue
            if _KEY not in raw:
                ts = AI.timestamp(raw)
                if ts is None:
                    self.malformed += 1
                elif oldest is None or ts < oldest:
                    oldest = ts
                continue
            try:
                obj = orjson.loads(raw)
            except ValueError as exc:
                try:
                    obj = loads_replaced(raw, exc)
                except ValueError:
                    self.malformed += 1
                    continue
            stamp = obj.get("timestamp") if obj.__class__ is dict else None
            ts = text_ts(stamp) if stamp.__class__ is str else None
            if ts is None:
                self.malformed += 1
                continue
            if oldest is None or ts < oldest:
                oldest = ts
            metrics = obj.get("system_metrics")
            if metrics is None:
                continue
            values = numeric_metrics(metrics)
            if values is None:
                self.malformed += 1
                continue
            if values and self.cutoff <= ts <= self.horizon:
                self.samples.append(MetricSample(ts, MappingProxyType(values)))
        return oldest


def read_metrics_history(
    path: str | Path,
    now: float,
    *,
    hours: float = MAX_HOURS,
    max_samples: int = MAX_SAMPLES,
    gap_factor: float = GAP_FACTOR,
    max_line_bytes: int = 16 * 1024 * 1024,
) -> ProducerHistory:
    """Read the last ``hours`` of samples from ``ai_events.log`` (``path``) and its rotations.

    The live file is read backwards from its end, then each rotation newest
    first, until a block begins before the window or ``max_samples`` are
    found. Blocking: run it in a thread worker.
    """
    live = Path(path)
    cutoff = now - hours * 3600.0
    scan = _Scan(cutoff, now + _FUTURE_SLACK)
    files: list[str] = []
    notes: list[str] = []
    bytes_read = 0
    truncated = False
    done = False
    for file in (live, *rotations(live)):
        try:
            if file.stat().st_mtime < cutoff - _MTIME_SLACK:
                break
        except OSError:
            continue
        reader = BackwardReader(file, max_line_bytes=max_line_bytes)
        files.append(str(file))
        try:
            for region in reader.regions():
                oldest = scan.region(region)
                if len(scan.samples) >= max_samples:
                    truncated = done = True
                    break
                # In time order: a region that starts before the window ends the reading.
                if oldest is not None and oldest < cutoff:
                    done = True
                    break
        except OSError as exc:
            notes.append(f"{file}: {exc.strerror or exc}")
        finally:
            bytes_read += reader.bytes_read
        if reader.truncated:
            truncated = done = True
        if done:
            break
    samples = sorted(scan.samples, key=lambda s: s.ts)[-max_samples:]
    median = _median_interval(samples)
    flagged: list[MetricSample] = []
    for i, s in enumerate(samples):
        gap = i > 0 and median is not None and s.ts - samples[i - 1].ts > gap_factor * median
        flagged.append(replace(s, gap_before=gap) if gap else s)
    return ProducerHistory(
        samples=tuple(flagged),
        keys=_ordered_keys(flagged),
        median_interval=median,
        malformed=scan.malformed,
        files=tuple(files),
        bytes_read=bytes_read,
        truncated=truncated,
        max_samples=max_samples,
        gap_factor=gap_factor,
        notes=tuple(notes),
    )
