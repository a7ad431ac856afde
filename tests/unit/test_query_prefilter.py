"""Query prefilters: never drop a line whose event matches, and actually drop the rest.

The property test writes thousands of lines per source kind with the formats'
own writers, plus hostile re-encodings a producer may legally emit (``\\u``
escapes, ``\\/``, numbers in other forms, spaces), parses them, and checks
``matches(event) => prefilter(raw)`` for hundreds of generated queries.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from oos_tui.formats import ai, applog, pipe, pylog
from oos_tui.formats.base import format_ts
from oos_tui.models import Event, ParseError, Severity, StoreEvent
from oos_tui.query import Query, QueryError, compile_query
from oos_tui.store.rows import store_event_to_event

KINDS = ("oos", "ai", "app", "job", "store")
T0 = 1_759_111_200.0

TRICKY = [
    "timeout", "Timeout", "TIMEOUT", "connection refused", "HTTP 503", "disk full",
    "café", "CAFÉ", "naïve", "Straße", "İstanbul", "ıi", "Kelvin \u212a", "\u212aILL",
    "ſtop", "ﬁle", "a|b|c", 'say "hi"', "back\\slash", "path/to/file", "tab\there",
    "two\nlines", "emoji 🎉", "zero\u200bwidth", "日本語", "kind:app", "OR", "x=1",
    "1e2", "100.0", "-42", "null", "true", "αβγ", "\u0130", "FAIL", "fail", "Retry",
    "(paren)", "star*", "uni\u00e9", "\u2028sep", "ctrl\x01char", "CR\rhere",
]  # fmt: skip
PLAIN = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "podcast", "worker", "ingest",
    "transcode", "asr", "demux", "upload", "error", "warning", "retry", "queue", "item",
]  # fmt: skip
NUMBERS: list[Any] = [0, 7, 42, -3, 100.0, 1.5, 1e300, 1e-7, 12345678901234, 0.1, 2.50, True, None]


class Rng(random.Random):
    """A seeded generator that also says how hostile the generated lines are."""

    def __init__(self, seed: int, tricky: float = 0.35, hostile: float = 0.4) -> None:
        super().__init__(seed)
        self.tricky = tricky  # share of words drawn from TRICKY
        self.hostile = hostile  # share of JSON lines re-encoded by ``dump``

    def pick(self, normal: list[Any], odd: list[Any]) -> Any:
        """Mostly a normal value; an odd one as often as the generator is tricky."""
        return self.choice(odd if self.random() < self.tricky else normal)


def text(rng: Rng, low: int = 1, high: int = 5) -> str:
    parts = []
    for _ in range(rng.randint(low, high)):
        parts.append(rng.choice(TRICKY) if rng.random() < rng.tricky else rng.choice(PLAIN))
    word = " ".join(parts)
    roll = rng.random()
    if roll < 0.15:
        return word.upper()
    if roll < 0.25:
        return word.title()
    return word


def ident(rng: Rng, prefix: str) -> str:
    roll = rng.random()
    if roll < 0.3 * rng.tricky:
        return f"{prefix}_{rng.choice(['É', 'ı', chr(0x212A), 'ß'])}{rng.randrange(100)}"
    if roll < 0.2:
        return f"{prefix.upper()}-{rng.randrange(1000)}"
    return f"{prefix}_{rng.randrange(1000):03d}"


def number(rng: Rng) -> Any:
    return rng.choice(NUMBERS)


def value(rng: Rng, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.5 or depth > 2:
        return text(rng) if rng.random() < 0.7 else number(rng)
    if roll < 0.75:
        return {rng.choice(PLAIN): value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return [value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def holder(rng: Rng) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rng.random() < 0.5:
        out["queue"] = ident(rng, "queue") if rng.random() < 0.8 else rng.choice([5, 1.5, True])
    for _ in range(rng.randint(0, 2)):
        out[rng.choice(PLAIN)] = value(rng, 1)
    return out


# --------------------------------------------------------------------------- hostile JSON


def _string(s: str, rng: Rng) -> str:
    ascii_all = rng.random() < 0.3
    slash = rng.random() < 0.5
    letters = rng.random() < 0.1 * rng.hostile
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "/" and slash:
            out.append("\\/")
        elif code < 0x20:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, f"\\u{code:04x}"))
        elif code > 0x7E and ascii_all:
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
            else:
                out.append(f"\\u{code:04x}")
        elif letters and ch.isascii() and ch.isalnum() and rng.random() < 0.3:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(x: float | int, rng: Rng) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x) if rng.random() < 0.7 else f"{x}.0E0"
    forms = [repr(x), f"{x:.17g}", f"{x:E}", f"{x:.3e}", f"{x:.6f}"]
    form = rng.choice(forms)
    return form if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", form) else repr(x)


def dump(obj: Any, rng: Rng) -> str:
    """JSON as another producer might write it: escapes, spaces, numbers in other forms."""
    sep = ", " if rng.random() < 0.5 else ","
    colon = ": " if rng.random() < 0.5 else ":"

    def go(v: Any) -> str:
        if v is None:
            return "null"
        if isinstance(v, str):
            return _string(v, rng)
        if isinstance(v, bool | int | float):
            return _number(v, rng)
        if isinstance(v, dict):
            return "{" + sep.join(go(str(k)) + colon + go(x) for k, x in v.items()) + "}"
        return "[" + sep.join(go(x) for x in v) + "]"

    return go(obj)


# --------------------------------------------------------------------------- lines per kind

Sample = tuple[bytes, Event]


def _keep(out: list[Sample], raw: bytes, parsed: Event | ParseError) -> None:
    if isinstance(parsed, Event):
        out.append((raw, parsed))


def pipe_samples(rng: Rng, n: int) -> list[Sample]:
    types = ["DISCOVER", "PROCESS", "COMPLETE"] * 3 + ["FAIL", "RETRY", "SKIP"]
    odd_types = ["fail", "Fail", "retry", "CUSTOM_THING", "FA\u0130L", "\u212aILL", "Ünï"]
    contents = ["podcast", "video", ""]
    odd_contents = ["Ünïcode", "\u212a-tag", "PODCAST"]
    out: list[Sample] = []
    while len(out) < n:
        event_type = rng.pick(types, odd_types)
        data: Any
        if rng.random() < 0.9:
            data = holder(rng)
            for key in ("error", "message", "title", "url"):
                if rng.random() < 0.4:
                    data[key] = text(rng) if rng.random() < 0.9 else number(rng)
            if rng.random() < 0.4:
                data["correlation_id"] = ident(rng, "req") if rng.random() < 0.8 else number(rng)
            for key in ("metadata", "context", "details", "payload"):
                if rng.random() < 0.15:
                    data[key] = holder(rng)
        else:
            data = value(rng)
        source = text(rng, 1, 2).replace("|", "/").replace("\n", " ").replace("\r", " ")
        item = ident(rng, "item") if rng.random() < 0.8 else None
        line = pipe.write_line(
            T0 + rng.random() * 1000,
            event_type,
            rng.pick(contents, odd_contents),
            source,
            item,
            data,
        ).rstrip(b"\n")
        if rng.random() < 0.4:
            head = (
                line[: line.index(b"|{") + 1] if b"|{" in line else line.rsplit(b"|", 1)[0] + b"|"
            )
            if head.count(b"|") == 5:
                line = head + dump(data, rng).encode()
        if rng.random() < 0.05:
            line += b"\r"
        _keep(out, line, pipe.PIPE.parse(line, "oos.log", len(out) + 1))
    return out


def ai_samples(rng: Rng, n: int) -> list[Sample]:
    types = ["start", "stop", "decision", "metric", "pattern", "error"]
    odd_types = ["ERROR", "Error", "Pattern", "custom", "\u212aill", "erro\u0280"]
    out: list[Sample] = []
    while len(out) < n:
        details: Any
        roll = rng.random()
        if roll < 0.5:
            details = holder(rng)
            key = rng.choice(["message", "action", "description", "other"])
            details[key] = text(rng) if rng.random() < 0.85 else number(rng)
            if rng.random() < 0.4:
                details["item_id"] = ident(rng, "item") if rng.random() < 0.7 else number(rng)
            if rng.random() < 0.3:
                details["correlation_id"] = ident(rng, "req")
        elif roll < 0.75:
            details = {rng.choice(PLAIN): value(rng, 1) for _ in range(rng.randint(1, 4))}
        elif roll < 0.9:
            details = text(rng)
        else:
            details = rng.choice([None, [], 5, {}])
        extra: dict[str, Any] = {}
        if rng.random() < 0.3:
            extra["correlation_id"] = ident(rng, "req") if rng.random() < 0.7 else number(rng)
        if rng.random() < 0.2:
            extra["queue"] = ident(rng, "queue")
        category = rng.pick(["system", "ai", ""], ["Ünï", "\u212a"])
        source = rng.pick(["test_service", text(rng, 1, 1)], ["", "Worker \u0130", "unknown"])
        metrics = {"cpu_percent": rng.random() * 100} if rng.random() < 0.5 else None
        record = ai.write_line(
            T0 + rng.random() * 1000, rng.pick(types, odd_types), category, source, details,
            metrics, **extra,
        ).rstrip(b"\n")  # fmt: skip
        if rng.random() < rng.hostile:
            record = dump(orjson.loads(record), rng).encode()
        _keep(out, record, ai.AI.parse(record, "ai_events.log", len(out) + 1))
    return out


def app_samples(rng: Rng, n: int) -> list[Sample]:
    levels = ["DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR", "CRITICAL"]
    odd_levels = ["WARN", "FATAL", "error", "Err", "trace", "notice", "bogus", "", " warning ",
                  "crit", "WARNıNG"]  # fmt: skip
    out: list[Sample] = []
    while len(out) < n:
        ts = T0 + rng.random() * 1000
        if rng.random() < 0.7:
            context = holder(rng)
            if rng.random() < 0.4:
                context[rng.choice(["request_id", "correlation_id"])] = ident(rng, "req")
            metadata = holder(rng)
            if rng.random() < 0.4:
                metadata["item_id"] = ident(rng, "item") if rng.random() < 0.7 else number(rng)
            extra: dict[str, Any] = {}
            for key in ("event", "event_type", "correlation_id", "item_id", "queue"):
                if rng.random() < 0.1:
                    extra[key] = ident(rng, key) if rng.random() < 0.8 else number(rng)
            message: Any = text(rng) if rng.random() < 0.85 else value(rng)
            line = applog.write_line(
                ts,
                rng.pick(levels, odd_levels),
                text(rng, 1, 1),
                message,
                context,
                metadata,
                **extra,
            )
        else:
            content: Any = text(rng) if rng.random() < 0.85 else value(rng)
            line = applog.write_container_line(
                ts,
                rng.pick([None, *levels], odd_levels),
                text(rng, 1, 1),
                content,
                rng.choice(["stdout", "stderr"]),
            )
        line = line.rstrip(b"\n")
        if rng.random() < rng.hostile:
            line = dump(orjson.loads(line), rng).encode()
        _keep(out, line, applog.APP.parse(line, "logs/app.log", len(out) + 1))
    return out


JOB_FILES = [
    "out/job1/05_asr/stage.log",
    "out/job-2/logs/99_pipeline_20251127.log",
    "out/job3/01_demux/stage.log",
    "elsewhere/custom.log",
]


def job_samples(rng: Rng, n: int) -> list[Sample]:
    levels = ["DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR", "CRITICAL"]
    odd_levels = ["CR\u0131T\u0131CAL", "WARN\u0131NG", "[error]:", "warn", "fatal", "Info",
                  "\u0131NFO", "[CRITICAL]", "notalevel"]  # fmt: skip
    out: list[Sample] = []
    while len(out) < n:
        ts = T0 + rng.random() * 1000
        message = text(rng).replace("\r", " ")
        lines = message.split("\n")
        if rng.random() < 0.3:
            lines += ["Traceback (most recent call last):", f'  File "x.py", line 3: {text(rng)}']
        message = "\n".join(lines)
        logger = rng.choice([None, "oos.worker", "asr"])
        if rng.random() >= rng.tricky:
            record = pylog.write_record(ts, rng.choice(levels), message, logger).rstrip(b"\n")
        else:
            stamp = format_ts(ts, sep=rng.choice([" ", "T"]), frac=",", zulu=False)
            who = f"{logger} - " if logger else ""
            level = rng.choice(odd_levels)
            sep = " " if level.startswith("[") else " - "
            record = f"{stamp} - {who}{level}{sep}{message}".encode()
        if rng.random() < 0.2:
            record = record.replace(b"\n", b"\r\n")
        _keep(out, record, pylog.PYLOG.parse(record, rng.choice(JOB_FILES), len(out) + 1))
    return out


def store_samples(rng: Rng, n: int) -> list[Sample]:
    severities = ["debug", "info", "info", "info", "warning", "error", "critical"]
    odd_severities = ["ERROR", "warn", "Fatal", " error ", "bogus", "", "trace", "notice", "err"]
    out: list[Sample] = []
    for i in range(n):
        data: Any
        if rng.random() < 0.8:
            data = holder(rng)
            if rng.random() < 0.4:
                data["item_id"] = ident(rng, "item") if rng.random() < 0.6 else number(rng)
            if rng.random() < 0.1:
                data["system"] = ident(rng, "sys")
            for key in ("context", "details", "payload"):
                if rng.random() < 0.15:
                    data[key] = holder(rng)
        else:
            data = value(rng)
        metadata: Any = holder(rng) if rng.random() < 0.8 else text(rng)
        se = StoreEvent(
            id=f"uuid-{i}",
            rowid=i + 1,
            ts=T0 + rng.random() * 1000 if rng.random() < 0.95 else math.nan,
            system=rng.pick(["ingest", "asr", text(rng, 1, 1)], ["Ünï", "\u212aeeper"]),
            event_type=rng.pick(["task_failed", "breaker_open", "FAIL"], ["\u212aILL"]),
            severity=rng.pick(severities, odd_severities),
            title=text(rng) if rng.random() < 0.9 else "",
            description=text(rng, 0, 6) + ("\nsecond line" if rng.random() < 0.3 else ""),
            data=data,
            tags=tuple(text(rng, 1, 1) for _ in range(rng.randint(0, 3))),
            correlation_id=ident(rng, "req") if rng.random() < 0.5 else None,
            source_component=rng.choice([None, "", "worker-1", text(rng, 1, 1)]),
            duration_ms=rng.choice([None, 12, 3000]),
            metadata=metadata,
        )
        event = store_event_to_event(se)
        out.append((event.raw.encode("utf-8", "surrogatepass"), event))
    return out


GENERATORS: dict[str, Callable[[Rng, int], list[Sample]]] = {
    "oos": pipe_samples,
    "ai": ai_samples,
    "app": app_samples,
    "job": job_samples,
    "store": store_samples,
}


@pytest.fixture(scope="module")
def samples() -> dict[str, list[Sample]]:
    rng = Rng(20250929)
    return {kind: gen(rng, 1000) for kind, gen in GENERATORS.items()}


@pytest.fixture(scope="module")
def realistic() -> dict[str, list[Sample]]:
    """Lines like a healthy workspace's: plain words, no hostile encodings."""
    rng = Rng(7, tricky=0.0, hostile=0.0)
    return {kind: gen(rng, 1000) for kind, gen in GENERATORS.items()}


