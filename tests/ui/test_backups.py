"""The Backups screen: take (b), verify (v), detail (enter), read-only, failures, snapshots.

Pilot tests run on a private copy of the fixture workspace (they write real
backups into it); snapshots use backup files with fixed bytes and sidecars
with fixed times, in a copy at a fixed path (the status bar shows the path).
Review every SVG before accepting it (`--snapshot-update`).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from oos_tui.actions.backup import BackupInfo, VerifyReport, list_backups
from oos_tui.app import OosApp, make_app
from oos_tui.clock import FrozenClock
from oos_tui.config import load_settings
from oos_tui.models import iso
from oos_tui.screens.backups import ActivityBar, BackupsScreen, take_backup_from_anywhere
from oos_tui.widgets.backup_detail import BackupDetail, render_record, render_report
from oos_tui.widgets.backup_table import (
    COLUMNS,
    BackupRows,
    backup_cells,
    fit_rows,
    newest_verified,
    render_summary,
    status_of,
)

FIXTURE_NOW = 1_759_111_200.0  # 2025-09-29T02:00:00Z, as tests/fixtures/workspace.py
HOUR = 3600.0

# -- helpers -------------------------------------------------------------------------


def copy_workspace(fixture: Path, target: Path) -> Path:
    """A private copy of the fixture workspace: backups are written into it."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(fixture, target)
    return target


def build_on(ws: Path, *, read_only: bool = False, preload: bool = False) -> OosApp:
    """The console on ``ws`` as ``fixture_app`` builds it: frozen clock, feeds off.

    ``preload`` also lists the backups into the state, as the feed would have.
    """
    from fixtures.state import load_state

    settings = load_settings(ws, env={}, read_only=read_only)
    clock = FrozenClock(FIXTURE_NOW)
    state = load_state(settings, clock)
    if preload:
        state = state.with_backups(tuple(list_backups(settings)))
    app = make_app(settings, clock=clock, initial_state=state, feeds=False)
    app.animation_level = "none"
    return app


def write_backup(
    directory: Path,
    name: str,
    *,
    created: float,
    size: int,
    verified: float | None = None,
    integrity: str = "ok",
    verify_error: str | None = None,
    sidecar: bool = True,
) -> Path:
    """A backup of fixed bytes with a sidecar of fixed times (listing reads only these)."""
    directory.mkdir(parents=True, exist_ok=True)
    data = (b"SQLite format 3\x00" + name.encode()).ljust(size, b"\x00")
    path = directory / name
    path.write_bytes(data)
    if sidecar:
        record: dict[str, object] = {
            "created_at": iso(created),
            "source": "/srv/oos/data/oos.db",
            "bytes": size,
            "sha256": hashlib.sha256(data).hexdigest(),
            "integrity": integrity,
            "duration_ms": 412,
            "operator": "oncall (ssh 10.0.0.7)",
        }
        if verified is not None:
            record["verified_at"] = iso(verified)
            record["verify_ok"] = verify_error is None
        if verify_error is not None:
            record["verify_error"] = verify_error
        path.with_suffix(".json").write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2))
    return path


def fill_backups(directory: Path) -> None:
    """Six backups in every state the list shows, at fixed times before FIXTURE_NOW."""
    t = FIXTURE_NOW
    write_backup(
        directory,
        "oos-20250928T224800Z.db",
        created=t - 3 * HOUR - 12 * 60,
        size=270_336,
        verified=t - 3 * HOUR - 12 * 60 + 1,
    )
    write_backup(
        directory,
        "oos-20250928T164800Z.db",
        created=t - 9 * HOUR - 12 * 60,
        size=266_240,
        verified=t - 1 * HOUR,
    )
    write_backup(
        directory,
        "oos-20250928T104800Z.db",
        created=t - 15 * HOUR - 12 * 60,
        size=262_144,
        verified=t - 15 * HOUR - 12 * 60 + 1,
        verify_error="oos-20250928T104800Z.db does not verify: sha256 mismatch: "
        "file 3b1f09c2a7d4e5f6…, sidecar 9a8b7c6d5e4f3a2b…",
    )
    write_backup(
        directory,
        "oos-20250928T044800Z.db",
        created=t - 21 * HOUR - 12 * 60,
        size=258_048,
        integrity="Page 7: btreeInitPage() returns error code 11 (+2 more)",
    )
    write_backup(
        directory,
        "pre-restore-20250927T120000Z.db",
        created=t - 38 * HOUR,
        size=1_245_184,
        verified=t - 38 * HOUR + 2,
    )
    write_backup(
        directory,
        "oos-20250926T224800Z.db",
        created=t - 75 * HOUR - 12 * 60,
        size=253_952,
        sidecar=False,
    )


