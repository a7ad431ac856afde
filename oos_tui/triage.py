"""Dead-letter triage without the store: error signatures, groups, worker advice.

Nothing here opens the store: the functions take rows the reader already
returned, so the CLI and the TUI group and advise the same way, and tests
need no database.

Error signatures
----------------
:func:`error_signature` reduces an error to the line that names the problem
and masks what changes from one occurrence to the next, so a thousand
timeouts of a thousand different items read as one group:

1. **The meaningful line.** Normally the first non-blank line. When the
   text *starts* with a Python traceback (``Traceback (most recent call
   last):``) the exception is at the bottom, so it is the last non-blank
   line that is not indented (frames and source lines are) and is not one
   of the traceback's own headers (``Traceback …``, ``During handling of
   the above exception…``, ``The above exception was the direct cause…``).
   An error whose first line is a message followed by a traceback keeps the
   message. A leading log prefix (``2025-01-01 12:00:00,123 - ERROR -``) is
   dropped.
2. **Masks**, applied left to right in one pass, the first that matches at a
   position winning:

   ========================  ==================================  ==========
   what                      example                             becomes
   ========================  ==================================  ==========
   timestamps, dates, times  ``2025-09-29T02:00:19.480Z``        ``<ts>``
   UUIDs                     ``3f2b…-…``                         ``<uuid>``
   URLs                      ``https://u:p@h:8080/items/12?a=1`` ``https://h:8080/items/<n>?a=<v>``
   quoted values             ``'item_42'``, ``"abc"``            ``'<v>'``, ``"<v>"``
   IPv4 addresses            ``10.0.0.5``                        ``<ip>``
   paths                     ``/data/in/x.wav``, ``C:\\tmp\\x``  ``<path>``
   hex ids and addresses     ``0x7f3a2c``, ``5f2b9c1de4a0``      ``<hex>``
   numbers                   ``503``, ``12.5``, ``item_42``      ``<n>``, ``item_<n>``
   ========================  ==================================  ==========

   In a URL the scheme, host and port stay (they name the service) and the
   user part is dropped; each path segment is masked with the rules for
   UUIDs, hex ids and numbers, and every query value becomes ``<v>``. A
   quoted string directly followed by ``:`` is a key (``{"code": 429}``)
   and stays. A number glued to letters before it (``utf8``, ``HTTP2``,
   ``mp3``) is part of a word and stays; after ``_`` or ``-`` it is masked.
   A bare hex run counts as an id only from 8 characters with at least one
   digit and one letter, so ordinary words (``decade``, ``facade``) survive.
3. Runs of whitespace become one space; the result is cut to
   :data:`SIGNATURE_MAX` characters.

Worker recommendation
---------------------
:func:`recommend_workers` is the OOS resource manager's rule as this console
states it: see its docstring and the README.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from oos_tui.models import Breaker, DeadLetter

__all__ = [
    "MAX_WORKERS",
    "SIGNATURE_MAX",
    "WORKER_STEPS",
    "Group",
    "breaker_for_worker",
    "error_signature",
    "group_by_signature",
    "meaningful_line",
    "open_breaker_warning",
    "open_breakers",
    "recommend_workers",
]

SIGNATURE_MAX = 200
"""Signatures are cut to this many characters."""

WORKER_STEPS: tuple[tuple[int, int], ...] = ((50, 1), (200, 2), (500, 3), (1000, 4))
"""``(depth below, workers)`` steps of :func:`recommend_workers`; 5 from 1000 up."""

MAX_WORKERS = 5
"""The most workers :func:`recommend_workers` ever advises."""

_TRACEBACK_HEAD = "Traceback (most recent call last)"
_TRACEBACK_NOISE = (
    _TRACEBACK_HEAD,
    "During handling of the above exception",
    "The above exception was the direct cause",
)
_LOG_PREFIX = re.compile(
    r"^\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?"
    r"(?:\s*[-|:]\s*(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b)?\s*[-|:]?\s*"
)

_TS = (
    r"(?<!\d)\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|(?<![\d:])\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\d:])"
)
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_URL = r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()\[\]{}]+"
_QUOTED = r"(?<![\w'\"])(?:'[^'\n]*'|\"[^\"\n]*\")(?![\w'\"])"
_IP = r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"
_PATH = (
    r"(?<![\w/.:\\-])(?:~|\.{1,2})?(?:/[\w.@+-]+){2,}/?(?:\?[^\s'\"]*)?"
    r"|(?<![\w/.:\\-])/[\w@+-]+\.[\w.@+-]+(?:\?[^\s'\"]*)?"
    r"|(?<!\w)[A-Za-z]:\\[^\s'\"]+"
)
_HEX = (
    r"(?<!\w)0[xX][0-9a-fA-F]+(?!\w)"
    r"|(?<![\w-])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}(?![\w-])"
)
_NUMBER = r"(?<![A-Za-z\d.])\d+(?:[.,]\d+)*"

_TOKENS = re.compile(
    rf"(?P<ts>{_TS})|(?P<uuid>{_UUID})|(?P<url>{_URL})|(?P<quoted>{_QUOTED})(?P<key>\s*:)?"
    rf"|(?P<ip>{_IP})|(?P<path>{_PATH})|(?P<hex>{_HEX})|(?P<n>{_NUMBER})"
)
_SEGMENT = re.compile(rf"(?P<uuid>{_UUID})|(?P<hex>{_HEX})|(?P<n>{_NUMBER})")
_SPACES = re.compile(r"\s+")
_URL_TAIL = ".,;:!?"


def meaningful_line(text: str) -> str:
    """The one line of an error that names the problem (rule 1 of the module docstring).

    Args:
        text: the whole error as stored, possibly a multi-line traceback.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0].strip()
    if first.startswith(_TRACEBACK_HEAD):
        for line in reversed(lines[1:]):
            if line[:1].isspace() or line.strip().startswith(_TRACEBACK_NOISE):
                continue
            return line.strip()
        return first
    stripped = _LOG_PREFIX.sub("", first, count=1)
    return stripped.strip() or first