# --------------------------------------------------------------------------- queries

SEVERITY_WORDS = ["debug", "info", "warning", "warn", "error", "err", "critical", "fatal"]
OPS = [":", "=", ">=", ">", "<=", "<"]


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def vary_case(rng: Rng, s: str) -> str:
    roll = rng.random()
    if roll < 0.3:
        return s.upper()
    if roll < 0.6:
        return s.lower()
    if roll < 0.7:
        return s.swapcase()
    return s


def globbed(rng: Rng, s: str) -> str:
    roll = rng.random()
    if len(s) < 2 or roll < 0.5:
        return s
    cut = rng.randrange(1, len(s))
    if roll < 0.65:
        return s[:cut] + "*"
    if roll < 0.8:
        return "*" + s[cut:]
    if roll < 0.9:
        return s[:cut] + "*" + s[cut + 1 :]
    return "*" + s[cut - 1 : cut + 1] + "*"


def field_value(rng: Rng, s: str) -> str:
    s = globbed(rng, vary_case(rng, s))
    return s if re.fullmatch(r'[^\s()"]+', s) else quote(s)


def snippet(rng: Rng, s: str) -> str:
    if not s:
        return "zz"
    start = rng.randrange(len(s))
    return s[start : start + rng.randint(1, 14)]


def word_of(rng: Rng, s: str) -> str:
    words = re.findall(r"[^\s()\"/:=<>\-\\][^\s()\"\\]*", s)
    return rng.choice(words) if words else "zz"


