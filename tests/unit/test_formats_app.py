"""``logs/*.log`` (CONTRACT §2.3): application and container lines, malformed shapes, writers."""

from __future__ import annotations

import random

import orjson
import pytest

from oos_tui.formats.applog import APP, write_container_line, write_line
from oos_tui.models import Event, ParseError, Severity

T = 1_759_111_219.48
CONTRACT_LINE = (
    b'{"timestamp": "2024-03-21T10:30:00.123Z", "level": "INFO", "source": "worker",'
    b' "message": "Task started", "context": {"request_id": "req-1"}, "metadata": {"task_id": 42}}'
)


def line(**fields: object) -> bytes:
    return orjson.dumps({"timestamp": "2025-09-29T02:00:19.480Z", **fields})


def parse(raw: bytes) -> Event | ParseError:
    return APP.parse(raw, "logs/worker.log", 3, 77)


def event(raw: bytes) -> Event:
    out = parse(raw)
    assert isinstance(out, Event), out
    return out


def error(raw: bytes) -> ParseError:
    out = parse(raw)
    assert isinstance(out, ParseError), out
    assert (out.file, out.line, out.offset, out.kind) == ("logs/worker.log", 3, 77, "app")
    return out


def test_contract_example_every_field() -> None:
    e = event(CONTRACT_LINE)
    assert e.ts == pytest.approx(1_711_017_000.123)
    assert e.severity is Severity.INFO
    assert e.kind == "app"
    assert e.source == "worker"
    assert e.event_type == "log"
    assert e.message == "Task started"
    assert e.item_id is None
    assert e.correlation_id == "req-1"
    assert e.data == orjson.loads(CONTRACT_LINE)
    assert (e.file, e.line, e.offset) == ("logs/worker.log", 3, 77)
    assert e.raw == CONTRACT_LINE.decode()
    assert e.tags == ()


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("DEBUG", Severity.DEBUG),
        ("INFO", Severity.INFO),
        ("WARNING", Severity.WARNING),
        ("WARN", Severity.WARNING),
        ("warning", Severity.WARNING),
        ("ERROR", Severity.ERROR),
        ("error", Severity.ERROR),
        ("CRITICAL", Severity.CRITICAL),
        ("fatal", Severity.CRITICAL),
        ("NONSENSE", Severity.INFO),
        (30, Severity.INFO),
        (None, Severity.INFO),
    ],
)
def test_severity_from_level(level: object, severity: Severity) -> None:
    assert event(line(level=level, source="s", message="m")).severity is severity


def test_container_line() -> None:
    raw = line(service_name="redis", content="Ready to accept connections", stream="stdout")
    e = event(raw)
    assert e.source == "redis"
    assert e.message == "Ready to accept connections"
    assert e.event_type == "container"
    assert e.severity is Severity.INFO
    assert e.data == orjson.loads(raw)


def test_container_stderr_without_level_is_a_warning() -> None:
    assert event(line(service_name="r", content="x", stream="stderr")).severity is Severity.WARNING
    assert event(line(service_name="r", content="x")).severity is Severity.INFO
    with_level = line(service_name="r", content="x", stream="stderr", level="ERROR")
    assert event(with_level).severity is Severity.ERROR
    # an application line's stream does not matter
    app = line(source="s", message="m", stream="stderr")
    assert event(app).severity is Severity.INFO


def test_event_type_from_the_object() -> None:
    assert event(line(message="m", event="task_done")).event_type == "task_done"
    assert event(line(message="m", event_type="t2")).event_type == "t2"
    assert event(line(content="c", event="boot")).event_type == "boot"
    assert event(line(message="m", event="")).event_type == "log"


def test_source_and_message_fallbacks() -> None:
    e = event(line())
    assert (e.source, e.message, e.event_type) == ("unknown", "", "log")
    e = event(line(source="", service_name="svc", message=None, content="c"))
    assert (e.source, e.message) == ("svc", "c")
    assert event(line(message={"k": [1, 2]})).message == '{"k":[1,2]}'
    assert event(line(message=12)).message == "12"


def test_correlation_and_item_ids() -> None:
    e = event(line(context={"correlation_id": "c1"}, metadata={"item_id": 7}))
    assert (e.correlation_id, e.item_id) == ("c1", "7")
    e = event(line(context={"request_id": "r", "correlation_id": "c", "item_id": "ci"}))
    assert (e.correlation_id, e.item_id) == ("r", "ci")
    e = event(line(correlation_id="top", item_id=5, context="not a dict", metadata=[1]))
    assert (e.correlation_id, e.item_id) == ("top", "5")
    e = event(line(metadata={"item_id": "meta"}, context={"item_id": "ctx"}, item_id="top"))
    assert e.item_id == "meta"


