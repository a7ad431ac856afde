"""``oos-tui status`` as a monitoring check: exit codes, alerts, resources, usage errors."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from oos_tui.cli.status import gather_status
from oos_tui.config import load_settings
from oos_tui.formats import pipe
from oos_tui.integrity import record_integrity
from oos_tui.models import iso
from oos_tui.sources.fake_psutil import FakePsutil

# The host this runs on may itself be loaded or full; these rules are tested
# in-process with the fake psutil below, and switched off for the binary.
HOST_RULES = '"disk_full", "load_high", "memory_low"'
NEW_KEYS = {"alerts", "host", "processes", "sizes", "store_health", "backups"}
OLD_KEYS = {"workspace", "taken_at", "store", "queues", "tasks", "dead_letters", "breakers"}


def config(ws: Path, extra_disabled: str = "", more: str = "") -> None:
    disabled = HOST_RULES + (f", {extra_disabled}" if extra_disabled else "")
    (ws / "oos-tui.toml").write_text(f"[alerts]\ndisabled = [{disabled}]\n{more}")


def make_store(run_cli, ws: Path) -> sqlite3.Connection:
    assert run_cli("init", "-w", str(ws)).returncode == 0
    return sqlite3.connect(ws / "data" / "oos.db")


def status(run_cli, ws: Path, *args: str):
    out = run_cli("status", "--json", "-w", str(ws), *args)
    return out, (json.loads(out.stdout) if out.stdout.strip() else None)


def test_quiet_workspace_exits_0_with_every_key(run_cli, tmp_path: Path) -> None:
    config(tmp_path)
    out, s = status(run_cli, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert set(s) >= OLD_KEYS | NEW_KEYS
    assert s["alerts"] == [] and s["level"] == "ok"
    host = s["host"]
    assert host["cpu_percent"] >= 0 and host["memory"]["total"] > 0 and len(host["load"]) == 3
    me = [p for p in s["processes"] if p["is_self"]]
    assert len(me) == 1 and me[0]["rss"] > 0
    assert set(s["sizes"]) >= {"store", "wal", "logs", "backups", "out", "total_bytes"}
    assert s["store_health"]["present"] is False
    assert set(s["backups"]) >= {"available", "count", "newest_verified_age_hours"}


def test_open_breaker_is_a_warning_exit_1(run_cli, tmp_path: Path) -> None:
    config(tmp_path, '"backup_stale"')
    con = make_store(run_cli, tmp_path)
    con.execute(
        "INSERT INTO circuit_breakers(name, state, consecutive_failures, last_error, updated_at)"
        " VALUES ('worker_1', 'open', 10, 'connection refused', ?), ('feed', 'closed', 0, NULL, ?)",
        (iso(time.time()), iso(time.time())),
    )
    con.commit()
    con.close()
    out, s = status(run_cli, tmp_path)
    assert out.returncode == 1, out.stderr
    assert out.stderr == ""
    assert [(a["id"], a["severity"], a["target"]) for a in s["alerts"]] == [
        ("breaker_open:worker_1", "warning", "breakers")
    ]
    alert = s["alerts"][0]
    assert set(alert) >= {"id", "rule", "severity", "summary", "target", "first_seen", "last_seen"}
    text = run_cli("status", "-w", str(tmp_path))
    assert text.returncode == 1
    first = text.stdout.splitlines()[0]
    assert first.startswith("alerts") and "1 firing" in first
    assert "breaker worker_1 is open" in text.stdout.splitlines()[1]


def test_corrupt_store_is_critical_exit_2_with_the_report(run_cli, tmp_path: Path) -> None:
    config(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "oos.db").write_bytes(b"this is not a database" * 100)
    out = run_cli("status", "-w", str(tmp_path))
    assert out.returncode == 2
    assert out.stderr == ""  # an alert, not an error of the check itself
    assert "CRIT" in out.stdout and "not a database" in out.stdout
    _, s = status(run_cli, tmp_path)
    assert s["level"] == "critical"
    assert "store_unreadable:store" in [a["id"] for a in s["alerts"]]
    assert "queue_depth" in s["unevaluated"]


def test_failed_integrity_check_is_critical(run_cli, tmp_path: Path) -> None:
    config(tmp_path, '"backup_stale"')
    make_store(run_cli, tmp_path).close()
    settings = load_settings(tmp_path, env={})
    record_integrity(settings, False, "page 12: btree corrupt", "quick_check", time.time() - 60)
    out, s = status(run_cli, tmp_path)
    assert out.returncode == 2
    assert [a["rule"] for a in s["alerts"]] == ["integrity_failed"]
    assert s["store_health"]["last_check"]["ok"] is False
    record_integrity(settings, True, "ok", "integrity_check")
    assert status(run_cli, tmp_path)[0].returncode == 0


def test_queue_threshold_dead_letters_and_no_backup(run_cli, tmp_path: Path) -> None:
    config(tmp_path, more="queue_pending = 2\ndead_letter_growth = 3\n")
    con = make_store(run_cli, tmp_path)
    now = iso(time.time())
    con.executemany(
        "INSERT INTO tasks(queue, task_type, status, created_at, updated_at) VALUES (?,?,?,?,?)",
        [("ingest", "fetch", "pending", now, now)] * 3,
    )
    con.executemany(
        "INSERT INTO dead_letter(task_id, queue, task_type, payload, attempts, error, failed_at)"
        " VALUES (1, 'ingest', 'fetch', '{}', 10, 'boom', ?)",
        [(now,)] * 4 + [(iso(time.time() - 3600),)] * 10,
    )
    con.commit()
    con.close()
    out, s = status(run_cli, tmp_path)
    assert out.returncode == 1, out.stderr
    assert [a["id"] for a in s["alerts"]] == [
        "backup_stale:store",
        "dead_letter_growth:store",
        "queue_depth:ingest",
    ]
    assert s["dead_letters_in_window"] == 4 and s["dead_letters"] == 14
    assert s["queues"][0]["over_threshold"] is True
    backup = next(a for a in s["alerts"] if a["rule"] == "backup_stale")
    assert backup["target"] == "backups" and "no backup" in backup["summary"]


def test_error_spike_from_the_logs(run_cli, tmp_path: Path) -> None:
    config(tmp_path)
    now = time.time()
    (tmp_path / "oos.log").write_bytes(
        b"".join(
            pipe.write_line(now - 20 + i, "FAIL", "podcast", "Feed", f"i{i}", {"error": "x"})
            for i in range(8)
        )
    )
    out, s = status(run_cli, tmp_path)
    assert out.returncode == 1
    (spike,) = s["alerts"]
    assert spike["id"] == "error_spike:events" and spike["target"] == "events"
    assert spike["target_arg"] == "severity>=error since:10m"
    assert s["errors"]["last_minute"] == 8


def test_usage_and_config_errors_are_told_apart(run_cli, tmp_path: Path) -> None:
    out = run_cli("status", "--bogus", "-w", str(tmp_path))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("oos-tui: usage error") and out.stderr.count("\n") == 1
    (tmp_path / "oos-tui.toml").write_text("[alerts]\nqueue_pendng = 3\n")
    out = run_cli("status", "-w", str(tmp_path))
    assert out.returncode == 2 and out.stdout == "" and out.stderr.startswith("oos-tui: ")
    assert "queue_pendng" in out.stderr and out.stderr.count("\n") == 1
    (tmp_path / "oos-tui.toml").write_text('[processes]\npatterns = ["(unclosed"]\n')
    out = run_cli("status", "--json", "-w", str(tmp_path))
    assert out.returncode == 2 and out.stdout == ""
    assert "not a valid regex" in out.stderr and "oos-tui.toml" in out.stderr


def test_help_states_the_exit_codes(run_cli) -> None:
    out = run_cli("status", "--help")
    assert out.returncode == 0
    assert "1  warnings" in out.stdout and "2  a critical alert" in out.stdout


# ------------------------------------------------ in process, with a fake host


def gather(ws: Path, fake: FakePsutil, toml: str = "") -> dict:
    if toml:
        (ws / "oos-tui.toml").write_text(toml)
    settings = load_settings(ws, env={})
    return asyncio.run(gather_status(settings, psutil_module=fake, sample_gap=0.0))


def test_host_rules_on_a_fake_host(tmp_path: Path) -> None:
    fake = FakePsutil()
    calm = gather(tmp_path, fake)
    assert calm["alerts"] == [] and calm["level"] == "ok"
    assert calm["host"]["load"] == [0.62, 0.55, 0.48]
    assert [p["pid"] for p in calm["processes"]] == [4100, 4101, 4102, 4103, 4242]
    assert calm["processes"][2]["cpu_percent"] == 87.2  # the second scan has a baseline

    fake.mem_available = fake.mem_total // 25
    fake.load = (6.0, 5.0, 2.0)
    fake.disk_used = fake.disk_total * 85 // 100
    hot = gather(tmp_path, fake)
    assert [(a["id"], a["severity"]) for a in hot["alerts"]] == [
        ("memory_low:host", "critical"),
        ("disk_full:workspace", "warning"),
        ("load_high:host", "warning"),
    ]
    assert hot["level"] == "critical"


def test_disabled_and_unknown_rules_are_reported(tmp_path: Path) -> None:
    fake = FakePsutil(load=(9.0, 9.0, 9.0))
    s = gather(tmp_path, fake, '[alerts]\ndisabled = ["load_high", "lod_high"]\n')
    assert s["alerts"] == []
    assert any("lod_high" in n for n in s["notes"])


def test_backup_information_unavailable_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli
) -> None:
    make_store(run_cli, tmp_path).close()
    (tmp_path / "data" / "backups").mkdir()
    (tmp_path / "data" / "backups" / "oos-20270115T080000Z.db").write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "oos_tui.actions.backup", None)
    s = gather(tmp_path, FakePsutil())
    assert s["backups"]["available"] is False and "unavailable" in s["backups"]["reason"]
    assert "backup_stale" in s["unevaluated"] and s["alerts"] == []
