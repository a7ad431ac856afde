"""The dead-letter and breaker commands through the real binary: output, exit codes, prompts."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oos_tui.cli._common import CliError
from oos_tui.cli.deadletter import Confirm, confirm_bulk
from oos_tui.models import Breaker, DeadLetter

sys.path.insert(0, str(Path(__file__).parents[1] / "helpers"))
import actions_support as support

sys.path.pop(0)

BINARY = str(Path(sys.executable).parent / "oos-tui")
NOT_A_TERMINAL = "oos-tui: error: refusing a bulk action without --yes: stdin is not a terminal\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    support.seed(tmp_path / "ws" / "data" / "oos.db")
    return tmp_path / "ws"


def _db(ws: Path) -> Path:
    return ws / "data" / "oos.db"


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def run_tty(*args: str, answer: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real binary with a pseudo-terminal on stdin and type ``answer`` into it."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("OOS_WORKSPACE", "LOG_DIR")}
    try:
        proc = subprocess.Popen(
            [BINARY, *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        os.close(slave)
        # The terminal holds the line until the program reads it.
        os.write(master, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=timeout)
    finally:
        os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# ---------------------------------------------------------------- listing


def test_help_lists_the_commands(run_cli) -> None:
    out = run_cli("--help")
    for command in ("dead-letter", "retry", "purge", "audit", "breakers", "reset-breaker"):
        assert command in out.stdout
    for command, flags in {
        "dead-letter": ("--queue", "--type", "--error", "--json", "--group", "--limit"),
        "retry": ("--all", "--yes", "--json", "--queue"),
        "purge": ("--yes", "--error"),
        "audit": ("--json", "--limit"),
        "breakers": ("--json",),
        "reset-breaker": ("--reason", "--yes"),
    }.items():
        text = run_cli(command, "--help").stdout
        for flag in flags:
            assert flag in text, (command, flag)


def test_dead_letter_table(run_cli, ws: Path) -> None:
    out = run_cli("dead-letter", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "queue",
        "type",
        "attempts",
        "worker",
        "failed",
        "at",
        "error",
    ]
    assert [line.split()[0] for line in lines[1:-1]] == ["5", "4", "3", "2", "1"]
    assert lines[-1] == "5 dead letters"
    row4 = lines[2]
    assert "ingest" in row4 and "fetch" in row4 and "2025-09-29T01:04:00.000Z" in row4
    assert "ConnectionError: connection to 10.0.0.5 refused" in row4  # a traceback's last line
    assert "Timeout after 30s" in lines[3]


def test_dead_letter_filters_and_limit(run_cli, ws: Path) -> None:
    def ids(*args: str) -> list[int]:
        out = run_cli("dead-letter", "--json", "-w", str(ws), *args)
        assert out.returncode == 0, out.stderr
        return [o["id"] for o in _lines(out.stdout)]

    assert ids("--queue", "asr") == [3, 2, 1]
    assert ids("--type", "fetch") == [5, 4]
    assert ids("--error", "http 503") == [2, 1]
    assert ids("--queue", "asr", "--error", "TIMEOUT") == [3]
    assert ids("--limit", "2") == [5, 4]
    assert ids("--queue", "nope") == []
    assert run_cli("dead-letter", "-w", str(ws), "--queue", "nope").stdout == "0 dead letters\n"


def test_dead_letter_json_has_every_column(run_cli, ws: Path) -> None:
    out = run_cli("dead-letter", "--json", "--type", "fetch", "-w", str(ws))
    first = _lines(out.stdout)[1]
    assert first == {
        "id": 4,
        "task_id": 4,
        "queue": "ingest",
        "task_type": "fetch",
        "attempts": 10,
        "worker_id": "3",
        "failed_at": "2025-09-29T01:04:00.000Z",
        "error": support.DEAD[3][4],
        "error_line": "ConnectionError: connection to 10.0.0.5 refused",
        "error_signature": "ConnectionError: connection to <ip> refused",
        "payload": {"item_id": "item_4", "url": "https://x/4"},
    }


def test_dead_letter_groups(run_cli, ws: Path) -> None:
    out = run_cli("dead-letter", "--group", "--json", "-w", str(ws))
    groups = _lines(out.stdout)
    assert (groups[0]["signature"], groups[0]["count"]) == (
        "HTTP <n> from https://x/api/items/<n>",
        2,
    )
    assert groups[0]["ids"] == [2, 1] and groups[0]["queues"] == ["asr"]
    assert groups[0]["example_id"] == 2 and groups[0]["newest_failed_at"]
    assert sum(g["count"] for g in groups) == 5
    text = run_cli("dead-letter", "--group", "-w", str(ws)).stdout.splitlines()
    assert text[0].split()[:3] == ["count", "newest", "failure"]
    assert "HTTP <n> from https://x/api/items/<n>" in text[1] and text[1].split()[0] == "2"
    assert text[-1] == "4 groups, 5 dead letters"


def test_listing_without_a_store_is_exit_1(run_cli, tmp_path: Path) -> None:
    for command in ("dead-letter", "audit", "breakers"):
        out = run_cli(command, "-w", str(tmp_path))
        assert out.returncode == 1, command
        assert out.stderr.startswith("oos-tui: error: store not found")
        assert out.stderr.count("\n") == 1 and out.stdout == ""


# ------------------------------------------------------------- retry by id


def test_retry_ids_each_its_own_transaction(run_cli, ws: Path) -> None:
    out = run_cli("retry", "2", "1", "2", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    results = _lines(out.stdout)
    assert [(r["action"], r["target"], r["outcome"]) for r in results] == [
        ("retry", "dead_letter:2", "ok"),
        ("retry", "dead_letter:1", "ok"),
    ]
    assert set(results[0]) == {"action", "target", "outcome", "message", "audit_id", "detail"}
    assert results[0]["detail"]["rows"][0]["id"] == 2
    assert results[0]["detail"]["task_before"]["status"] == "failed"
    assert results[0]["audit_id"] != results[1]["audit_id"]
    assert out.stderr == ""


def test_retry_some_refused_is_exit_1(run_cli, ws: Path) -> None:
    out = run_cli("retry", "3", "99", "-w", str(ws))
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        "ok       dead_letter:3  retried dead letter 3: task 3 is pending again",
        "refused  dead_letter:99  dead letter 99 was already retried (or purged)",
    ]
    assert out.stderr == "oos-tui: error: retry: 1 of 2 not done (refused or failed)\n"
    again = run_cli("retry", "3", "-w", str(ws))
    assert again.returncode == 1
    assert again.stderr == (
        "oos-tui: error: retry refused: dead letter 3 was already retried (or purged)\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("retry",),
        ("retry", "1", "--all"),
        ("retry", "1", "--queue", "asr"),
        ("retry", "abc"),
        ("retry", "0"),
        ("dead-letter", "--limit", "-1"),
        ("audit", "--limit", "x"),
        ("reset-breaker",),
    ],
)
def test_usage_errors_are_exit_2(run_cli, ws: Path, args: tuple[str, ...]) -> None:
    before = support.dump(_db(ws))
    out = run_cli(*args, "-w", str(ws))
    assert out.returncode == 2, out
    assert out.stderr.startswith("oos-tui: usage error") and out.stderr.count("\n") == 1
    assert support.dump(_db(ws)) == before


# -------------------------------------------------------------- read-only


@pytest.mark.parametrize(
    ("args", "verb"),
    [
        (("retry", "1"), "retry"),
        (("retry", "--all", "--yes"), "retry"),
        (("purge", "--yes"), "purge"),
        (("reset-breaker", "worker_1"), "reset-breaker"),
    ],
)
def test_read_only_refuses_and_opens_nothing_for_writing(
    run_cli, ws: Path, args: tuple[str, ...], verb: str
) -> None:
    db = _db(ws)
    files = {p: p.read_bytes() for p in db.parent.iterdir()}
    out = run_cli("--read-only", *args, "-w", str(ws))
    assert out.returncode == 1
    assert (
        out.stderr
        == f"oos-tui: error: {verb} refused: read-only mode (--read-only); nothing changed\n"
    )
    assert {p: p.read_bytes() for p in db.parent.iterdir()} == files
    assert support.audit_rows(db) == []


# ------------------------------------------------------------ bulk actions


def test_bulk_without_yes_and_without_a_terminal_refuses(run_cli, ws: Path) -> None:
    before = support.dump(_db(ws))
    for args in (("retry", "--all"), ("retry", "--all", "--queue", "asr"), ("purge",)):
        out = run_cli(*args, "-w", str(ws), input="y\n")
        assert out.returncode == 1, args
        assert out.stderr == NOT_A_TERMINAL and out.stdout == ""
    assert support.dump(_db(ws)) == before
    assert support.audit_rows(_db(ws)) == []


def test_retry_all_yes_json_one_result_per_row(run_cli, ws: Path) -> None:
    out = run_cli("retry", "--all", "--queue", "asr", "--yes", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    results = _lines(out.stdout)
    assert [(r["action"], r["target"], r["outcome"]) for r in results] == [
        ("retry_all", "dead_letter:1", "ok"),
        ("retry_all", "dead_letter:2", "ok"),
        ("retry_all", "dead_letter:3", "ok"),
    ]
    assert len({r["audit_id"] for r in results}) == 1
    (audit,) = support.audit_rows(_db(ws))
    assert audit["target"] == "dead_letter:queue=asr,ids=1,2,3"
    assert [r["id"] for r in audit["detail"]["rows"]] == [1, 2, 3]
    assert [r[0] for r in support.dump(_db(ws))["dead_letter"]] == [4, 5]


def test_bulk_with_nothing_matching_is_exit_0(run_cli, ws: Path) -> None:
    out = run_cli("retry", "--all", "--queue", "nope", "--yes", "-w", str(ws))
    assert out.returncode == 0
    assert out.stderr == "oos-tui: no dead letters matching queue=nope: nothing to retry\n"
    out = run_cli("purge", "--error", "nothing like this", "-w", str(ws), input="")
    assert out.returncode == 0 and "nothing to purge" in out.stderr
    assert support.audit_rows(_db(ws)) == []


def test_bulk_on_a_newer_schema_is_refused_before_asking(run_cli, ws: Path) -> None:
    con = support.connect(_db(ws))
    con.execute("PRAGMA user_version = 2")
    con.close()
    out = run_cli("retry", "--all", "-w", str(ws), input="")
    assert out.returncode == 1
    assert out.stderr.startswith("oos-tui: error: retry refused: schema version 2 is newer")
    single = run_cli("retry", "1", "-w", str(ws))
    assert single.returncode == 1 and "newer" in single.stdout


def test_retry_all_on_a_terminal_confirmed(ws: Path) -> None:
    out = run_tty("retry", "--all", "--queue", "asr", "-w", str(ws), answer="y")
    assert out.returncode == 0, out.stderr
    assert "Retry 3 dead letters matching queue=asr:" in out.stderr
    assert "Retry 3 dead letters? [y/N]" in out.stderr
    assert "Timeout after 30s" in out.stderr  # the first rows are shown
    assert (
        "warning: worker breaker open: worker_1 (2 rows); "
        "retried tasks may fail again until it closes" in out.stderr
    )
    assert out.stdout.count("ok       dead_letter:") == 3


@pytest.mark.parametrize("answer", ["", "n", "no", "nope", "yess"])
def test_retry_all_on_a_terminal_defaults_to_cancel(ws: Path, answer: str) -> None:
    before = support.dump(_db(ws))
    out = run_tty("retry", "--all", "-w", str(ws), answer=answer)
    assert out.returncode == 1
    assert out.stderr.endswith("oos-tui: error: retry cancelled: nothing changed\n")
    assert support.dump(_db(ws)) == before
    assert support.audit_rows(_db(ws)) == []


def test_retry_all_above_100_rows_needs_the_count_typed(tmp_path: Path) -> None:
    ws = tmp_path / "big"
    support.seed(ws / "data" / "oos.db", extra_dead=120)
    out = run_tty("retry", "--all", "--queue", "bulk", "-w", str(ws), answer="y")
    assert out.returncode == 1
    assert "Retry 120 dead letters? Type 120 to confirm (anything else cancels):" in out.stderr
    assert "… and 115 more" in out.stderr
    assert "retry cancelled: nothing changed" in out.stderr
    out = run_tty("retry", "--all", "--queue", "bulk", "--json", "-w", str(ws), answer="120")
    assert out.returncode == 0, out.stderr
    assert len(_lines(out.stdout)) == 120


def test_purge_always_needs_the_count_typed(ws: Path) -> None:
    db = _db(ws)
    before = support.dump(db)
    out = run_tty("purge", "--queue", "ingest", "-w", str(ws), answer="y")
    assert out.returncode == 1 and "purge cancelled: nothing changed" in out.stderr
    assert "Purge 2 dead letters?" in out.stderr and "Type 2 to confirm" in out.stderr
    assert support.dump(db) == before
    out = run_tty("purge", "--queue", "ingest", "-w", str(ws), answer="2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "ok       dead_letter:4  purged dead letter 4 (task 4 stays failed)",
        "ok       dead_letter:5  purged dead letter 5 (task 5 stays failed)",
    ]
    after = support.dump(db)
    assert after["tasks"] == before["tasks"]
    assert [r[0] for r in after["dead_letter"]] == [1, 2, 3]


def test_purge_yes(run_cli, ws: Path) -> None:
    out = run_cli("purge", "--yes", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert [r["action"] for r in _lines(out.stdout)] == ["purge"] * 5
    assert support.dump(_db(ws))["dead_letter"] == []


@pytest.mark.slow
def test_busy_store_is_exit_1_after_the_bounded_wait(run_cli, ws: Path) -> None:
    db = _db(ws)
    holder = subprocess.Popen(
        [sys.executable, str(support.HERE), "hold", str(db), "8"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = support.dump(db)
        started = time.monotonic()
        out = run_cli("retry", "1", "-w", str(ws))
        waited = time.monotonic() - started
    finally:
        holder.wait(timeout=20)
    assert out.returncode == 1
    assert out.stdout == (
        "refused  dead_letter:1  store busy (the producer holds the write lock): nothing changed\n"
    )
    assert 4.5 <= waited < 7.5
    assert support.dump(db) == before


# ------------------------------------------------------------------- audit


def test_audit_newest_first(run_cli, ws: Path) -> None:
    assert run_cli("audit", "-w", str(ws)).stdout == "no operator actions yet\n"
    run_cli("retry", "1", "-w", str(ws))
    run_cli("retry", "1", "-w", str(ws))
    run_cli("reset-breaker", "worker_1", "--reason", "fixed", "-w", str(ws))
    out = run_cli("audit", "--json", "-w", str(ws))
    assert out.returncode == 0
    entries = _lines(out.stdout)
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("reset_breaker", "ok"),
        ("retry", "refused"),
        ("retry", "ok"),
    ]
    assert set(entries[0]) == {"id", "at", "operator", "action", "target", "outcome", "detail"}
    assert entries[0]["detail"]["reason"] == "fixed"
    assert entries[2]["detail"]["rows"][0]["id"] == 1
    assert len(_lines(run_cli("audit", "--json", "--limit", "1", "-w", str(ws)).stdout)) == 1
    text = run_cli("audit", "-w", str(ws)).stdout.splitlines()
    assert len(text) == 3
    assert "reset_breaker" in text[0] and "breaker:worker_1" in text[0]
    assert text[0].endswith("(reason: fixed)")
    assert "already retried" in text[1]


# ---------------------------------------------------------------- breakers


def test_breakers_table_and_json(run_cli, ws: Path) -> None:
    out = run_cli("breakers", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:4] == ["state", "name", "trip", "progress"]
    by_name = {line.split()[2]: line for line in lines[1:]}
    assert by_name["worker_1"].startswith("✕ open")
    assert "10/10 consecutive failures" in by_name["worker_1"]
    assert "14.0%" in by_name["worker_1"] and "due" in by_name["worker_1"]
    assert by_name["worker_1"].endswith("HTTP 503")
    assert by_name["worker_3"].startswith("◐ half-open")
    assert by_name["worker_2"].startswith("● closed") and "7/10" in by_name["worker_2"]
    objs = {o["name"]: o for o in _lines(run_cli("breakers", "--json", "-w", str(ws)).stdout)}
    assert set(objs) == {"worker_1", "worker_2", "worker_3", "idle"}
    w1 = objs["worker_1"]
    assert (w1["state"], w1["state_word"], w1["symbol"]) == ("open", "open", "✕")
    assert w1["trip_progress"] == "10/10 consecutive failures"
    assert w1["failure_rate"] == 0.14 and w1["retry_in_seconds"] < 0
    assert w1["open_for_seconds"] > 0 and w1["last_error"] == "HTTP 503\nmore"
    assert objs["idle"]["failure_rate"] is None and objs["idle"]["open_for_seconds"] is None


def test_reset_breaker(run_cli, ws: Path) -> None:
    db = _db(ws)
    out = run_cli("reset-breaker", "worker_1", "--reason", "upstream fixed", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "ok       breaker:worker_1  breaker worker_1 reset: closed "
        "(was open, 10 consecutive failures)\n"
    )
    row = support.row_dict(db, "circuit_breakers", "name", "worker_1")
    assert row is not None
    assert (row["state"], row["consecutive_failures"], row["opened_at"], row["retry_at"]) == (
        "closed",
        0,
        None,
        None,
    )
    again = run_cli("reset-breaker", "worker_1", "--json", "--yes", "-w", str(ws))
    assert again.returncode == 1
    (result,) = _lines(again.stdout)
    assert result["outcome"] == "refused"
    assert result["message"] == "breaker worker_1 is already closed: nothing changed"
    assert again.stderr == (
        "oos-tui: error: reset-breaker refused: breaker worker_1 is already closed: "
        "nothing changed\n"
    )
    unknown = run_cli("reset-breaker", "nope", "-w", str(ws))
    assert unknown.returncode == 1 and "no breaker named 'nope'" in unknown.stdout
    audits = support.audit_rows(db)
    assert [a["outcome"] for a in audits] == ["ok", "refused", "refused"]
    assert audits[0]["detail"]["reason"] == "upstream fixed"


# ------------------------------------------------- the prompt, in process


def _rows(n: int, worker: str | None = "worker_1") -> list[DeadLetter]:
    return [
        DeadLetter(i, i, "asr", "t", "{}", 10, f"boom {i}\x1b[31m", worker, 0.0)
        for i in range(1, n + 1)
    ]


def _confirm(answer: str | None, tty: bool = True) -> tuple[Confirm, io.StringIO]:
    out = io.StringIO()
    stdin = io.StringIO("" if answer is None else answer + "\n")
    return Confirm(stdin, out, isatty=tty), out


def test_confirm_without_a_terminal_raises() -> None:
    confirm, out = _confirm("y", tty=False)
    with pytest.raises(CliError, match="stdin is not a terminal"):
        confirm_bulk(confirm, verb="retry", rows=_rows(1), description="(x)", breakers=[])
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("y", True),
        ("Y", True),
        ("yes", True),
        (" YES ", True),
        ("", False),
        ("n", False),
        (None, False),
        ("1", False),
    ],
)
def test_confirm_y_n(answer: str | None, ok: bool) -> None:
    confirm, out = _confirm(answer)
    assert (
        confirm_bulk(confirm, verb="retry", rows=_rows(100), description="matching x", breakers=[])
        is ok
    )
    text = out.getvalue()
    assert "Retry 100 dead letters? [y/N] " in text and "… and 95 more" in text
    assert "\x1b" not in text and "\\x1b[31m" in text  # error text shown escaped


@pytest.mark.parametrize(
    ("answer", "ok"), [("101", True), (" 101 ", True), ("y", False), ("0101", False), (None, False)]
)
def test_confirm_typed_count_above_100(answer: str | None, ok: bool) -> None:
    confirm, out = _confirm(answer)
    assert confirm_bulk(confirm, verb="retry", rows=_rows(101), description="m", breakers=[]) is ok
    assert "Type 101 to confirm" in out.getvalue()


def test_confirm_purge_types_even_one_and_warns_only_for_retry() -> None:
    breakers = [Breaker("worker_1", "open", 10, 10, 10, 0, None, None, None, None)]
    confirm, out = _confirm("y")
    assert not confirm_bulk(
        confirm, verb="purge", rows=_rows(1), description="m", breakers=breakers
    )
    assert "Type 1 to confirm" in out.getvalue() and "warning" not in out.getvalue()
    confirm, out = _confirm("y")
    assert confirm_bulk(confirm, verb="retry", rows=_rows(2), description="m", breakers=breakers)
    assert "warning: worker breaker open: worker_1 (2 rows)" in out.getvalue()


def test_actions_without_a_store_are_exit_1_and_create_nothing(run_cli, tmp_path: Path) -> None:
    out = run_cli("retry", "1", "-w", str(tmp_path))
    assert out.returncode == 1
    assert out.stdout.startswith("refused  dead_letter:1  no store at ")
    out = run_cli("retry", "--all", "--yes", "-w", str(tmp_path))
    assert out.returncode == 1 and out.stderr.startswith("oos-tui: error: store not found")
    out = run_cli("reset-breaker", "w", "-w", str(tmp_path))
    assert out.returncode == 1 and "no store at" in out.stdout
    assert not (tmp_path / "data").exists()
