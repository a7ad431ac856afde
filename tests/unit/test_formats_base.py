"""The format registry, the shared helpers, and the never-raise promise of every parser."""

from __future__ import annotations

import dataclasses
import pickle
import random

import orjson
import pytest

from oos_tui.formats import FORMATS, LogFormat, ai, applog, get_format, pipe, pylog
from oos_tui.formats.base import (
    MAX_DEPTH,
    as_id,
    decode,
    format_ts,
    json_timestamp,
    text_ts,
    too_deep,
)
from oos_tui.models import Event, ParseError, Severity, _new_event
from oos_tui.timeutil import parse_ts

T = 1_759_111_219.48  # 2025-09-29T02:00:19.480Z


def test_registry_holds_the_four_line_formats() -> None:
    assert set(FORMATS) == {"pipe", "ai", "app", "pylog"}
    for name, fmt in FORMATS.items():
        assert isinstance(fmt, LogFormat)
        assert fmt.name == name
        assert get_format(name) is fmt
    assert {f.kind for f in FORMATS.values()} == {"oos", "ai", "app", "job"}
    assert [n for n, f in FORMATS.items() if f.multiline] == ["pylog"]


def test_get_format_unknown_is_a_key_error_naming_the_known_ones() -> None:
    with pytest.raises(KeyError, match="pipe"):
        get_format("syslog")


def test_single_line_formats_start_a_record_on_every_line() -> None:
    for name in ("pipe", "ai", "app"):
        assert get_format(name).starts_record(b"  continuation?")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-29T02:00:19.480Z", T),
        ("2025-09-29T02:00:19.480+00:00", T),
        ("2025-09-29T04:00:19.480+02:00", T),
        ("2025-09-28T21:00:19.480-05:00", T),
        ("2025-09-29T04:00:19.480+0200", T),
        ("2025-09-29T02:00:19.480", T),  # naive is UTC
        ("2025-09-29 02:00:19,480", T),  # Python logging
        ("2025-09-29t02:00:19.480z", T),  # lower case: parse_ts's territory
        ("2025-09-29T02:00:19.480000", T),
        ("2025-09-29T02:00:19Z", T - 0.48),
    ],
)
def test_text_ts_reads_every_contract_shape(text: str, expected: float) -> None:
    assert text_ts(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    ["", "xyz", "2025-13-01T00:00:00Z", "2025-09-29T25:00:00Z", "2025-09-29T02:00:²²Z", "²" * 30],
)
def test_text_ts_gives_none_for_non_timestamps(text: str) -> None:
    assert text_ts(text) is None


def test_text_ts_agrees_with_parse_ts() -> None:
    rng = random.Random(7)
    for _ in range(500):
        ts = rng.uniform(0, 4_000_000_000)
        for text in (
            format_ts(ts),
            format_ts(ts, digits=6, zulu=False),
            format_ts(ts, sep=" ", frac=",", zulu=False),
        ):
            assert text_ts(text) == pytest.approx(parse_ts(text), abs=1e-6)


def test_format_ts_rounds_to_the_nearest_unit_and_carries() -> None:
    assert format_ts(T) == "2025-09-29T02:00:19.480Z"
    assert format_ts(T + 0.0004999) == "2025-09-29T02:00:19.480Z"
    assert format_ts(1_759_111_219.9996) == "2025-09-29T02:00:20.000Z"
    assert format_ts(T, digits=6, zulu=False) == "2025-09-29T02:00:19.480000"
    assert format_ts(T, sep=" ", frac=",", zulu=False) == "2025-09-29 02:00:19,480"


def test_decode_replaces_invalid_bytes_and_drops_one_trailing_cr() -> None:
    assert decode(b"a\xffb\r") == "a\ufffdb"
    assert decode(b"a\r\r") == "a\r"
    assert decode(b"") == ""


def test_as_id() -> None:
    assert as_id("x") == "x"
    assert as_id("") is None
    assert as_id(42) == "42"
    assert as_id(None) is None
    assert as_id({"a": 1}) is None
    assert as_id(True) is None


