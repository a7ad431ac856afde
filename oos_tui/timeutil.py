"""Fast, forgiving ISO-8601 parsing for log timestamps.

Log readers parse a timestamp per line, millions of times. The C
``datetime.fromisoformat`` reads the common shapes (``T`` or space, ``Z`` or
an offset, ``.`` or ``,`` fractions) in about 300 ns; what it rejects
(``+0200`` offsets, odd fractions) goes through a forgiving slow path that
caches the epoch of each minute prefix. Timestamps without a zone are UTC
(CONTRACT §2).
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

__all__ = ["format_duration", "parse_ts"]

_MINUTES: dict[str, float] = {}
_MINUTES_MAX = 200_000


def _minute_base(key: str) -> float | None:
    # key is "YYYY-MM-DDTHH:MM" (or with a space); validate strictly, since
    # int() would accept signs and spaces.
    if not (
        key[0:4].isdigit()
        and key[4] == "-"
        and key[5:7].isdigit()
        and key[7] == "-"
        and key[8:10].isdigit()
        and key[10] in "T t"
        and key[11:13].isdigit()
        and key[13] == ":"
        and key[14:16].isdigit()
    ):
        return None
    try:
        year, month, day = int(key[0:4]), int(key[5:7]), int(key[8:10])
        hour, minute = int(key[11:13]), int(key[14:16])
        datetime(year, month, day, hour, minute)  # range validation
    except ValueError:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0)))


def _slow(text: str) -> float | None:
    try:
        dt = datetime.fromisoformat(text.strip().replace(",", "."))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_fromisoformat = datetime.fromisoformat


def parse_ts(text: str) -> float | None:
    """Return UTC epoch seconds for an ISO-8601 timestamp, or None if it is not one."""
    try:
        dt = _fromisoformat(text)
    except (ValueError, TypeError):
        return _forgiving(text) if text.isascii() else None
    if dt.tzinfo is None:
        return (dt - _EPOCH_NAIVE).total_seconds()
    return (dt - _EPOCH_UTC).total_seconds()


def _forgiving(text: str) -> float | None:
    if len(text) < 16:
        return _slow(text) if len(text) >= 10 else None
    key = text[:16]
    base = _MINUTES.get(key)
    if base is None:
        base = _minute_base(key)
        if base is None:
            return _slow(text)
        if len(_MINUTES) >= _MINUTES_MAX:
            _MINUTES.clear()
        _MINUTES[key] = base
    rest = text[16:]
    if not rest:
        return base
    if rest[0] != ":":
        return _slow(text)
    offset = 0.0
    last = rest[-1]
    if last == "Z" or last == "z":
        sec = rest[1:-1]
    elif len(rest) >= 7 and rest[-6] in "+-" and rest[-3] == ":":
        hh, mm = rest[-5:-3], rest[-2:]
        if not (hh.isdigit() and mm.isdigit()):
            return None
        offset = (int(hh) * 3600 + int(mm) * 60) * (1 if rest[-6] == "+" else -1)
        sec = rest[1:-6]
    elif len(rest) >= 6 and rest[-5] in "+-" and rest[-4:].isdigit():
        hh, mm = rest[-4:-2], rest[-2:]
        offset = (int(hh) * 3600 + int(mm) * 60) * (1 if rest[-5] == "+" else -1)
        sec = rest[1:-5]
    else:
        sec = rest[1:]
    n = len(sec)
    if n < 2 or not sec[:2].isdigit():
        return None
    if n == 2:
        seconds = float(sec)
    elif (sec[2] == "." or sec[2] == ",") and n > 3 and sec[3:].isdigit():
        seconds = float(sec[:2] + "." + sec[3:])
    else:
        return None
    if seconds >= 61:
        return None
    return base + seconds - offset


def format_duration(seconds: float | None) -> str:
    """Compact human duration: ``45s``, ``12m05s``, ``3h07m``, ``2d04h``."""
    if seconds is None:
        return "-"
    neg = seconds < 0
    s = int(abs(seconds))
    if s < 60:
        out = f"{s}s"
    elif s < 3600:
        out = f"{s // 60}m{s % 60:02d}s"
    elif s < 86400:
        out = f"{s // 3600}h{s % 3600 // 60:02d}m"
    else:
        out = f"{s // 86400}d{s % 86400 // 3600:02d}h"
    return "-" + out if neg else out
