"""The demo's log writing: through the format writers, a few lines damaged, held until commit."""

from __future__ import annotations

import random
from pathlib import Path

from oos_tui.demo.logs import Logs
from oos_tui.formats import get_format
from oos_tui.models import ParseError

T0 = 1_735_689_600.0


def _logs(tmp_path: Path, share: float) -> Logs:
    return Logs(
        tmp_path,
        random.Random(1),
        malformed_share=share,
        rotate_bytes=1 << 20,
        app_rotate_bytes=1 << 20,
    )


def _write_some(logs: Logs, n: int) -> None:
    for i in range(n):
        ts = T0 + i
        logs.pipe(ts, "DISCOVER", "podcast", "TechPodcast", f"TechPodcast_{i}", {"url": "u"})
        logs.ai(ts, "decision", "ai", "summarizer", {"action": "x", "correlation_id": "wf-1"})
        logs.app_line("worker", ts, "INFO", "worker_1", "Task started", {"request_id": "wf-1"})
        logs.container(ts, None, "postgres", "LOG:  checkpoint", "stderr")


def _parse_all(path: Path, fmt: str) -> list[object]:
    lines = path.read_bytes().splitlines()
    return [get_format(fmt).parse(raw, str(path), n) for n, raw in enumerate(lines, 1)]


def test_every_line_reads_back_when_none_is_damaged(tmp_path: Path) -> None:
    logs = _logs(tmp_path, 0.0)
    _write_some(logs, 50)
    logs.close()
    for name, fmt in (("oos.log", "pipe"), ("ai_events.log", "ai"), ("logs/worker.log", "app")):
        parsed = _parse_all(tmp_path / name, fmt)
        assert len(parsed) == 50
        assert not any(isinstance(p, ParseError) for p in parsed)
    collector = _parse_all(tmp_path / "logs/collector.log", "app")
    assert all(getattr(e, "source", None) == "postgres" for e in collector)
    assert all(getattr(e, "severity", None).name == "WARNING" for e in collector)  # type: ignore[union-attr]


def test_damaged_lines_are_parse_errors_and_are_counted(tmp_path: Path) -> None:
    logs = _logs(tmp_path, 0.3)
    _write_some(logs, 200)
    logs.close()
    for name, fmt in (
        ("oos.log", "pipe"),
        ("ai_events.log", "ai"),
        ("logs/worker.log", "app"),
        ("logs/collector.log", "app"),
    ):
        parsed = _parse_all(tmp_path / name, fmt)
        errors = sum(isinstance(p, ParseError) for p in parsed)
        assert len(parsed) == 200  # damaged, never merged with the next line
        assert errors == logs.malformed[name] > 20
    reasons = {
        p.reason for p in _parse_all(tmp_path / "oos.log", "pipe") if isinstance(p, ParseError)
    }
    assert any("fields" in r for r in reasons) and any("data_json" in r for r in reasons)


def test_lines_held_for_a_transaction_are_written_on_commit_only(tmp_path: Path) -> None:
    logs = _logs(tmp_path, 0.0)
    logs.hold()
    logs.pipe(T0, "DISCOVER", "podcast", "A", "A_1", {})
    logs.discard()
    logs.hold()
    logs.pipe(T0, "DISCOVER", "podcast", "B", "B_1", {})
    assert (tmp_path / "oos.log").read_bytes() == b""
    logs.release()
    logs.close()
    assert (tmp_path / "oos.log").read_bytes().count(b"\n") == 1
    assert b"|B|B_1|" in (tmp_path / "oos.log").read_bytes()
    assert logs.counts()["oos.log"] == 1
