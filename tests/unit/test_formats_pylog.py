"""Plain-text job and stage logs (CONTRACT §2.4): records, tracebacks, sources, the writer."""

from __future__ import annotations

import random

import pytest

from oos_tui.formats.pylog import PYLOG, source_for_path, write_record
from oos_tui.models import Event, ParseError, Severity

T = 1_759_111_219.48
STAGE_LOG = "/ws/out/job-7/05_asr/stage.log"
PIPELINE_LOG = "/ws/out/job-7/logs/99_pipeline_20250929T020019.log"


def parse(raw: bytes, file: str = STAGE_LOG) -> Event | ParseError:
    return PYLOG.parse(raw, file, 12, 400)


def event(raw: bytes, file: str = STAGE_LOG) -> Event:
    out = parse(raw, file)
    assert isinstance(out, Event), out
    return out


def error(raw: bytes) -> ParseError:
    out = parse(raw)
    assert isinstance(out, ParseError), out
    assert (out.file, out.line, out.offset, out.kind) == (STAGE_LOG, 12, 400, "job")
    return out


def test_level_only_shape_every_field() -> None:
    raw = b"2025-09-29 02:00:19,480 - INFO - Starting ASR on 3 segments"
    e = event(raw)
    assert e.ts == pytest.approx(T)
    assert e.severity is Severity.INFO
    assert e.kind == "job"
    assert e.source == "job-7/05_asr"
    assert e.event_type == "log"
    assert e.message == "Starting ASR on 3 segments"
    assert (e.item_id, e.correlation_id, e.data) == (None, None, None)
    assert (e.file, e.line, e.offset) == (STAGE_LOG, 12, 400)
    assert e.raw == raw.decode()
    assert e.tags == ()


def test_logger_shape() -> None:
    e = event(b"2025-09-29 02:00:19,480 - oos.asr.worker - WARNING - slow - 12s", "job.log")
    assert e.severity is Severity.WARNING
    assert e.message == "slow - 12s"
    assert e.data == {"logger": "oos.asr.worker"}
    assert e.source == "oos.asr.worker"


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        ("DEBUG", Severity.DEBUG),
        ("INFO", Severity.INFO),
        ("WARNING", Severity.WARNING),
        ("WARN", Severity.WARNING),
        ("ERROR", Severity.ERROR),
        ("CRITICAL", Severity.CRITICAL),
        ("FATAL", Severity.CRITICAL),
        ("error", Severity.ERROR),
    ],
)
def test_levels(level: str, severity: Severity) -> None:
    assert event(f"2025-09-29 02:00:19,480 - {level} - m".encode()).severity is severity


def test_unknown_shape_keeps_the_text_as_info() -> None:
    e = event(b"2025-09-29 02:00:19,480 - something without a level")
    assert (e.severity, e.message, e.data) == (Severity.INFO, "something without a level", None)
    e = event(b"2025-09-29 02:00:19,480 ERROR no dashes here")
    assert (e.severity, e.message) == (Severity.ERROR, "no dashes here")
    e = event(b"2025-09-29 02:00:19,480 - INFO - ")
    assert (e.severity, e.message) == (Severity.INFO, "")
    e = event(b"2025-09-29 02:00:19,480")
    assert (e.severity, e.message) == (Severity.INFO, "")


def test_traceback_record_keeps_every_line() -> None:
    raw = (
        b"2025-09-29 02:00:19,480 - oos.asr - ERROR - Stage failed\n"
        b"Traceback (most recent call last):\n"
        b'  File "/app/asr.py", line 10, in run\n'
        b"    model.transcribe(x)\n"
        b"RuntimeError: CUDA out of memory"
    )
    e = event(raw)
    assert e.severity is Severity.ERROR
    assert e.message == (
        "Stage failed\nTraceback (most recent call last):\n"
        '  File "/app/asr.py", line 10, in run\n    model.transcribe(x)\n'
        "RuntimeError: CUDA out of memory"
    )
    assert e.raw == raw.decode()
    assert e.data == {"logger": "oos.asr"}
    assert e.source == "job-7/05_asr"
    assert PYLOG.timestamp(raw) == pytest.approx(T)


def test_crlf_records() -> None:
    raw = b"2025-09-29 02:00:19,480 - ERROR - boom\r\nTraceback:\r\n  x\r"
    e = event(raw)
    assert e.message == "boom\nTraceback:\n  x"
    assert e.raw == "2025-09-29 02:00:19,480 - ERROR - boom\nTraceback:\n  x"
    assert PYLOG.starts_record(b"2025-09-29 02:00:19,480\r")


def test_invalid_utf8_is_replaced() -> None:
    e = event(b"2025-09-29 02:00:19,480 - INFO - caf\xe9\n\xff\xfe")
    assert e.message == "caf\ufffd\n\ufffd\ufffd"


@pytest.mark.parametrize(
    ("line", "starts"),
    [
        (b"2025-09-29 02:00:19,480 - INFO - m", True),
        (b"2025-09-29 02:00:19.480 - INFO - m", True),
        (b"2025-09-29 02:00:19 - INFO - m", True),
        (b"2025-09-29T02:00:19.480Z - INFO - m", True),
        (b"2025-09-29T02:00:19.480+02:00 - INFO - m", True),
        (b"2025-09-29 02:00:19,480", True),
        (b"Traceback (most recent call last):", False),
        (b'  File "x.py", line 1', False),
        (b"", False),
        (b" 2025-09-29 02:00:19,480 - INFO - m", False),
        (b"2025-09-29 02:00:19,480xyz - INFO", False),
        (b"2025-13-29 02:00:19,480 - INFO - m", False),
        (b"2025-09-29", False),
        (b"\xff\xfe", False),
    ],
)
def test_starts_record(line: bytes, starts: bool) -> None:
    assert PYLOG.starts_record(line) is starts


