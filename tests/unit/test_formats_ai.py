"""``ai_events.log`` (CONTRACT §2.2): Event fields, malformed shapes, the writer."""

from __future__ import annotations

import random

import orjson
import pytest

from oos_tui.formats.ai import AI, summarize, write_line
from oos_tui.models import Event, ParseError, Severity

T = 1_759_111_219.48
CONTRACT = {
    "timestamp": "2025-09-28T18:58:29.100950",
    "event_type": "start",
    "category": "system",
    "source": "test_service",
    "details": {"action": "service_start"},
    "system_metrics": {"cpu_percent": 12.0, "memory_percent": 25.3},
    "user_interaction": None,
    "ai_analysis": None,
}
CONTRACT_TS = 1_759_085_909.100950


def line(**fields: object) -> bytes:
    record = {"timestamp": "2025-09-29T02:00:19.480Z", "event_type": "metric", **fields}
    return orjson.dumps({k: v for k, v in record.items() if v is not ...})


def parse(raw: bytes) -> Event | ParseError:
    return AI.parse(raw, "ai_events.log", 9, 300)


def event(raw: bytes) -> Event:
    out = parse(raw)
    assert isinstance(out, Event), out
    return out


def error(raw: bytes) -> ParseError:
    out = parse(raw)
    assert isinstance(out, ParseError), out
    assert (out.file, out.line, out.offset, out.kind) == ("ai_events.log", 9, 300, "ai")
    return out


def test_contract_example_every_field() -> None:
    raw = (
        b"{"
        + b", ".join(orjson.dumps(k) + b": " + orjson.dumps(v) for k, v in CONTRACT.items())
        + b"}"
    )
    e = event(raw)
    assert e.ts == pytest.approx(CONTRACT_TS)
    assert e.severity is Severity.INFO
    assert e.kind == "ai"
    assert e.source == "test_service"
    assert e.event_type == "start"
    assert e.message == "service_start"
    assert e.item_id is None
    assert e.correlation_id is None
    assert e.data == CONTRACT
    assert (e.file, e.line, e.offset) == ("ai_events.log", 9, 300)
    assert e.raw == raw.decode()
    assert e.tags == ("system",)
    assert AI.timestamp(raw) == pytest.approx(CONTRACT_TS)


@pytest.mark.parametrize(
    ("event_type", "severity"),
    [
        ("start", Severity.INFO),
        ("stop", Severity.INFO),
        ("decision", Severity.INFO),
        ("metric", Severity.INFO),
        ("pattern", Severity.WARNING),
        ("error", Severity.ERROR),
        ("ERROR", Severity.ERROR),
        ("other", Severity.INFO),
    ],
)
def test_severity_by_event_type(event_type: str, severity: Severity) -> None:
    assert event(line(event_type=event_type)).severity is severity


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"message": "m", "action": "a", "description": "d"}, "m"),
        ({"action": "a", "description": "d"}, "a"),
        ({"description": "d"}, "d"),
        ({"message": "", "action": "a"}, "a"),
        ({"message": 3, "description": "d"}, "d"),
        ({"cpu": 3.5, "ok": True, "who": "x"}, "cpu=3.5 ok=true who=x"),
        ({"nested": {"a": [1, 2]}}, 'nested={"a":[1,2]}'),
        ({}, "metric"),
        (None, "metric"),
        ([1, 2], "metric"),
        ("plain details", "plain details"),
        (..., "metric"),
    ],
)
def test_message_fallbacks(details: object, message: str) -> None:
    assert event(line(details=details)).message == message


def test_summary_is_short() -> None:
    details = {f"key{i}": "v" * 50 for i in range(40)}
    text = summarize(details)
    assert len(text) <= 200
    assert text.endswith("…")
    assert event(line(details=details)).message == text
    assert summarize({"a": "x" * 10_000}) == "a=" + "x" * 197 + "…"


def test_ids_from_details_and_top_level() -> None:
    e = event(line(details={"item_id": 42, "correlation_id": "d-corr"}))
    assert e.item_id == "42"
    assert e.correlation_id == "d-corr"
    e = event(line(correlation_id="top", details={"item_id": "it", "correlation_id": "d"}))
    assert (e.item_id, e.correlation_id) == ("it", "top")
    e = event(line(correlation_id=None, details={"item_id": {"x": 1}}))
    assert (e.item_id, e.correlation_id) == (None, None)


def test_source_and_category_defaults() -> None:
    e = event(line())
    assert e.source == "unknown"
    assert e.tags == ()
    assert event(line(source="", category="")).source == "unknown"
    assert event(line(source=5, category=["x"])).tags == ()