def term(rng: Rng, e: Event) -> str:
    choice = rng.randrange(15)
    haystack = e.message if rng.random() < 0.5 else e.raw
    if choice == 0:
        word = word_of(rng, haystack)
        return vary_case(rng, word) if not re.match(r"[A-Za-z]\w*[:=<>]", word) else quote(word)
    if choice == 1:
        return quote(vary_case(rng, snippet(rng, haystack)))
    if choice == 2:
        body = re.escape(snippet(rng, haystack)).replace("/", "\\/")
        if rng.random() < 0.3:
            body = body + rng.choice([".", "\\d*", "+", "?", "(x|y)?", "[a-z]*"])
        if rng.random() < 0.2:
            body = rng.choice(["^", "(?:", "\\b"]) + body + (")" if body.startswith("(?:") else "")
        if body.startswith("(?:") and not body.endswith(")"):
            body += ")"
        return f"/{body}/{rng.choice(['', 'i'])}"
    if choice == 3:
        return f"severity{rng.choice(OPS)}{rng.choice(SEVERITY_WORDS)}"
    if choice == 4:
        return f"type:{field_value(rng, e.event_type)}"
    if choice == 5:
        return f"source:{field_value(rng, e.source)}"
    if choice == 6:
        system = e.data.get("system") if isinstance(e.data, dict) else None
        return f"system:{field_value(rng, system if isinstance(system, str) else e.source)}"
    if choice == 7:
        return f"kind:{rng.choice(KINDS)}"
    if choice == 8:
        return f"tag:{field_value(rng, rng.choice(e.tags) if e.tags else 'podcast')}"
    if choice == 9:
        return f"item:{field_value(rng, e.item_id or 'item_001')}"
    if choice == 10:
        return f"corr:{field_value(rng, e.correlation_id or 'req_001')}"
    if choice == 11:
        return f"file:{field_value(rng, snippet(rng, e.file or 'x'))}"
    if choice == 12:
        queues = [q for q in re.findall(r'"queue": ?"?([^",}]+)', e.raw)] or ["queue_001"]
        return f"queue:{field_value(rng, rng.choice(queues))}"
    if choice == 13:
        return f"{rng.choice(['since', 'until'])}:{rng.choice(['5m', '2025-09-29T02:05'])}"
    return word_of(rng, rng.choice(TRICKY + PLAIN))


