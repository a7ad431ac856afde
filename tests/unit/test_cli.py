"""The CLI's exit codes, one-line errors and JSON output, through the real binary."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import orjson


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_help_and_version(run_cli) -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("init", "events", "status"):
        assert command in out.stdout
    assert run_cli("--version").stdout.startswith("oos-tui ")


def test_usage_error_is_exit_2_one_line(run_cli) -> None:
    out = run_cli("events", "--limit", "many")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "usage error" in out.stderr
    assert "Traceback" not in out.stderr
    out = run_cli("no-such-command")
    assert out.returncode == 2


def test_config_error_is_exit_2_naming_key_and_file(run_cli, tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text("[alerts]\nqueue_pendng = 3\n")
    out = run_cli("status", "-w", str(tmp_path))
    assert out.returncode == 2
    assert "queue_pendng" in out.stderr and "oos-tui.toml" in out.stderr
    assert out.stderr.count("\n") == 1


def test_init_creates_and_refuses_existing(run_cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    out = run_cli("init", "--workspace", str(ws))
    assert out.returncode == 0, out.stderr
    db = ws / "data" / "oos.db"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert {"tasks", "dead_letter", "circuit_breakers", "events", "operator_actions"} <= tables
    before = db.read_bytes()
    again = run_cli("init", "--workspace", str(ws))
    assert again.returncode == 1
    assert "already exists" in again.stderr and again.stderr.count("\n") == 1
    assert db.read_bytes() == before


# Status also checks the real host; these tests are about the store, so the
# host rules are switched off (they are tested with a fake psutil elsewhere).
QUIET_HOST = '[alerts]\ndisabled = ["disk_full", "load_high", "memory_low"]\n'


def test_workspace_from_environment(run_cli, tmp_path: Path) -> None:
    ws = tmp_path / "envws"
    ws.mkdir()
    (ws / "oos-tui.toml").write_text(QUIET_HOST)
    out = run_cli("status", "--json", env={"OOS_WORKSPACE": str(ws)})
    assert out.returncode == 0
    assert json.loads(out.stdout)["workspace"] == str(ws.resolve())


def test_status_without_store(run_cli, tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text(QUIET_HOST)
    out = run_cli("status", "--json", "-w", str(tmp_path))
    assert out.returncode == 0
    status = json.loads(out.stdout)
    assert status["store"]["present"] is False
    assert status["queues"] == [] and status["dead_letters"] == 0


def test_status_reports_queues_breakers_and_health(run_cli, tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text(QUIET_HOST)
    assert run_cli("init", "-w", str(tmp_path)).returncode == 0
    con = sqlite3.connect(tmp_path / "data" / "oos.db")
    now = "2025-09-29T02:00:00Z"
    for _ in range(3):
        con.execute(
            "INSERT INTO tasks(queue, task_type, status, created_at, updated_at) "
            "VALUES (?,?,?,?,?)",
            ("ingest", "fetch", "pending", now, now),
        )
    con.execute(
        "INSERT INTO tasks(id, queue, task_type, status, attempts, created_at, updated_at) "
        "VALUES (99,'asr','transcribe','failed',10,?,?)",
        (now, now),
    )
    con.execute(
        "INSERT INTO dead_letter(task_id, queue, task_type, payload, attempts, error, failed_at) "
        "VALUES (99,'asr','transcribe','{}',10,'boom',?)",
        (now,),
    )
    con.execute(
        "INSERT INTO circuit_breakers(name, state, consecutive_failures, updated_at) "
        "VALUES ('worker_1','open',10,?), ('feed','closed',0,?)",
        (now, now),
    )
    con.commit()
    con.close()
    out = run_cli("status", "--json", "-w", str(tmp_path))
    assert out.returncode == 1, out.stderr  # warnings fire: a breaker is open, no backup yet
    s = json.loads(out.stdout)
    assert {a["rule"] for a in s["alerts"]} >= {"breaker_open", "backup_stale"}
    depth = {q["queue"]: q["depth"] for q in s["queues"]}
    assert depth == {"asr": 0, "ingest": 3}
    assert s["tasks"] == {"failed": 1, "pending": 3}
    assert s["dead_letters"] == 1
    assert s["breakers"]["by_state"] == {"closed": 1, "open": 1, "half_open": 0}
    assert s["breakers"]["open"] == ["worker_1"]
    assert s["store"]["schema_version"] == 1 and s["store"]["wal"] is True
    text = run_cli("status", "-w", str(tmp_path))
    assert "ingest" in text.stdout and "worker_1" in text.stdout


def test_status_on_corrupt_store_is_critical_with_report(run_cli, tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text(QUIET_HOST)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "oos.db").write_bytes(b"this is not a database" * 100)
    out = run_cli("status", "-w", str(tmp_path))
    assert out.returncode == 2  # a critical alert: the store cannot be read
    assert "Traceback" not in out.stderr and out.stderr == ""
    assert "store" in out.stdout


def test_events_merged_by_time_with_parse_errors(run_cli, tmp_path: Path) -> None:
    (tmp_path / "oos.log").write_text(
        '2025-09-29T02:00:02.000Z|COMPLETE|podcast|Tech|T_1|{"title":"done"}\n'
        "not a pipe line\n"
        '2025-09-29T02:00:04.000Z|FAIL|podcast|Tech|T_2|{"error":"boom"}\n'
    )
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "worker.log").write_text(
        '{"timestamp":"2025-09-29T02:00:03Z","level":"WARNING","source":"worker","message":"slow"}\n'
        '{"timestamp":"2025-09-29T02:00:01Z","level":"INFO","source":"worker","message":"start"}\n'
        "{broken\n"
    )
    out = run_cli("events", "--json", "-w", str(tmp_path))
    assert out.returncode == 0, out.stderr
    rows = _lines(out.stdout)
    events = [r for r in rows if r["kind"] != "parse_error"]
    errors = [r for r in rows if r["kind"] == "parse_error"]
    assert [e["message"] for e in events] == ["start", "done", "slow", "boom"]
    required = {
        "timestamp",
        "severity",
        "kind",
        "source",
        "event_type",
        "message",
        "item_id",
        "correlation_id",
        "file",
        "line",
    }
    assert all(required <= set(e) for e in events)
    assert events[3]["severity"] == "error" and events[3]["file"] == "oos.log"
    assert events[3]["line"] == 3 and events[3]["item_id"] == "T_2"
    assert {(e["file"], e["line"]) for e in errors} == {("oos.log", 2), ("logs/worker.log", 3)}
    limited = _lines(run_cli("events", "--json", "--limit", "1", "-w", str(tmp_path)).stdout)
    assert [e["message"] for e in limited if e["kind"] != "parse_error"] == ["boom"]
    text = run_cli("events", "boom", "-w", str(tmp_path)).stdout
    assert "boom" in text and "done" not in text


def test_events_output_never_carries_terminal_escapes(run_cli, tmp_path: Path) -> None:
    hostile = (
        '{"error":"\\u001b]52;c;ZXZpbA==\\u0007 \\u001b[2J \\u009b31m '
        '[red]x[/red] token=abc123secret"}'
    )
    (tmp_path / "oos.log").write_text(f"2025-09-29T02:00:02.000Z|FAIL|p|S|I|{hostile}\n")
    for args in ((), ("--json",)):
        out = run_cli("events", *args, "-w", str(tmp_path))
        assert out.returncode == 0
        raw = out.stdout.encode()
        assert b"\x1b" not in raw and b"\x07" not in raw and "\u009b".encode() not in raw
        assert "abc123secret" not in out.stdout
        assert (
            "[red]x[/red]" in out.stdout
            or "[red]x[/red]" in orjson.loads(raw.splitlines()[0])["message"]
        )


def test_debug_shows_traceback_only_when_asked(run_cli, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "oos.db").mkdir()  # a directory where the store should be
    out = run_cli("init", "-w", str(tmp_path))
    assert out.returncode == 1 and "Traceback" not in out.stderr


def test_python_dash_m(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "oos_tui", "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0 and out.stdout.startswith("oos-tui")