@pytest.mark.parametrize(
    ("text", "ts"),
    [
        ("2025-09-29T02:00:19.480Z", T),
        ("2025-09-29T02:00:19.480", T),
        ("2025-09-29T02:00:19.480000", T),
        ("2025-09-29T07:30:19.480+05:30", T),
        ("2025-09-29 02:00:19,480", T),
    ],
)
def test_timestamp_shapes(text: str, ts: float) -> None:
    raw = line(timestamp=text)
    assert event(raw).ts == pytest.approx(ts)
    assert AI.timestamp(raw) == pytest.approx(ts)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty line"),
        (b"  ", "empty line"),
        (b"[1, 2]", "not a JSON object"),
        (b'"a string"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b"42", "not a JSON object"),
        (b'{"event_type": "start"}', "missing timestamp"),
        (b'{"timestamp": null, "event_type": "start"}', "missing timestamp"),
        (b'{"timestamp": "xyz", "event_type": "start"}', "bad timestamp 'xyz'"),
        (b'{"timestamp": 1759111219, "event_type": "start"}', "bad timestamp 1759111219"),
        (b'{"timestamp": "2025-09-29T02:00:19Z"}', "missing event_type"),
        (b'{"timestamp": "2025-09-29T02:00:19Z", "event_type": ""}', "missing event_type"),
        (b'{"timestamp": "2025-09-29T02:00:19Z", "event_type": 3}', "missing event_type"),
        (b'{"timestamp": "2025-09-29T02:00:19Z", "event_type": "s"', "unexpected end of data"),
        (b"{'timestamp': 1}", "unexpected character"),
        (b"not json", "invalid literal"),
        (b'{"a": 1} {"b": 2}', "unexpected content"),
    ],
)
def test_malformed_lines_are_parse_errors(raw: bytes, reason: str) -> None:
    err = error(raw)
    assert err.reason.startswith(reason), err.reason
    assert err.raw == raw.decode()


def test_partial_line_is_a_parse_error() -> None:
    full = write_line(T, "decision", "ai", "svc", {"description": "x" * 40}).rstrip(b"\n")
    for cut in range(1, len(full)):
        assert isinstance(parse(full[:cut]), ParseError)


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    raw = (
        b'{"timestamp":"2025-09-29T02:00:19.480Z","event_type":"error","source":"sv\xffc",'
        b'"details":{"message":"caf\xe9"}}'
    )
    e = event(raw)
    assert e.source == "sv\ufffdc"
    assert e.message == "caf\ufffd"
    assert e.raw == raw.decode("utf-8", "replace")
    assert error(b'{"timestamp":"\xff').reason.startswith("unexpected end of data")


def test_crlf_line_end_is_dropped() -> None:
    raw = line(details={"action": "a"})
    e = event(raw + b"\r")
    assert e.raw == raw.decode()
    assert AI.timestamp(raw + b"\r") == pytest.approx(T)


def test_multi_megabyte_line() -> None:
    big = "y" * (5 * 1024 * 1024)
    raw = write_line(T, "error", "system", "svc", {"message": big}).rstrip(b"\n")
    e = event(raw)
    assert e.message == big
    assert AI.timestamp(raw) == pytest.approx(T)


def test_timestamp_ignores_nested_timestamps() -> None:
    raw = b'{"details":{"timestamp":"2000-01-01T00:00:00Z"},"timestamp":"2025-09-29T02:00:19.480Z"}'
    assert AI.timestamp(raw) == pytest.approx(T)
    assert AI.timestamp(b'{"event_type": "x"}') is None
    assert AI.timestamp(b"garbage") is None


# -- writer -----------------------------------------------------------------------------------


def test_writer_shape_matches_the_contract() -> None:
    raw = write_line(
        CONTRACT_TS,
        "start",
        "system",
        "test_service",
        {"action": "service_start"},
        {"cpu_percent": 12.0, "memory_percent": 25.3},
    )
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    assert orjson.loads(raw) == CONTRACT
    assert list(orjson.loads(raw)) == list(CONTRACT)


def test_writer_extra_keys_follow_and_may_not_clash() -> None:
    raw = write_line(T, "metric", "system", "s", {}, correlation_id="c-9", host="h1")
    obj = orjson.loads(raw)
    assert list(obj)[-2:] == ["correlation_id", "host"]
    assert event(raw[:-1]).correlation_id == "c-9"
    with pytest.raises(ValueError, match="timestamp"):
        write_line(T, "metric", "system", "s", {}, timestamp="2020-01-01")


def test_writer_parser_round_trip() -> None:
    rng = random.Random(11)
    words = ["a", "b c", "ü", "\n", '"', "|", "{}", "漢字"]
    for number in range(1, 1000):
        ts = rng.uniform(0, 4_000_000_000)
        event_type = rng.choice(["start", "stop", "decision", "metric", "pattern", "error"])
        details = {rng.choice(["message", "action", "x", "y"]): rng.choice(words) for _ in range(3)}
        if rng.random() < 0.3:
            details["item_id"] = rng.randrange(1000)
        category = rng.choice(["system", "ai", ""])
        source = rng.choice(["svc", "worker", ""])
        metrics = {"cpu_percent": rng.random() * 100} if rng.random() < 0.5 else None
        raw = write_line(ts, event_type, category, source, details, metrics)
        out = AI.parse(raw[:-1], "ai_events.log", number)
        assert isinstance(out, Event), out
        assert out.ts == pytest.approx(ts, abs=1e-6)
        assert out.event_type == event_type
        assert out.source == (source or "unknown")
        assert out.tags == ((category,) if category else ())
        assert out.data["details"] == details
        assert out.data["system_metrics"] == metrics
        assert out.item_id == (str(details["item_id"]) if "item_id" in details else None)
        assert AI.timestamp(raw[:-1]) == out.ts