def random_query(rng: Rng, e: Event) -> str:
    parts = []
    for index in range(rng.choice([1, 1, 1, 2, 2, 3])):
        item = term(rng, e)
        if rng.random() < 0.2:
            item = "-" + item
        if index and rng.random() < 0.25:
            parts.append("OR")
        parts.append(item)
    text = " ".join(parts)
    if rng.random() < 0.1:
        text = f"({text}) {term(rng, e)}"
    return text


# --------------------------------------------------------------------------- the property


def test_prefilter_never_drops_a_matching_line(samples: dict[str, list[Sample]]) -> None:
    rng = Rng(5)
    every = [(kind, sample) for kind, rows in samples.items() for sample in rows]
    checked = matched = filtered = needled = 0
    for _ in range(400):
        _, (_, target) = rng.choice(every)
        text = random_query(rng, target)
        try:
            query = compile_query(text, now=T0 + 600)
        except QueryError:
            continue
        checked += 1
        for kind, rows in samples.items():
            test = query.prefilter(kind)
            groups = query.needles(kind)
            if test is None:
                assert groups is None, (text, kind)
                continue
            filtered += 1
            needled += groups is not None
            for raw, event in rows:
                if query.matches(event):
                    matched += 1
                    assert test(raw), (
                        f"prefilter({kind!r}) dropped a matching line for {text!r}:\n"
                        f"{raw!r}\nsource={test.__doc__}"
                    )
                    if groups is not None:
                        low = raw.lower()
                        assert any(all(n in low for n in group) for group in groups), (
                            f"needles({kind!r}) drop a matching line for {text!r}:\n"
                            f"{raw!r}\nneedles={groups}"
                        )
    assert checked > 390
    assert filtered > 1000
    assert needled > 1000
    assert matched > 40_000


