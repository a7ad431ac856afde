"""``oos.log`` (CONTRACT §2.1): every field of the Event, every malformed shape, the writer."""

from __future__ import annotations

import random
import string

import orjson
import pytest

from oos_tui.formats.pipe import PIPE, write_line
from oos_tui.models import Event, ParseError, Severity

T = 1_759_111_219.48
CONTRACT_LINE = (
    b"2025-09-29T02:00:19.480Z|DISCOVER|podcast|TechPodcast|TechPodcast_001|"
    b'{"url":"https://feeds.example.com/ai","title":"AI Revolution"}'
)


def parse(raw: bytes, line: int = 5, offset: int | None = 100) -> Event | ParseError:
    return PIPE.parse(raw, "oos.log", line, offset)


def event(raw: bytes) -> Event:
    out = parse(raw)
    assert isinstance(out, Event), out
    return out


def error(raw: bytes) -> ParseError:
    out = parse(raw)
    assert isinstance(out, ParseError), out
    assert (out.file, out.line, out.offset, out.kind) == ("oos.log", 5, 100, "oos")
    return out


def test_contract_example_every_field() -> None:
    e = event(CONTRACT_LINE)
    assert e.ts == pytest.approx(T)
    assert e.severity is Severity.INFO
    assert e.kind == "oos"
    assert e.source == "TechPodcast"
    assert e.event_type == "DISCOVER"
    assert e.message == "AI Revolution"
    assert e.item_id == "TechPodcast_001"
    assert e.correlation_id is None
    assert e.data == {"url": "https://feeds.example.com/ai", "title": "AI Revolution"}
    assert (e.file, e.line, e.offset) == ("oos.log", 5, 100)
    assert e.raw == CONTRACT_LINE.decode()
    assert e.tags == ("podcast",)


@pytest.mark.parametrize(
    ("event_type", "severity"),
    [
        ("DISCOVER", Severity.INFO),
        ("PROCESS", Severity.INFO),
        ("COMPLETE", Severity.INFO),
        ("FAIL", Severity.ERROR),
        ("RETRY", Severity.WARNING),
        ("SKIP", Severity.INFO),
        ("CUSTOM_THING", Severity.INFO),
    ],
)
def test_severity_by_event_type(event_type: str, severity: Severity) -> None:
    e = event(write_line(T, event_type, "podcast", "s", "i", {}).rstrip(b"\n"))
    assert e.severity is severity
    assert e.event_type == event_type


def test_fail_message_is_the_error() -> None:
    data = {"error": "HTTP 503", "message": "ignored", "title": "t", "correlation_id": "c-1"}
    e = event(write_line(T, "FAIL", "podcast", "s", "i", data).rstrip(b"\n"))
    assert e.message == "HTTP 503"
    assert e.correlation_id == "c-1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"message": "m", "title": "t", "url": "u"}, "m"),
        ({"title": "t", "url": "u"}, "t"),
        ({"url": "u"}, "u"),
        ({"message": "", "title": "t"}, "t"),
        ({"message": 5, "url": "u"}, "u"),
        ({"error": "only FAIL uses error"}, ""),
        ({}, ""),
        ([1, 2, 3], ""),
        ("a string", ""),
        (None, ""),
    ],
)
def test_message_fallbacks(data: object, message: str) -> None:
    e = event(write_line(T, "PROCESS", "podcast", "s", "i", data).rstrip(b"\n"))
    assert e.message == message
    assert e.data == data


def test_fail_without_error_string_falls_back() -> None:
    e = event(write_line(T, "FAIL", "", "s", "", {"error": {"code": 3}, "title": "t"})[:-1])
    assert e.message == "t"


def test_empty_item_id_and_content_type() -> None:
    e = event(b'2025-09-29T02:00:19.480Z|SKIP|||| {"a": 1}')
    assert e.item_id is None
    assert e.tags == ()
    assert e.source == ""


def test_numeric_correlation_id_is_text() -> None:
    assert event(b'2025-09-29T02:00:19Z|X|p|s|i|{"correlation_id": 12}').correlation_id == "12"
    assert event(b'2025-09-29T02:00:19Z|X|p|s|i|{"correlation_id": ""}').correlation_id is None
    assert event(b'2025-09-29T02:00:19Z|X|p|s|i|{"correlation_id": [1]}').correlation_id is None