@pytest.mark.parametrize(
    ("text", "ts"),
    [
        ("2025-09-29 02:00:19,480", T),
        ("2025-09-29 02:00:19.480", T),
        ("2025-09-29T02:00:19.480Z", T),
        ("2025-09-29T04:00:19.480+02:00", T),
        ("2025-09-29 02:00:19", T - 0.48),
    ],
)
def test_timestamp_shapes(text: str, ts: float) -> None:
    raw = f"{text} - INFO - m".encode()
    assert event(raw).ts == pytest.approx(ts)
    assert PYLOG.timestamp(raw) == pytest.approx(ts)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty line"),
        (b"  \n ", "empty line"),
        (b"Traceback (most recent call last):\n  File x", "continuation line without a record"),
        (b"    at line 3", "continuation line without a record"),
        (b"2025-19-29 02:00:19,480 - INFO - m", "bad timestamp '2025-19-29 02:00:19,480'"),
    ],
)
def test_malformed_records(raw: bytes, reason: str) -> None:
    err = error(raw)
    assert err.reason == reason
    assert err.raw == raw.decode()


def test_timestamp_of_a_continuation_is_none() -> None:
    assert PYLOG.timestamp(b"  File x") is None
    assert PYLOG.timestamp(b"") is None


def test_huge_record() -> None:
    body = b"\n".join(b"  frame %d" % i for i in range(300_000))
    raw = b"2025-09-29 02:00:19,480 - ERROR - big\n" + body
    assert len(raw) > 3_000_000
    e = event(raw)
    assert e.message.count("\n") == 300_000


@pytest.mark.parametrize(
    ("file", "source"),
    [
        ("/ws/out/job-7/05_asr/stage.log", "job-7/05_asr"),
        ("out/job-7/05_asr/stage.log", "job-7/05_asr"),
        ("C:\\ws\\out\\job-7\\05_asr\\stage.log", "job-7/05_asr"),
        ("/ws/out/job-7/logs/99_pipeline_20250929.log", "job-7/pipeline"),
        ("out/job-7/logs/run.log", "job-7/pipeline"),
        ("/elsewhere/job-7/logs/99_pipeline_x.log", "job-7/pipeline"),
        ("/ws/out/job-7/asr/stage.log", None),
        ("/ws/logs/app.log", None),
        ("stage.log", None),
    ],
)
def test_source_for_path(file: str, source: str | None) -> None:
    assert source_for_path(file) == source


def test_source_falls_back_to_logger_then_file_stem() -> None:
    assert event(b"2025-09-29 02:00:19,480 - lg - INFO - m", "/tmp/misc.log").source == "lg"
    assert event(b"2025-09-29 02:00:19,480 - INFO - m", "/tmp/misc.log").source == "misc"
    assert (
        event(b"2025-09-29 02:00:19,480 - lg - INFO - m", PIPELINE_LOG).source == "job-7/pipeline"
    )


# -- writer -----------------------------------------------------------------------------------


def test_writer_shapes() -> None:
    assert write_record(T, "INFO", "hello") == b"2025-09-29 02:00:19,480 - INFO - hello\n"
    assert write_record(T, Severity.WARNING, "w", "oos.x") == (
        b"2025-09-29 02:00:19,480 - oos.x - WARNING - w\n"
    )
    assert write_record(T, "warn", "w") == b"2025-09-29 02:00:19,480 - WARN - w\n"
    assert write_record(T, "ERROR", "a\n  b") == b"2025-09-29 02:00:19,480 - ERROR - a\n  b\n"


@pytest.mark.parametrize(
    ("level", "message", "logger"),
    [
        ("LOUD", "m", None),
        ("INFO", "m", "a - b"),
        ("INFO", "m", "a\nb"),
        ("INFO", "m", "ERROR"),
        ("INFO", "first\n2025-09-29 02:00:19,480 - INFO - forged", None),
    ],
)
def test_writer_refuses_what_would_read_back_differently(
    level: str, message: str, logger: str | None
) -> None:
    with pytest.raises(ValueError):
        write_record(T, level, message, logger)


def _group(data: bytes) -> list[tuple[int, bytes]]:
    records: list[tuple[int, bytes]] = []
    for number, line in enumerate(data.split(b"\n")[:-1], 1):
        if PYLOG.starts_record(line) or not records:
            records.append((number, line))
        else:
            first, body = records[-1]
            records[-1] = (first, body + b"\n" + line)
    return records


def test_writer_parser_round_trip_through_record_grouping() -> None:
    rng = random.Random(3)
    pieces = ["plain", "with - dash", "ünï", "Traceback (most recent call last):", "  File x"]
    pieces += ["", "ERROR - looks like a level", "2025 almost a date", "\t tab"]
    written = []
    for _ in range(800):
        ts = rng.uniform(0, 4_000_000_000)
        level = rng.choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
        lines = [rng.choice(pieces) for _ in range(rng.choice([1, 1, 1, 2, 5]))]
        message = "\n".join(lines)
        logger = rng.choice([None, "oos", "oos.asr", "my logger"])
        written.append((ts, level, message, logger))
    data = b"".join(write_record(*w) for w in written)
    records = _group(data)
    assert len(records) == len(written)
    for (number, raw), (ts, level, message, logger) in zip(records, written, strict=True):
        out = PYLOG.parse(raw, STAGE_LOG, number)
        assert isinstance(out, Event), out
        assert out.ts == pytest.approx(ts, abs=0.0005 + 1e-6)
        assert out.severity is Severity[level]
        assert out.message == message
        assert out.data == ({"logger": logger} if logger else None)
        assert out.line == number
        assert PYLOG.timestamp(raw) == out.ts