@pytest.mark.parametrize("kind", KINDS)
def test_every_sample_kind_parsed(samples: dict[str, list[Sample]], kind: str) -> None:
    assert len(samples[kind]) == 1000
    assert all(event.kind == kind for _, event in samples[kind])


def test_hostile_encodings_are_in_the_samples(samples: dict[str, list[Sample]]) -> None:
    raws = [raw for kind in ("oos", "ai", "app") for raw, _ in samples[kind]]
    assert sum(b"\\u" in raw for raw in raws) > 100
    assert sum(b"\\/" in raw for raw in raws) > 20
    assert sum(b"E+" in raw or b"E-" in raw for raw in raws) > 20
    assert sum(not raw.isascii() for raw in raws) > 500


# --------------------------------------------------------------------------- targeted cases


def _pf(text: str, kind: str) -> Callable[[bytes], bool]:
    test = compile_query(text).prefilter(kind)
    assert test is not None, text
    return test


def _pipe(
    event_type: str = "PROCESS", source: str = "S", item: str | None = "i", **data: Any
) -> bytes:
    return pipe.write_line(T0, event_type, "podcast", source, item, data).rstrip(b"\n")


def test_pipe_type_needle_is_the_delimited_field() -> None:
    test = _pf("type:FAIL", "oos")
    assert test(_pipe("FAIL"))
    assert test(_pipe("fail"))
    assert not test(_pipe("PROCESS", message="FAIL is in the message"))
    assert not test(_pipe("FAILED"))