def test_pipes_inside_the_json_stay_in_the_json() -> None:
    e = event(b'2025-09-29T02:00:19.480Z|FAIL|p|s|i|{"error":"a|b|c|d|e|f","x":"||"}')
    assert e.data == {"error": "a|b|c|d|e|f", "x": "||"}
    assert e.message == "a|b|c|d|e|f"


@pytest.mark.parametrize(
    ("text", "ts"),
    [
        ("2025-09-29T02:00:19.480Z", T),
        ("2025-09-29T04:00:19.480+02:00", T),
        ("2025-09-29T02:00:19.480", T),
        ("2025-09-29 02:00:19,480", T),
    ],
)
def test_timestamp_shapes(text: str, ts: float) -> None:
    raw = f'{text}|PROCESS|p|s|i|{{"a":1}}'.encode()
    assert event(raw).ts == pytest.approx(ts)
    assert PIPE.timestamp(raw) == pytest.approx(ts)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty line"),
        (b"   \t ", "empty line"),
        (b"2025-09-29T02:00:19Z|PROCESS|p", "expected 6 |-separated fields, got 3"),
        (b"no pipes at all", "expected 6 |-separated fields, got 1"),
        (b"2025-09-29T02:00:19Z|PROCESS|p|s|i", "expected 6 |-separated fields, got 5"),
        (b'xyz|PROCESS|p|s|i|{"a":1}', "bad timestamp 'xyz'"),
        (b'|PROCESS|p|s|i|{"a":1}', "missing timestamp"),
        (b' |PROCESS|p|s|i|{"a":1}', "missing timestamp"),
        (b'2025-09-29T25:00:00Z|PROCESS|p|s|i|{"a":1}', "bad timestamp '2025-09-29T25:00:00Z'"),
        (b"2025-09-29T02:00:19Z|PROCESS|p|s|i|", "empty data_json"),
        (b"2025-09-29T02:00:19Z|PROCESS|p|s|i|  ", "empty data_json"),
        (b'2025-09-29T02:00:19Z|PROCESS|p|s|i|{"a":', "data_json: unexpected end of data"),
        (b"2025-09-29T02:00:19Z|PROCESS|p|s|i|{'a': 1}", "data_json: "),
        (b"2025-09-29T02:00:19Z|PROCESS|p|s|i|not json", "data_json: "),
        (b'2025-09-29T02:00:19Z|PROCESS|p|s|i|{"a":1} trailing', "data_json: "),
        (b"2025-09-29T02:00:19Z|PROCESS|p|s|i|NaN", "data_json: "),
        (b"2025-09-29T02:00:19Z|PROCESS|p|s|i|\x00", "data_json: "),
    ],
)
def test_malformed_lines_are_parse_errors(raw: bytes, reason: str) -> None:
    err = error(raw)
    assert err.reason.startswith(reason)
    assert err.raw == raw.decode("utf-8", "replace")


def test_partial_line_is_a_parse_error() -> None:
    full = write_line(T, "PROCESS", "podcast", "s", "i", {"title": "x" * 50}).rstrip(b"\n")
    for cut in range(1, len(full)):
        assert isinstance(parse(full[:cut]), ParseError)


def test_invalid_utf8_is_replaced_everywhere() -> None:
    raw = b'2025-09-29T02:00:19Z|PROCESS|p\xff|So\xe9urce|i\xc3|{"title":"caf\xe9 \xff"}'
    e = event(raw)
    assert e.source == "So\ufffdurce"
    assert e.tags == ("p\ufffd",)
    assert e.item_id == "i\ufffd"
    assert e.message == "caf\ufffd \ufffd"
    assert e.raw == raw.decode("utf-8", "replace")


def test_crlf_line_end_is_dropped() -> None:
    e = event(CONTRACT_LINE + b"\r")
    assert e.raw == CONTRACT_LINE.decode()
    assert e.data["title"] == "AI Revolution"
    err = error(b"broken\r")
    assert err.raw == "broken"