def fixed_report(path: Path, *, ok: bool = True) -> VerifyReport:
    """A verify report with fixed figures (a real one hashes SQLite-version-specific bytes)."""
    counts = {
        "circuit_breakers": 4,
        "dead_letter": 9,
        "events": 42,
        "operator_actions": 3,
        "tasks": 1_237,
    }
    sha = "5fe61a4d30c81a8efb212daef9777e6301defbcb2c7f78e233ca2e53039368b2"
    if ok:
        return VerifyReport(
            path, path.with_suffix(".json"), FIXTURE_NOW - 60, 270_336, sha, sha, "ok",
            counts, 1, recorded=True,
        )  # fmt: skip
    other = "3b1f09c2a7d4e5f6" + sha[16:]
    return VerifyReport(
        path, path.with_suffix(".json"), FIXTURE_NOW - 60, 262_144, other, sha, "ok", counts, 1,
        errors=(f"sha256 mismatch: file {other[:16]}…, sidecar {sha[:16]}…",), recorded=True,
    )  # fmt: skip


async def until(pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``condition`` holds (workers finish in their own time)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")


async def open_backups(pilot) -> BackupsScreen:
    """Switch to the Backups screen and wait for its first listing."""
    await pilot.press("7")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BackupsScreen)
    await until(pilot, lambda: pilot.app.state.backups is not None)
    await pilot.pause()
    return screen


async def settle(pilot) -> None:
    """Let a state push the screen scheduled (``app.set_state``) fire before the app exits.

    ``OosApp._push_state`` reads ``app.screen``, which raises once shutdown has
    emptied the screen stack; a push still pending then fails the test.
    """
    await pilot.pause(0.25)


def capture(app: OosApp) -> list[tuple[str, str]]:
    """Record notifications as (severity, text) instead of showing toasts."""
    notes: list[tuple[str, str]] = []

    def notify(message: object, **kw: object) -> None:
        notes.append((str(kw.get("severity", "information")), str(message)))

    app.notify = notify  # type: ignore[method-assign]
    return notes


def summary_text(screen: BackupsScreen) -> str:
    return str(screen.query_one("#backup-summary").render())