def test_pipe_fields_are_read_in_place() -> None:
    test = _pf("item:x_1 tag:podcast", "oos")
    assert test(_pipe(item="X_1"))
    assert not test(_pipe(item="x_12", note="|x_1|podcast|"))
    assert not test(b"2025-09-29T02:00:00Z|FAIL|podcast|s")  # too few fields to parse
    assert _pf("source:\u212aeeper", "oos")(_pipe(source="\u212aeeper"))
    assert _pf("source:keeper", "oos")(_pipe(source="\u212aeeper"))  # K lowers to k


def test_pipe_severity_uses_the_exact_event_words() -> None:
    test = _pf("severity>=warning", "oos")
    assert test(_pipe("FAIL")) and test(_pipe("RETRY"))
    assert not test(_pipe("fail"))  # only FAIL is an error
    assert not test(_pipe("PROCESS", error="FAIL"))


def test_glob_needles_keep_their_anchors() -> None:
    test = _pf("source:Tech*", "oos")
    assert test(_pipe(source="TechPodcast"))
    assert not test(_pipe(source="MyTechPodcast"))
    test = _pf("item:*_001", "oos")
    assert test(_pipe(item="x_001"))
    assert not test(_pipe(item="x_0012"))


def test_text_needles_cover_unicode_folds_and_escapes() -> None:
    kelvin = _pipe(message="\u212aill the job")
    query = compile_query("kill")
    parsed = pipe.PIPE.parse(kelvin, "oos.log", 1)
    assert isinstance(parsed, Event) and query.matches(parsed)
    assert _pf("kill", "oos")(kelvin)
    escaped = b'2025-09-29T02:00:00Z|X|c|s|i|{"message":"ti\\u006deout"}'
    parsed = pipe.PIPE.parse(escaped, "oos.log", 1)
    assert isinstance(parsed, Event) and compile_query("timeout").matches(parsed)
    assert _pf("timeout", "oos")(escaped)
    assert not _pf("timeout", "oos")(b'2025-09-29T02:00:00Z|X|c|s|i|{"message":"ok \\n"}')