def _mask_segment(segment: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return f"<{m.lastgroup}>"

    return _SEGMENT.sub(repl, segment)


def _mask_url(url: str) -> str:
    tail = ""
    while url and url[-1] in _URL_TAIL:
        url, tail = url[:-1], url[-1] + tail
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _mask_segment(url) + tail
    if re.fullmatch(_IP, host):
        host = "<ip>"
    netloc = f"{host}:{port}" if port is not None else host
    path = "/".join(_mask_segment(seg) for seg in parts.path.split("/"))
    out = f"{parts.scheme}://{netloc}{path}"
    if parts.query:
        pairs = []
        for pair in parts.query.split("&"):
            name, eq, _ = pair.partition("=")
            pairs.append(f"{name}=<v>" if eq else "<v>")
        out += "?" + "&".join(pairs)
    if parts.fragment:
        out += "#<v>"
    return out + tail


def _mask(m: re.Match[str]) -> str:
    quoted = m.group("quoted")
    if quoted is not None:
        return m.group(0) if m.group("key") is not None else f"{quoted[0]}<v>{quoted[0]}"
    kind = m.lastgroup
    if kind == "url":
        return _mask_url(m.group(0))
    return f"<{kind}>"


def error_signature(text: str) -> str:
    """The error reduced to its meaningful line with the variable parts masked.

    Two errors have the same signature when they are the same problem on
    different items, ids, paths or times; see the module docstring for the
    exact rules. ``HTTP 503 from https://x/api/items/123`` gives
    ``HTTP <n> from https://x/api/items/<n>``.

    Args:
        text: the whole error text; an empty error gives ``""``.
    """
    line = meaningful_line(text)
    masked = _TOKENS.sub(_mask, line)
    masked = _SPACES.sub(" ", masked).strip()
    if len(masked) > SIGNATURE_MAX:
        masked = masked[: SIGNATURE_MAX - 1] + "…"
    return masked


@dataclass(frozen=True, slots=True)
class Group:
    """Dead letters that share one error signature."""

    signature: str
    count: int
    queues: tuple[str, ...]
    """Distinct queues, sorted."""
    task_types: tuple[str, ...]
    """Distinct task types, sorted."""
    ids: tuple[int, ...]
    """Dead-letter ids, newest failure first (the order they were given in)."""
    newest_failed_at: float | None
    example: DeadLetter
    """The newest row of the group, to show its whole error."""


def _newer(a: DeadLetter, b: DeadLetter) -> bool:
    at, bt = a.failed_at, b.failed_at
    if at is None or bt is None:
        return at is not None and bt is None
    return at > bt


def group_by_signature(dead_letters: Iterable[DeadLetter]) -> list[Group]:
    """Group rows by :func:`error_signature`, the biggest group first.

    Ties are broken by the newest failure, then by signature, so the order is
    stable from one refresh to the next.
    """
    members: dict[str, list[DeadLetter]] = {}
    for row in dead_letters:
        members.setdefault(error_signature(row.error), []).append(row)
    groups = []
    for signature, rows in members.items():
        newest = rows[0]
        for row in rows[1:]:
            if _newer(row, newest):
                newest = row
        groups.append(
            Group(
                signature=signature,
                count=len(rows),
                queues=tuple(sorted({r.queue for r in rows})),
                task_types=tuple(sorted({r.task_type for r in rows})),
                ids=tuple(r.id for r in rows),
                newest_failed_at=newest.failed_at,
                example=newest,
            )
        )
    groups.sort(
        key=lambda g: (
            -g.count,
            -(g.newest_failed_at if g.newest_failed_at is not None else float("-inf")),
            g.signature,
        )
    )
    return groups


def recommend_workers(depth: int) -> int:
    """How many workers a queue of this depth should have: 1 to 5.

    The OOS resource manager's rule, a step table on the queue depth (its
    pending tasks, CONTRACT §3):

    ============  =======
    depth         workers
    ============  =======
    below 50      1
    50 to 199     2
    200 to 499    3
    500 to 999    4
    1000 and up   5
    ============  =======

    It never recommends fewer than one worker (an idle queue still needs one
    to pick up new work) and reaches its ceiling of five at the depth where
    the queue alert fires (1000), so an alerting queue is always one that
    already deserves every worker. A negative depth is taken as 0.
    """
    for below, workers in WORKER_STEPS:
        if depth < below:
            return workers
    return MAX_WORKERS


def breaker_for_worker(worker_id: str | None, breakers: Sequence[Breaker]) -> Breaker | None:
    """The circuit breaker guarding the worker that produced a dead letter, if any.

    The producer names a worker's breaker after the worker. A dead letter's
    ``worker_id`` may be the full name (``worker_1``) or the bare id (``1``):
    the breaker named exactly ``worker_id`` wins, then ``worker_<worker_id>``,
    then ``worker_id`` without a ``worker_`` or ``worker-`` prefix. Matching
    is exact otherwise (case included); no worker id gives None.
    """
    if not worker_id:
        return None
    by_name = {b.name: b for b in breakers}
    candidates = [worker_id, f"worker_{worker_id}"]
    for prefix in ("worker_", "worker-"):
        if worker_id.startswith(prefix) and len(worker_id) > len(prefix):
            candidates.append(worker_id[len(prefix) :])
    for name in candidates:
        found = by_name.get(name)
        if found is not None:
            return found
    return None


def open_breakers(rows: Iterable[DeadLetter], breakers: Sequence[Breaker]) -> dict[str, int]:
    """Open breakers guarding the workers of ``rows``: breaker name to rows affected.

    A retry confirmation warns with it: a task retried while its worker's
    breaker is open will most likely fail again.
    """
    affected: dict[str, int] = {}
    for row in rows:
        breaker = breaker_for_worker(row.worker_id, breakers)
        if breaker is not None and breaker.state == "open":
            affected[breaker.name] = affected.get(breaker.name, 0) + 1
    return dict(sorted(affected.items(), key=lambda kv: (-kv[1], kv[0])))


def open_breaker_warning(rows: Iterable[DeadLetter], breakers: Sequence[Breaker]) -> str | None:
    """The confirmation's warning line when any row's worker breaker is open, else None."""
    affected = open_breakers(rows, breakers)
    if not affected:
        return None
    names = ", ".join(f"{name} ({n} row{'s' if n != 1 else ''})" for name, n in affected.items())
    return f"worker breaker open: {names}; retried tasks may fail again until it closes"