def test_multi_megabyte_data_json() -> None:
    big = {"error": "x" * (5 * 1024 * 1024), "items": list(range(1000))}
    raw = write_line(T, "FAIL", "podcast", "s", "i", big).rstrip(b"\n")
    assert len(raw) > 5 * 1024 * 1024
    e = event(raw)
    assert e.message == big["error"]
    assert e.data == big
    assert PIPE.timestamp(raw) == pytest.approx(T)


def test_timestamp_is_cheap_and_forgiving() -> None:
    assert PIPE.timestamp(CONTRACT_LINE) == pytest.approx(T)
    assert PIPE.timestamp(b"2025-09-29T02:00:19.480Z|broken") == pytest.approx(T)
    assert PIPE.timestamp(b"|x|y") is None
    assert PIPE.timestamp(b"no pipe") is None
    assert PIPE.timestamp(b"") is None
    assert PIPE.timestamp(b"garbage\xff|x") is None


# -- writer -----------------------------------------------------------------------------------


def test_writer_format() -> None:
    line = write_line(T, "DISCOVER", "podcast", "TechPodcast", "TechPodcast_001", {"title": "A"})
    assert (
        line
        == b'2025-09-29T02:00:19.480Z|DISCOVER|podcast|TechPodcast|TechPodcast_001|{"title":"A"}\n'
    )
    assert write_line(T, "SKIP", "", "s", None, None).endswith(b"|s||null\n")


@pytest.mark.parametrize("field", [0, 1, 2, 3])
@pytest.mark.parametrize("bad", ["a|b", "a\nb", "a\rb"])
def test_writer_refuses_separators_in_the_first_fields(field: int, bad: str) -> None:
    fields = ["PROCESS", "podcast", "source", "item"]
    fields[field] = bad
    with pytest.raises(ValueError):
        write_line(T, *fields, {})


def test_writer_escapes_newlines_in_data() -> None:
    line = write_line(T, "FAIL", "p", "s", "i", {"error": "a\nb\r\nc|d"})
    assert line.count(b"\n") == 1
    assert event(line.rstrip(b"\n")).message == "a\nb\r\nc|d"


def test_writer_refuses_unserialisable_data() -> None:
    with pytest.raises(TypeError):
        write_line(T, "FAIL", "p", "s", "i", {"error": object()})


def _random_text(rng: random.Random, forbid: str = "") -> str:
    alphabet = string.ascii_letters + string.digits + " _-.:/é漢🙂\t\"'{}[]" + "|\n\r\\"
    alphabet = "".join(c for c in alphabet if c not in forbid)
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 20)))


def _random_json(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(
            [None, True, False, rng.randrange(-(10**12), 10**12), rng.random(), _random_text(rng)]
        )
    if roll < 0.6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {_random_text(rng): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_writer_parser_round_trip() -> None:
    rng = random.Random(2025)
    for number in range(1, 1500):
        ts = rng.uniform(0, 4_000_000_000)
        fields = [_random_text(rng, forbid="|\n\r") for _ in range(4)]
        data = _random_json(rng)
        if rng.random() < 0.5:
            data = {"error": _random_text(rng), "correlation_id": _random_text(rng), "x": data}
        line = write_line(ts, *fields, data)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        out = PIPE.parse(line[:-1], "oos.log", number)
        assert isinstance(out, Event), (line, out)
        event_type, content_type, source, item_id = fields
        assert out.ts == pytest.approx(ts, abs=0.0005 + 1e-6)
        assert (out.event_type, out.source) == (event_type, source)
        assert out.item_id == (item_id or None)
        assert out.tags == ((content_type,) if content_type else ())
        assert out.data == orjson.loads(orjson.dumps(data))
        assert out.line == number
        if isinstance(data, dict) and event_type == "FAIL":
            assert out.message == data["error"] or not data["error"]
        assert PIPE.timestamp(line[:-1]) == out.ts


def test_reason_stays_short_for_a_huge_bad_field() -> None:
    err = error(b"x" * 1_000_000 + b'|PROCESS|p|s|i|{"a":1}')
    assert err.reason.startswith("bad timestamp 'xxx")
    assert len(err.reason) < 80
    assert len(err.raw) > 1_000_000