def test_ai_summaries_with_numbers_get_no_digit_needles() -> None:
    record = b'{"timestamp":"2025-09-29T02:00:00","event_type":"metric","details":{"n":1E2}}'
    parsed = ai.AI.parse(record, "ai_events.log", 1)
    assert isinstance(parsed, Event) and parsed.message == "n=100.0"
    query = compile_query("100.0")
    assert query.matches(parsed)
    assert query.prefilter("ai") is None
    assert compile_query('"n=100"').prefilter("ai") is None
    assert _pf("metric", "ai")(record)


def test_the_fold_tables_are_complete() -> None:
    """The hatches assume exactly these non-ASCII characters fold onto ASCII letters."""
    lowers: set[str] = set()
    uppers: set[str] = set()
    for code in range(0x80, 0x110000):
        c = chr(code)
        low, up = c.lower(), c.upper()
        if low != c and any(ch.isascii() for ch in low):
            lowers.add(c)
        if up != c and up.isascii():
            uppers.add(c)
    assert lowers == {"\u0130", "\u212a"}  # İ -> i + combining dot, K -> k
    assert uppers == set("ßıſﬀﬁﬂﬃﬄﬅﬆ")  # only ı can spell a level word (CRITICAL, INFO)
    letters = re.compile("[a-z]", re.IGNORECASE)
    folds = {chr(c) for c in range(0x80, 0x10000) if letters.fullmatch(chr(c))}
    assert folds == {"\u0130", "\u0131", "\u212a", "\u017f"}


def test_case_sensitive_regex_with_a_kelvin_sign() -> None:
    raw = '{"rowid":1,"event_type":"\u212aILL","title":"x"}'
    event = Event(T0, Severity.INFO, "store", "s", "\u212aILL", "x", raw=raw)
    query = compile_query('/\u212aILL"/')
    assert query.matches(event)
    assert _pf('/\u212aILL"/', "store")(raw.encode())
    assert compile_query('/\u212aILL"/i').matches(
        Event(T0, Severity.INFO, "store", "s", "", 'KILL"')
    )


def test_job_critical_with_a_dotless_i_passes() -> None:
    record = "2025-09-29 02:00:00,000 - CR\u0131T\u0131CAL - boom".encode()
    parsed = pylog.PYLOG.parse(record, "out/j/01_x/stage.log", 1)
    assert isinstance(parsed, Event) and parsed.severity.word == "critical"
    assert _pf("severity:critical", "job")(record)
    assert not _pf("severity:critical", "job")(b"2025-09-29 02:00:00,000 - ERROR - boom")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("kind:ai", "oos"),
        ("tag:x", "app"),
        ("tag:x", "job"),
        ("item:x", "job"),
        ("corr:x", "job"),
        ("queue:x", "job"),
        ("type:FAIL", "job"),
        ("severity:critical", "oos"),
        ("severity:debug", "ai"),
        ("file:x", "store"),
        ("-kind:oos", "oos"),
        ("-severity>=debug", "store"),
        ("kind:ai OR kind:app", "store"),
    ],
)
def test_impossible_kinds_reject_every_line(text: str, kind: str) -> None:
    test = _pf(text, kind)
    assert not test(b"")
    assert not test(b"anything at all")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("-timeout", "oos"),
        ("-type:FAIL", "oos"),
        ("x", "oos"),
        ("severity:info", "oos"),
        ("severity>=info", "oos"),
        ("source:x", "job"),
        ("file:x", "oos"),
        ("since:1h", "ai"),
        ("item:42", "ai"),
        ("corr:1*", "app"),
        ("source:unk*", "ai"),
        ("type:log", "app"),
        ("kind:oos", "oos"),
        ("type:FAIL OR -x", "oos"),
        ("timeout", "unknown-kind"),
    ],
)
def test_no_prefilter_when_nothing_can_be_ruled_out(text: str, kind: str) -> None:
    assert compile_query(text).prefilter(kind) is None