def test_json_timestamp_finds_the_top_level_key_cheaply_or_by_parsing() -> None:
    assert json_timestamp(b'{"timestamp":"2025-09-29T02:00:19.480Z","a":1}') == pytest.approx(T)
    assert json_timestamp(b'{"timestamp": "2025-09-29T02:00:19.480Z"}') == pytest.approx(T)
    assert json_timestamp(b'{"a": 1, "timestamp" : "2025-09-29T02:00:19.480Z"}') == pytest.approx(T)
    nested_first = (
        b'{"d":{"timestamp":"2000-01-01T00:00:00Z"},"timestamp":"2025-09-29T02:00:19.480Z"}'
    )
    assert json_timestamp(nested_first) == pytest.approx(T)
    as_value = b'{"k":"timestamp","timestamp":"2025-09-29T02:00:19.480Z"}'
    assert json_timestamp(as_value) == pytest.approx(T)
    escaped = b'{"timestamp":"2025-09-29T02:00:19.480\\u005a"}'
    assert json_timestamp(escaped) == pytest.approx(T)
    assert json_timestamp(b'{"timestamp": 12}') is None
    assert json_timestamp(b'{"a": 1}') is None
    assert json_timestamp(b'{"timestamp":"2025-09-29T02:00') is None
    assert json_timestamp(b"") is None
    assert json_timestamp(b"[1, 2]") is None


def test_too_deep() -> None:
    assert not too_deep({"a": [1, {"b": []}]})
    assert not too_deep(orjson.loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH))
    assert too_deep(orjson.loads(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)))
    assert not too_deep([{} for _ in range(10_000)])


def test_fast_event_constructor_builds_an_ordinary_frozen_event() -> None:
    args = dict(
        ts=T,
        severity=Severity.ERROR,
        kind="oos",
        source="s",
        event_type="FAIL",
        message="m",
        item_id="i",
        correlation_id="c",
        data={"a": 1},
        file="f",
        line=3,
        offset=9,
        raw="r",
        tags=("t",),
    )
    fast = _new_event(*args.values())
    slow = Event(**args)  # type: ignore[arg-type]
    assert type(fast) is Event
    assert fast == slow
    assert dataclasses.asdict(fast) == dataclasses.asdict(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.message = "changed"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Event)] == list(args)
    assert hash(dataclasses.replace(fast, data=None)) == hash(dataclasses.replace(slow, data=None))


# -- never raise -------------------------------------------------------------------------------


def _samples() -> list[bytes]:
    return [
        pipe.write_line(T, "FAIL", "podcast", "Feed", "Feed_1", {"error": "boom", "n": [1, 2]}),
        ai.write_line(T, "error", "system", "svc", {"message": "x", "item_id": 3}, {"cpu": 1}),
        applog.write_line(T, "ERROR", "worker", "m", {"request_id": "r"}, {"item_id": 1}),
        applog.write_container_line(T, None, "redis", "out", stream="stderr"),
        pylog.write_record(T, "ERROR", "x\nTraceback (most recent call last):\n  boom", "lg"),
    ]


def _check_never_raises(fmt: LogFormat, raw: bytes) -> None:
    out = fmt.parse(raw, "f.log", 7, 11)
    assert isinstance(out, Event | ParseError)
    assert out.file == "f.log"
    assert out.line == 7
    assert out.offset == 11
    if isinstance(out, Event):
        orjson.dumps(out.to_json())
    else:
        assert out.kind == fmt.kind
        assert out.reason
    stamp = fmt.timestamp(raw)
    assert stamp is None or isinstance(stamp, float)
    assert isinstance(fmt.starts_record(raw), bool)


def test_random_bytes_never_make_a_parser_raise() -> None:
    rng = random.Random(20251127)
    alphabet = b'{}[]":,|\\-0123456789TZ .\r\n\x00\xff\xc3\xa9abc'
    for _ in range(3000):
        n = rng.randrange(0, 120)
        if rng.random() < 0.5:
            raw = bytes(rng.getrandbits(8) for _ in range(n))
        else:
            raw = bytes(rng.choice(alphabet) for _ in range(n))
        for fmt in FORMATS.values():
            _check_never_raises(fmt, raw)


def test_mutated_valid_lines_never_make_a_parser_raise() -> None:
    rng = random.Random(99)
    for sample in _samples():
        body = sample.rstrip(b"\n")
        cases = [body[:i] for i in range(len(body))]  # every truncation
        for _ in range(300):
            mutated = bytearray(body)
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(len(mutated))
                mutated[pos] = rng.getrandbits(8)
            cases.append(bytes(mutated))
        for raw in cases:
            for fmt in FORMATS.values():
                _check_never_raises(fmt, raw)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 1100, 100_000])
def test_deep_nesting_is_a_parse_error_not_a_crash(depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    for fmt, raw in (
        (pipe.PIPE, b"2025-09-29T02:00:19.480Z|FAIL|p|s|i|" + deep),
        (ai.AI, b'{"timestamp":"2025-09-29T02:00:19Z","event_type":"x","details":' + deep + b"}"),
        (applog.APP, b'{"timestamp":"2025-09-29T02:00:19Z","message":"m","context":' + deep + b"}"),
    ):
        out = fmt.parse(raw, "f", 1)
        assert isinstance(out, ParseError), fmt
        assert "deep" in out.reason or "depth" in out.reason or "nested" in out.reason