@pytest.mark.parametrize(
    ("text", "ts"),
    [
        ("2025-09-29T02:00:19.480Z", T),
        ("2025-09-29T02:00:19.480", T),
        ("2025-09-29T03:00:19.480+01:00", T),
        ("2025-09-29 02:00:19,480", T),
    ],
)
def test_timestamp_shapes(text: str, ts: float) -> None:
    raw = line(timestamp=text, message="m")
    assert event(raw).ts == pytest.approx(ts)
    assert APP.timestamp(raw) == pytest.approx(ts)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty line"),
        (b"\t", "empty line"),
        (b"[]", "not a JSON object"),
        (b"true", "not a JSON object"),
        (b'{"level": "INFO", "message": "m"}', "missing timestamp"),
        (b'{"timestamp": "yesterday", "message": "m"}', "bad timestamp 'yesterday'"),
        (b'{"timestamp": {"s": 1}, "message": "m"}', "bad timestamp {'s': 1}"),
        (b'{"timestamp": "2025-09-29T02:00:19Z", "message": "m"', "unexpected end of data"),
        (b"plain text log line", "unexpected character"),
    ],
)
def test_malformed_lines_are_parse_errors(raw: bytes, reason: str) -> None:
    err = error(raw)
    assert err.reason.startswith(reason), err.reason
    assert err.raw == raw.decode()


def test_partial_line_is_a_parse_error() -> None:
    full = write_line(T, "INFO", "worker", "started", {"request_id": "r"}).rstrip(b"\n")
    for cut in range(1, len(full)):
        assert isinstance(parse(full[:cut]), ParseError)


def test_invalid_utf8_and_crlf() -> None:
    raw = b'{"timestamp":"2025-09-29T02:00:19.480Z","level":"ERROR","source":"w","message":"\xff!"}'
    e = event(raw + b"\r")
    assert e.message == "\ufffd!"
    assert e.raw == raw.decode("utf-8", "replace")
    assert e.severity is Severity.ERROR


def test_multi_megabyte_line() -> None:
    big = "z" * (5 * 1024 * 1024)
    raw = write_line(T, "ERROR", "worker", big, metadata={"item_id": "i"}).rstrip(b"\n")
    e = event(raw)
    assert e.message == big
    assert e.item_id == "i"
    assert APP.timestamp(raw) == pytest.approx(T)


# -- writers ----------------------------------------------------------------------------------


def test_write_line_shape() -> None:
    raw = write_line(T, "INFO", "worker", "Task started", {"request_id": "r"}, {"task_id": 42})
    assert raw == (
        b'{"timestamp":"2025-09-29T02:00:19.480Z","level":"INFO","source":"worker",'
        b'"message":"Task started","context":{"request_id":"r"},"metadata":{"task_id":42}}\n'
    )
    obj = orjson.loads(write_line(T, "INFO", "w", "m", host="h"))
    assert (obj["context"], obj["metadata"], obj["host"]) == ({}, {}, "h")
    with pytest.raises(ValueError, match="timestamp"):
        write_line(T, "INFO", "w", "m", timestamp="2020-01-01T00:00:00Z")


def test_write_container_line_shape() -> None:
    raw = write_container_line(T, None, "redis", "hello", stream="stderr")
    assert raw == (
        b'{"timestamp":"2025-09-29T02:00:19.480Z","service_name":"redis",'
        b'"content":"hello","stream":"stderr"}\n'
    )
    assert orjson.loads(write_container_line(T, "ERROR", "r", "c"))["level"] == "ERROR"
    with pytest.raises(ValueError, match="timestamp"):
        write_container_line(T, None, "r", "c", timestamp="2020-01-01T00:00:00Z")


def test_writers_parser_round_trip() -> None:
    rng = random.Random(5)
    texts = ["", "x", "multi\nline", 'quote " and \\', "ünï", "{not json}", "a|b"]
    levels = {"DEBUG": Severity.DEBUG, "INFO": Severity.INFO, "WARNING": Severity.WARNING}
    levels |= {"ERROR": Severity.ERROR, "CRITICAL": Severity.CRITICAL}
    for number in range(1, 1000):
        ts = rng.uniform(0, 4_000_000_000)
        level = rng.choice(list(levels))
        message = rng.choice(texts) * rng.randrange(1, 4)
        source = rng.choice(["worker", "api"])
        if rng.random() < 0.3:
            stream = rng.choice(["stdout", "stderr"])
            raw = write_container_line(ts, None, source, message, stream=stream)
            expected = Severity.WARNING if stream == "stderr" else Severity.INFO
            kind = "container"
        else:
            context = {"request_id": f"r{number}"}
            raw = write_line(ts, level, source, message, context, {"item_id": number})
            expected = levels[level]
            kind = "log"
        out = APP.parse(raw[:-1], "logs/x.log", number)
        assert isinstance(out, Event), out
        assert out.ts == pytest.approx(ts, abs=0.0005 + 1e-6)
        assert (out.source, out.message, out.severity, out.event_type) == (
            source,
            message,
            expected,
            kind,
        )
        if kind == "log":
            assert (out.correlation_id, out.item_id) == (f"r{number}", str(number))
        assert APP.timestamp(raw[:-1]) == out.ts