def test_needles_spell_the_prefilter_for_chunk_search() -> None:
    assert compile_query("type:FAIL").needles("oos") == [(b"|fail|",), ("\u0130".encode(),)]
    assert compile_query("severity>=warning").needles("oos") == [(b"|fail|",), (b"|retry|",)]
    assert compile_query("zebra").needles("oos") == [(b"\\u",), (b"zebra",)]
    assert compile_query("zebra quagga").needles("job") == [(b"quagga", b"zebra")]
    assert compile_query("kind:ai").needles("oos") == []
    assert compile_query("kind:ai").needles("ai") is None
    assert compile_query("-zebra").needles("oos") is None
    assert compile_query("").needles("oos") is None
    # Too many combinations to list: the line-by-line prefilter still works.
    many = compile_query("(a1 OR b1 OR c1) (a2 OR b2 OR c2) (a3 OR b3 OR c3)")
    assert many.needles("job") is None
    assert many.prefilter("job") is not None


def test_prefilters_are_cached_per_kind() -> None:
    query = compile_query("timeout")
    assert query.prefilter("oos") is query.prefilter("oos")
    assert query.prefilter("oos") is not query.prefilter("job")


def _passed_and_hits(rows: list[Sample], text: str, kind: str) -> tuple[int, int]:
    query = compile_query(text)
    test = query.prefilter(kind)
    assert test is not None, (text, kind)
    passed = sum(1 for raw, _ in rows if test(raw))
    hits = sum(1 for _, event in rows if query.matches(event))
    return passed, hits


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("type:FAIL", "oos"),
        ("severity>=warning", "oos"),
        ("item:item_123", "oos"),
        ("source:alpha", "oos"),
        ("tag:video", "oos"),
        ("queue:queue_123", "oos"),
        ("podcast zulu", "oos"),
        ('"zulu tango"', "oos"),
        ("/zulu tango/", "oos"),
        ("item:item_123", "ai"),
        ("tag:system", "ai"),
        ("severity:error", "ai"),
        ("corr:req_123", "app"),
        ("severity>=error", "app"),  # "err" is also in stderr and in messages
        ("source:worker-1", "store"),
        ("system:ingest", "store"),
        ("type:breaker_open", "store"),
        ("severity>=error", "store"),
        ("severity>=warning", "job"),
        ("zulu", "job"),
    ],
)
def test_prefilters_are_selective(realistic: dict[str, list[Sample]], text: str, kind: str) -> None:
    rows = realistic[kind]
    passed, hits = _passed_and_hits(rows, text, kind)
    slack = 2.5 if text.startswith("severity") and kind in ("app", "store") else 1.5
    assert hits <= passed <= slack * hits + 0.05 * len(rows), (passed, hits)
    assert passed < 0.8 * len(rows), (passed, hits)


@pytest.mark.parametrize("kind", KINDS)
def test_a_rare_word_passes_almost_nothing(
    realistic: dict[str, list[Sample]], samples: dict[str, list[Sample]], kind: str
) -> None:
    assert _passed_and_hits(realistic[kind], "quixotic", kind) == (0, 0)
    # Hostile lines pass when a \u escape or a folding character could hide the word.
    passed, hits = _passed_and_hits(samples[kind], "quixotic", kind)
    assert hits == 0
    assert passed < 0.5 * len(samples[kind])


def test_prefilter_is_fast_on_non_matching_lines() -> None:
    line = pipe.write_line(
        T0, "PROCESS", "podcast", "TechPodcast", "TechPodcast_001",
        {"url": "https://feeds.example.com/ai", "title": "AI Revolution " * 12},
    )  # fmt: skip
    for text in ("type:FAIL", "quixotic"):
        test = _pf(text, "oos")
        start = time.perf_counter()
        for _ in range(20_000):
            test(line)
        per_line = (time.perf_counter() - start) / 20_000
        assert per_line < 5e-6, (text, per_line)


def test_compile_query_returns_a_query() -> None:
    assert isinstance(compile_query("x"), Query)