def audit_rows(ws: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(ws / "data" / "oos.db") as conn:
        return conn.execute(
            "SELECT action, target, outcome FROM operator_actions ORDER BY id"
        ).fetchall()


@pytest.fixture
def workspace(fixture_workspace: Path, tmp_path: Path) -> Path:
    return copy_workspace(fixture_workspace, tmp_path / "ws")


# -- pure rendering ------------------------------------------------------------------


def _info(name: str, **kw: object) -> BackupInfo:
    fields: dict[str, object] = {
        "path": Path("/b") / name,
        "sidecar": Path("/b") / name.replace(".db", ".json"),
        "kind": "backup",
        "created_at": FIXTURE_NOW - HOUR,
        "bytes": 270_336,
        "sha256": "ab" * 32,
        "integrity": "ok",
        "duration_ms": 12,
        "operator": "me",
        "source": "/s/oos.db",
        "verified_at": FIXTURE_NOW - HOUR,
        "verify_ok": True,
    }
    fields.update(kw)
    return BackupInfo(**fields)  # type: ignore[arg-type]


def test_status_words_carry_the_meaning_without_colour() -> None:
    assert status_of(_info("a.db")).text == "✓ ok"
    assert status_of(_info("a.db", verified_at=None, verify_ok=None)).text == "○ unverified"
    assert status_of(_info("a.db", integrity="Page 3: bad")).text == "✕ failed"
    failed = _info("a.db", verify_ok=False, problem="last verify failed: sha")
    assert status_of(failed).text == "✕ failed"
    missing = _info("a.db", sha256=None, integrity="unknown", problem="sidecar missing")
    assert status_of(missing).text == "▲ suspect"


def test_cells_compact_and_wide() -> None:
    b = _info("oos-x.db", created_at=FIXTURE_NOW - 3 * HOUR - 12 * 60)
    compact = [c.text for c in backup_cells(b, FIXTURE_NOW, wide=False)]
    assert compact == ["09-28 22:48", "3h12m", "270 kB", "ok", "09-29 01:00", "backup", "✓ ok", ""]
    wide = [c.text for c in backup_cells(b, FIXTURE_NOW, wide=True)]
    assert wide[0] == "2025-09-28 22:48:00"
    never = backup_cells(_info("y.db", verified_at=None, verify_ok=None), FIXTURE_NOW, False)
    assert never[4].text == "never"


def test_integrity_failure_moves_to_the_problem_column_when_narrow() -> None:
    b = _info("z.db", integrity="Page 7: btreeInitPage() returns error code 11 (+2 more)")
    narrow = backup_cells(b, FIXTURE_NOW, wide=False)
    assert narrow[3].text == "failed" and narrow[3].tone == "error"
    assert narrow[7].text.startswith("integrity: Page 7")
    wide = backup_cells(b, FIXTURE_NOW, wide=True)
    assert wide[3].text.startswith("failed: Page 7") and wide[3].text.endswith("…")
    assert wide[7].text == ""


def test_fit_rows_cuts_only_the_problem_or_leaves_it_out() -> None:
    long = _info("a.db", verify_ok=False, problem="last verify failed: " + "x" * 200)
    cells = backup_cells(long, FIXTURE_NOW, wide=False)
    columns, rows = fit_rows([cells], 100)
    assert columns == len(COLUMNS)
    total = (
        sum(
            max(len(label), len(c.text)) + 2
            for (_k, label), c in zip(COLUMNS, rows[0], strict=True)
        )
        + 2
    )
    assert total == 100 and rows[0][7].text.endswith("…") and rows[0][:7] == cells[:7]
    pre = _info("pre-restore-x.db", kind="pre-restore", verified_at=None, verify_ok=None)
    columns, rows = fit_rows([cells, backup_cells(pre, FIXTURE_NOW, wide=False)], 80)
    assert columns == len(COLUMNS) - 1 and all(len(r) == columns for r in rows)
    assert fit_rows([], 80) == (len(COLUMNS), [])


def test_cells_escape_hostile_text() -> None:
    b = _info("h.db", problem="sidecar unreadable: \x1b[31m[bold]x")
    problem = backup_cells(b, FIXTURE_NOW, wide=True)[7].text
    assert "\x1b" not in problem and "[bold]" in problem


def test_summary_is_honest() -> None:
    assert "listing" in render_summary(None, FIXTURE_NOW, 24, "data/backups").plain
    empty = render_summary((), FIXTURE_NOW, 24, "data/backups").plain
    assert empty.startswith("▲ no verified backup") and "alert after 24h" in empty
    fresh = _info("a.db", created_at=FIXTURE_NOW - 3 * HOUR - 12 * 60)
    text = render_summary((fresh,), FIXTURE_NOW, 24, "data/backups").plain
    assert text.startswith("newest verified backup: 3h12m ago (alert after 24h)")
    assert text.endswith("· 1 backup")
    old = _info("b.db", created_at=FIXTURE_NOW - 30 * HOUR)
    stale = render_summary((old,), FIXTURE_NOW, 24, "data/backups").plain
    assert stale.startswith("▲ newest verified backup: 1d06h ago (over 24h: alert)")
    broken = _info("c.db", integrity="Page 1: bad")
    assert render_summary((broken,), FIXTURE_NOW, 24, "d").plain.startswith("▲ no verified")


def test_newest_verified_uses_creation_not_reverification() -> None:
    old_reverified = _info("old.db", created_at=FIXTURE_NOW - 20 * HOUR, verified_at=FIXTURE_NOW)
    newer = _info("new.db", created_at=FIXTURE_NOW - 5 * HOUR, verified_at=FIXTURE_NOW - 5 * HOUR)
    unverified = _info("u.db", created_at=FIXTURE_NOW - HOUR, verified_at=None, verify_ok=None)
    assert newest_verified((unverified, newer, old_reverified)) is newer


def test_detail_renders_record_and_reports() -> None:
    b = _info("oos-a.db")
    record = render_record(b, FIXTURE_NOW).plain
    for expected in ("oos-a.db", "sha256", "ab" * 32, "270,336", "12 ms", "me", "/s/oos.db"):
        assert expected in record
    assert "not verified in this session" in render_report(None).plain
    good = render_report(fixed_report(Path("/b/oos-a.db"))).plain
    assert "✓ verifies" in good and "matches the sidecar" in good and "v1" in good
    assert "tasks" in good and "1,237" in good and "recorded" in good
    bad = render_report(fixed_report(Path("/b/oos-a.db"), ok=False)).plain
    assert "✕ does not verify" in bad and "MISMATCH" in bad


# -- Pilot ---------------------------------------------------------------------------


async def test_empty_workspace_says_no_verified_backup(workspace: Path) -> None:
    app = build_on(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_backups(pilot)
        assert app.state.backups == ()
        assert "no verified backup" in summary_text(screen)
        assert screen.query_one(BackupRows).row_count == 0
        help_line = str(screen.query_one("#backups-help").render())
        assert "oos-tui restore FILE" in help_line
        await settle(pilot)


async def test_b_takes_a_real_backup_and_lists_it(workspace: Path) -> None:
    app = build_on(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        notes = capture(app)
        screen = await open_backups(pilot)
        await pilot.press("b")
        await until(pilot, lambda: bool(notes))
        await until(pilot, lambda: bool(app.state.backups))
        await pilot.pause()
        severity, text = notes[0]
        assert severity == "information"
        assert text.startswith("backup oos-20250929T020000Z.db:")
        assert "integrity ok" in text and " ms" in text and "MB" in text
        backups = workspace / "data" / "backups"
        assert (backups / "oos-20250929T020000Z.db").is_file()
        assert (backups / "oos-20250929T020000Z.json").is_file()
        assert audit_rows(workspace)[-1] == ("backup", "store", "ok")
        rows = screen.query_one(BackupRows)
        assert rows.row_count == 1 and rows.selected_key == "oos-20250929T020000Z.db"
        assert "newest verified backup: 0s ago" in summary_text(screen)
        assert not screen.query_one("#take-activity", ActivityBar).active
        await settle(pilot)


async def test_second_b_while_running_is_refused(workspace: Path) -> None:
    app = build_on(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        notes = capture(app)
        screen = await open_backups(pilot)
        screen.action_take_backup()
        assert screen.query_one("#take-activity", ActivityBar).active
        screen.action_take_backup()
        assert ("warning", "a backup is already running") in notes
        await until(pilot, lambda: bool(app.state.backups))
        assert len(list((workspace / "data" / "backups").glob("*.db"))) == 1
        await settle(pilot)


async def test_progress_bar_follows_pages(workspace: Path) -> None:
    from textual.widgets import ProgressBar

    app = build_on(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_backups(pilot)
        activity = screen.query_one("#take-activity", ActivityBar)
        activity.start("taking a backup…")
        bar = activity.query_one(ProgressBar)
        assert bar.total is None
        activity.pages(3, 10)
        assert (bar.total, bar.progress) == (10, 7)
        assert "7/10 pages" in str(activity.query_one(".activity-label").render())
        activity.stop()
        assert not activity.active
        await settle(pilot)


async def test_v_verifies_and_shows_row_counts(workspace: Path) -> None:
    app = build_on(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        notes = capture(app)
        screen = await open_backups(pilot)
        await pilot.press("b")
        await until(pilot, lambda: bool(app.state.backups))
        notes.clear()
        await pilot.press("v")
        await until(pilot, lambda: bool(notes))
        await pilot.pause()
        severity, text = notes[0]
        assert severity == "information" and "verifies: sha256 matches, integrity ok" in text
        detail = screen.query_one(BackupDetail)
        assert detail.display
        report = str(detail.query_one("#backup-report").render())
        with sqlite3.connect(workspace / "data" / "oos.db") as conn:
            tasks = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
        assert "✓ verifies" in report and "matches the sidecar" in report
        assert "tasks" in report and f"{tasks:,}" in report
        assert "recorded" in report
        assert not screen.query_one("#verify-activity", ActivityBar).active
        await settle(pilot)


async def test_flipped_byte_reports_sha_mismatch(workspace: Path) -> None:
    app = build_on(workspace)
    async with app.run_test(size=(160, 48)) as pilot:
        notes = capture(app)
        screen = await open_backups(pilot)
        await pilot.press("b")
        await until(pilot, lambda: bool(app.state.backups))
        path = workspace / "data" / "backups" / "oos-20250929T020000Z.db"
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        notes.clear()
        await pilot.press("v")
        await until(pilot, lambda: bool(notes))
        await pilot.pause()
        severity, text = notes[0]
        assert severity == "error" and "sha256 mismatch" in text
        report = str(screen.query_one("#backup-report").render())
        assert "MISMATCH" in report and "does not verify" in report
        assert app.state.backups[0].verify_ok is False
        cells = screen.query_one(BackupRows).get_row("oos-20250929T020000Z.db")
        assert "✕ failed" in [str(c) for c in cells]
        await settle(pilot)


async def test_enter_toggles_the_detail(fixture_workspace: Path, tmp_path: Path) -> None:
    ws = copy_workspace(fixture_workspace, tmp_path / "ws")
    fill_backups(ws / "data" / "backups")
    app = build_on(ws, preload=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_backups(pilot)
        detail = screen.query_one(BackupDetail)
        assert not detail.display
        await pilot.press("enter")
        await pilot.pause()
        assert detail.display
        record = str(detail.query_one("#backup-record").render())
        assert "oos-20250928T224800Z.db" in record and "oncall (ssh 10.0.0.7)" in record
        assert str(ws / "data" / "backups") in record
        await pilot.press("down")
        await pilot.pause()
        record = str(detail.query_one("#backup-record").render())
        assert "oos-20250928T164800Z.db" in record
        await pilot.press("enter")
        await pilot.pause()
        assert not detail.display
        await settle(pilot)


async def test_filter_narrows_the_list(fixture_workspace: Path, tmp_path: Path) -> None:
    ws = copy_workspace(fixture_workspace, tmp_path / "ws")
    fill_backups(ws / "data" / "backups")
    app = build_on(ws, preload=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_backups(pilot)
        rows = screen.query_one(BackupRows)
        assert rows.row_count == 6
        await pilot.press("slash", *"pre-restore")
        await pilot.pause(0.5)
        assert rows.row_count == 1
        assert rows.selected_key == "pre-restore-20250927T120000Z.db"
        await settle(pilot)


async def test_read_only_disables_b_but_allows_v(fixture_workspace: Path, tmp_path: Path) -> None:
    ws = copy_workspace(fixture_workspace, tmp_path / "ws")
    writer = build_on(ws)
    async with writer.run_test(size=(100, 30)) as pilot:
        await open_backups(pilot)
        await pilot.press("b")
        await until(pilot, lambda: bool(writer.state.backups))
        await settle(pilot)
    sidecar = ws / "data" / "backups" / "oos-20250929T020000Z.json"
    before = sidecar.read_bytes()
    audits = audit_rows(ws)

    app = build_on(ws, read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        notes = capture(app)
        screen = await open_backups(pilot)
        assert screen.check_action("take_backup", ()) is None
        take = next(a for a in screen.active_bindings.values() if a.binding.key == "b")
        assert not take.enabled
        assert "read-only" in str(screen.query_one("#backups-help").render())
        await pilot.press("b")
        await pilot.pause(0.3)
        assert not screen.query_one("#take-activity", ActivityBar).active
        await take_backup_from_anywhere(app)
        await pilot.pause(0.3)
        assert notes and notes[-1][0] == "warning" and "read-only mode" in notes[-1][1]
        notes.clear()
        await pilot.press("v")
        await until(pilot, lambda: bool(notes))
        await pilot.pause()
        assert notes[0][0] == "information"
        assert "not recorded (read-only mode)" in notes[0][1]
        report = str(screen.query_one("#backup-report").render())
        assert "not recorded (read-only mode)" in report and "tasks" in report
        await settle(pilot)
    assert len(list((ws / "data" / "backups").glob("*.db"))) == 1
    assert sidecar.read_bytes() == before
    assert audit_rows(ws) == audits


async def test_failing_backup_shows_the_one_line_error(
    fixture_workspace: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(fixture_workspace, tmp_path / "ws")
    (ws / "blocker").write_text("a file where the backups directory should be\n")
    (ws / "oos-tui.toml").write_text('[paths]\nbackups_dir = "blocker"\n')
    app = build_on(ws)
    async with app.run_test(size=(100, 30)) as pilot:
        notes = capture(app)
        screen = await open_backups(pilot)
        await pilot.press("b")
        await until(pilot, lambda: bool(notes))
        await until(pilot, lambda: not screen.query_one("#take-activity", ActivityBar).active)
        severity, text = notes[0]
        assert severity == "error"
        assert text.startswith("backup failed:") and "no backup kept" in text
        assert "not a directory" in text
        assert "\n" not in text, text
        assert audit_rows(ws)[-1] == ("backup", "store", "error")
        assert app.state.backups == ()
        assert "no verified backup" in summary_text(screen)
        await settle(pilot)


async def test_palette_takes_a_backup_from_any_screen(workspace: Path) -> None:
    app = build_on(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        notes = capture(app)
        assert app.current_mode == "overview"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"take a backup")
        await pilot.pause(0.4)
        await pilot.press("enter")
        await until(pilot, lambda: bool(notes))
        await until(pilot, lambda: bool(app.state.backups))
        assert app.current_mode == "backups"
        assert notes[0][1].startswith("backup oos-20250929T020000Z.db:")
        assert (workspace / "data" / "backups" / "oos-20250929T020000Z.db").is_file()
        await settle(pilot)


async def test_help_screen_lists_the_keys(workspace: Path) -> None:
    app = build_on(workspace)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_backups(pilot)
        described = {entry[2] for entry in app.help_entries()}
        assert {"Take backup", "Verify", "Detail"} <= described
        await settle(pilot)


def test_restore_is_not_offered_in_the_tui() -> None:
    actions = {getattr(b, "action", "") for b in BackupsScreen.BINDINGS}
    actions |= {getattr(b, "action", "") for b in BackupRows.BINDINGS}
    assert not any("restore" in a for a in actions)


# -- snapshots -----------------------------------------------------------------------

SNAP_ROOT = Path(tempfile.gettempdir()) / "oos-tui-fixture"


def _tree(root: Path) -> str:
    """Sizes and times of every file the snapshots depend on (not caches or WAL files)."""
    parts = sorted(
        f"{p.relative_to(root)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(("-wal", "-shm")) and ".oos-tui" not in p.parts
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def fixed_copy(fixture: Path, name: str, fill: Callable[[Path], None] | None) -> Path:
    """A copy of the fixture at a fixed path (the status bar shows it), rebuilt only when stale.

    Concurrent test sessions share the path, so it is rebuilt under a lock and
    never deleted while it is still what this module would build.
    """
    ws = SNAP_ROOT / name
    version = hashlib.sha256(Path(__file__).read_bytes()).hexdigest() + _tree(fixture)
    marker = SNAP_ROOT / f"{name}.version"
    with open(SNAP_ROOT / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        expected = f"{version} {_tree(ws)}" if ws.is_dir() else ""
        if not (marker.is_file() and marker.read_text() == expected):
            copy_workspace(fixture, ws)
            if fill is not None:
                fill(ws / "data" / "backups")
            marker.write_text(f"{version} {_tree(ws)}")
    return ws


@pytest.fixture
def snapshot_ws(fixture_workspace: Path) -> Path:
    """The fixture with six fixed backups, at a fixed path."""
    return fixed_copy(fixture_workspace, "backups-ws", fill_backups)


@pytest.fixture
def empty_ws(fixture_workspace: Path) -> Path:
    """The fixture with no backups at all, at a fixed path."""
    return fixed_copy(fixture_workspace, "backups-empty-ws", None)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_list(snap_compare, snapshot_ws: Path, size: tuple[int, int]) -> None:
    app = build_on(snapshot_ws, preload=True)
    assert snap_compare(app, terminal_size=size, press=["7", "wait:200"])


def test_snapshot_detail_record(snap_compare, snapshot_ws: Path) -> None:
    app = build_on(snapshot_ws, preload=True)
    assert snap_compare(app, terminal_size=(80, 24), press=["7", "wait:200", "enter", "wait:100"])


@pytest.mark.parametrize(
    ("size", "name", "ok"),
    [((80, 24), "oos-20250928T224800Z.db", True), ((160, 48), "oos-20250928T104800Z.db", False)],
    ids=["80x24-ok", "160x48-mismatch"],
)
def test_snapshot_detail_report(
    snap_compare, snapshot_ws: Path, size: tuple[int, int], name: str, ok: bool
) -> None:
    app = build_on(snapshot_ws, preload=True)
    report = fixed_report(snapshot_ws / "data" / "backups" / name, ok=ok)

    async def run_before(pilot) -> None:
        await pilot.press("7")
        await pilot.pause(0.2)
        screen = pilot.app.screen
        assert isinstance(screen, BackupsScreen)
        screen.show_verify_report(report)
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=run_before, press=["wait:200"])


def test_snapshot_empty_read_only(snap_compare, empty_ws: Path) -> None:
    app = build_on(empty_ws, read_only=True, preload=True)
    assert snap_compare(app, terminal_size=(80, 24), press=["7", "wait:200"])
