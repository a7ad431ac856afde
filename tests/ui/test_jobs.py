"""Pilot tests of the Jobs screen: list, filter, job view, lineage, timeline, logs, live updates."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oos_tui.app import OosApp
from oos_tui.clock import FrozenClock
from oos_tui.config import Settings
from oos_tui.lineage import Node
from oos_tui.models import Stage
from oos_tui.query import compile_query
from oos_tui.screens.events import EventsScreen
from oos_tui.screens.jobs import JobsScreen, file_query
from oos_tui.sources.jobs import JobScanner, JobsSnapshot, TimelineEntry
from oos_tui.widgets.event_list import EventList
from oos_tui.widgets.job_table import JobTable
from oos_tui.widgets.job_timeline import JobTimeline, timeline_cells
from oos_tui.widgets.lineage_tree import LineageTree, node_label
from oos_tui.widgets.stage_table import StageDetail, StageTable, stage_cells

JOBS_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "jobs"

Notes = list[tuple[str, str]]


def scan(settings: Settings, **kw: Any) -> JobsSnapshot:
    """One scan of the workspace's ``out/`` by the fixture clock."""
    from fixtures.workspace import FIXTURE_NOW

    return JobScanner(settings, clock=FrozenClock(FIXTURE_NOW), **kw).scan()


@pytest.fixture
def jobs_app(fixture_app: Callable[..., OosApp]) -> Callable[..., OosApp]:
    """The console on the fixture workspace with a scan of its ``out/`` in the state."""

    def build(**kw: Any) -> OosApp:
        app = fixture_app(**kw)
        app.state = app.state.with_jobs(scan(app.settings))
        return app

    return build


def capture_notes(app: OosApp) -> Notes:
    """Collect (severity, message) of every toast instead of showing it."""
    notes: Notes = []

    def notify(message: str, **kw: Any) -> None:
        notes.append((kw.get("severity", "information"), str(message)))

    app.notify = notify  # type: ignore[method-assign]
    return notes


async def open_jobs(pilot: Any) -> JobsScreen:
    await pilot.press("6")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, JobsScreen)
    return screen


def row_keys(table: Any) -> list[str]:
    return [str(row.key.value) for row in table.ordered_rows]


def cell(table: Any, key: str, column: str) -> str:
    return table.get_cell(key, column).plain


def shown(widget: Any) -> bool:
    """Displayed, with every container above it displayed too."""
    return all(node.display for node in (widget, *widget.ancestors) if hasattr(node, "display"))


async def wait_for(
    pilot: Any, check: Callable[[], bool], seconds: float = 30.0, what: Callable[[], str] = str
) -> None:
    """Let the app run until ``check()`` holds (searches run in worker threads)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting: {what()}"
        await pilot.pause(0.05)


# -- the list -------------------------------------------------------------------------


async def test_list_shows_jobs_newest_first_with_status_words(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        table = screen.query_one(JobTable)
        assert row_keys(table) == ["job-0003", "job-0002", "job-0001"]
        assert cell(table, "job-0003", "status") == "▶ running"
        assert cell(table, "job-0002", "status") == "✕ failed"
        assert cell(table, "job-0001", "status") == "✓ success"
        assert cell(table, "job-0003", "stages") == "1/2"
        assert cell(table, "job-0002", "stages") == "2/2"
        assert cell(table, "job-0001", "stages") == "3/3"
        assert cell(table, "job-0002", "failed") == "02_asr"
        assert cell(table, "job-0001", "failed") == "-"
        assert cell(table, "job-0002", "duration") == "2m31s"
        # The running job's age comes from the console's clock, not the scan.
        assert cell(table, "job-0003", "duration") == "3m20s"
        assert cell(table, "job-0001", "output") == "768 B"
        info = str(screen.query_one("#jobs-info").render())
        assert "3 jobs under out/" in info and "✕ failed 1" in info
        assert app.focused is table


async def test_slash_filters_the_list(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        table = screen.query_one(JobTable)
        await pilot.press("slash", *"fail")
        await wait_for(pilot, lambda: row_keys(table) == ["job-0002"])
        assert "/fail: 1 shown" in str(screen.query_one("#jobs-info").render())
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is table and table.filter_text == "fail"
        await pilot.press("slash", "ctrl+u", *"02_asr")
        await wait_for(pilot, lambda: table.filter_text == "02_asr")
        assert row_keys(table) == ["job-0002"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(row_keys(table)) == 3)


async def test_enter_opens_the_failed_job_and_esc_comes_back(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        await pilot.press("j", "enter")
        await pilot.pause()
        assert screen.open_job_id == "job-0002"
        stages = screen.query_one(StageTable)
        assert app.focused is stages
        assert row_keys(stages) == ["01_demux", "02_asr"]
        assert cell(stages, "01_demux", "status") == "✓ success"
        assert cell(stages, "02_asr", "status") == "✕ failed"
        assert cell(stages, "02_asr", "errors") == "1"
        assert cell(stages, "02_asr", "cpu") == "80%"
        # The cursor starts on the stage that failed, and its detail is shown.
        assert stages.selected_stage == "02_asr"
        detail = screen.query_one(StageDetail).text
        assert "CUDA out of memory" in detail
        assert "01_demux/demux.json" in detail and "← 01_demux" in detail
        assert "02_asr/asr.json" in detail and "→ final" in detail
        assert "out/job-0002/02_asr/stage.log" in detail
        head = str(screen.query_one("#job-head").render())
        assert "✕ failed at 02_asr" in head and "2/2 stages" in head
        labels = [line.strip() for line in screen.query_one(LineageTree).labels()]
        assert labels[:5] == [
            "02_asr/asr.json  asr/json  210 kB  → final",
            "02_asr  ✕ failed",
            "01_demux/demux.json  demux/json  105 kB",
            "01_demux  ✓ success",
            "input/episode.mp3  audio/mp3  ← external  ! missing",
        ]

        # esc is the screen's first: back to the list, still on the Jobs screen.
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "jobs" and screen.open_job_id is None
        table = screen.query_one(JobTable)
        assert app.focused is table and table.selected_key == "job-0002"
        # On the list, esc is the app's "back" again.
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "overview"


async def test_lineage_tree_marks_external_inputs_and_final_outputs(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        await pilot.press("G", "enter")
        await pilot.pause()
        assert screen.open_job_id == "job-0001"
        await pilot.press("t")
        await pilot.pause()
        tree = screen.query_one(LineageTree)
        assert app.focused is tree and screen.pane == "lineage"
        assert shown(tree) and not shown(screen.query_one(StageDetail))
        labels = tree.labels()
        assert labels[0].startswith("03_summarize/summarize.json") and "→ final" in labels[0]
        assert labels[1].strip() == "03_summarize  ✓ success"
        assert any("02_asr/asr.json" in line for line in labels)
        external = [line for line in labels if "← external" in line]
        assert len(external) == 1 and "input/episode.mp3" in external[0]
        assert "audio/mp3" in external[0]
        # Moving in the tree moves the stage table to the stage under the cursor.
        await pilot.press("down")
        await pilot.pause()
        assert screen.query_one(StageTable).selected_stage == "03_summarize"
        await pilot.press("d")
        await pilot.pause()
        assert app.focused is screen.query_one(StageTable)
        assert shown(screen.query_one(StageDetail)) and not shown(tree)


async def test_timeline_shows_the_pipeline_logs_transitions(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        await pilot.press("j", "enter", "p")
        await pilot.pause()
        timeline = screen.query_one(JobTimeline)
        assert app.focused is timeline
        rows = [[timeline.get_cell(k, c).plain for c in ("event", "stage", "detail")]
                for k in row_keys(timeline)]  # fmt: skip
        assert rows == [
            ["▶ job started", "", ""],
            ["▷ started", "01_demux", ""],
            ["✓ finished", "01_demux", "success in 50s"],
            ["▷ started", "02_asr", ""],
            ["✕ failed", "02_asr", "CUDA out of memory"],
            ["✕ job failed", "", "failed"],
        ]
        assert timeline.get_cell(row_keys(timeline)[4], "offset").plain == "+2m30s"
        where = screen.query_one("WhereFrom")._text
        assert "out/job-0002/logs/99_pipeline_20250929T013500.log" in where


async def test_l_on_a_stage_shows_only_its_stage_log_in_events(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        await pilot.press("j", "enter")
        await pilot.pause()
        assert screen.query_one(StageTable).selected_stage == "02_asr"
        await pilot.press("l")
        await pilot.pause()
        assert app.current_mode == "events"
        events = app.screen
        assert isinstance(events, EventsScreen)
        assert events._text == "file:out/job-0002/02_asr/stage.log"
        lst = events.query_one(EventList)
        await wait_for(
            pilot,
            lambda: events._result is not None and lst.count == 2,
            what=lambda: f"result={events._result!r} count={lst.count} error={events._error}",
        )
        records = [lst.record(lst.ref_at(row)) for row in range(lst.count)]
        assert {r.file for r in records} == {"out/job-0002/02_asr/stage.log"}
        assert records[1].message.startswith("stage crashed")
        # esc returns to the job, where we were.
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "jobs" and app.screen.open_job_id == "job-0002"


async def test_l_on_the_list_shows_every_log_of_the_job(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_jobs(pilot)
        await pilot.press("G", "l")
        await pilot.pause()
        events = app.screen
        assert isinstance(events, EventsScreen) and events._text == "file:out/job-0001/"
        lst = events.query_one(EventList)
        await wait_for(pilot, lambda: events._result is not None and lst.count > 0)
        files = {lst.record(lst.ref_at(row)).file for row in range(lst.count)}
        assert files == {
            "out/job-0001/01_demux/stage.log",
            "out/job-0001/02_asr/stage.log",
            "out/job-0001/03_summarize/stage.log",
            "out/job-0001/logs/99_pipeline_20250929T013500.log",
        }


async def test_l_on_the_timeline_shows_the_pipeline_log(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_jobs(pilot)
        await pilot.press("j", "enter", "p", "l")
        await pilot.pause()
        events = app.screen
        assert isinstance(events, EventsScreen)
        assert events._text == "file:out/job-0002/logs/99_pipeline_20250929T013500.log"


async def test_a_job_that_disappears_stays_shown_as_gone(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        await pilot.press("j", "enter")
        await pilot.pause()
        snap = app.state.jobs
        rest = tuple(j for j in snap.jobs if j.id != "job-0002")
        app.set_state(app.state.with_jobs(JobsSnapshot(rest, 1.0, (), snap.out_dir, True)))
        await pilot.pause(0.2)
        assert screen.open_job_id == "job-0002"
        assert "no longer under out/" in str(screen.query_one("#job-head").render())
        assert row_keys(screen.query_one(StageTable)) == ["01_demux", "02_asr"]
        await pilot.press("escape")
        await pilot.pause()
        assert row_keys(screen.query_one(JobTable)) == ["job-0003", "job-0001"]


async def test_jobs_command_opens_a_job(jobs_app) -> None:
    app = jobs_app()
    notes = capture_notes(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"jobs job-0001", "enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, JobsScreen) and screen.open_job_id == "job-0001"
        assert row_keys(screen.query_one(StageTable)) == ["01_demux", "02_asr", "03_summarize"]
        await pilot.press("colon", *"jobs nope", "enter")
        await pilot.pause(0.2)
        assert screen.open_job_id == "job-0001"
        assert ("warning", "no job nope under out/") in notes


async def test_jobs_command_before_the_first_scan_waits_for_it(fixture_app) -> None:
    import dataclasses

    app = fixture_app()
    app.state = dataclasses.replace(app.state, jobs=None)  # no scan has landed yet
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"jobs job-0002", "enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, JobsScreen) and screen.open_job_id is None
        assert "scanning out/" in str(screen.query_one("#jobs-info").render())
        app.set_state(app.state.with_jobs(scan(app.settings)))
        await pilot.pause(0.2)
        assert screen.open_job_id == "job-0002"


async def test_new_scans_update_in_place_and_keep_the_selection(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        table = screen.query_one(JobTable)
        await pilot.press("G")
        assert table.selected_key == "job-0001"
        before = table._cache["job-0001"][1]
        snap = app.state.jobs
        # A new job appears on top; the others are the very same objects.
        newer = snap.jobs[0]
        newer = type(newer)(
            job=type(newer.job)(id="job-0004", path=newer.job.path, status="running",
                                started_at=newer.job.started_at + 60),
        )  # fmt: skip
        app.set_state(app.state.with_jobs(JobsSnapshot((newer, *snap.jobs), 1.0, (), "", True)))
        await pilot.pause(0.2)
        assert row_keys(table) == ["job-0004", "job-0003", "job-0002", "job-0001"]
        assert table.selected_key == "job-0001"
        assert table._cache["job-0001"][1] is before


async def test_status_colours_follow_the_theme(jobs_app) -> None:
    app = jobs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        table = screen.query_one(JobTable)
        before = table.get_cell("job-0002", "status").spans
        app.theme = "oos-light"
        await pilot.pause(0.2)
        after = table.get_cell("job-0002", "status")
        assert after.plain == "✕ failed" and after.spans and after.spans != before


# -- live: a job that grows while the console watches ---------------------------------


async def test_a_growing_job_updates_the_screen(build_app, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    out = ws / "out"
    out.mkdir(parents=True)
    app = build_app(ws)
    scanner = JobScanner(app.settings, malformed_grace_seconds=5.0)
    stages = 4
    seen: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_jobs(pilot)
            # The producer: a real second process writing the job while we scan it.
            proc = subprocess.Popen(
                [sys.executable, str(JOBS_FIXTURES / "grow_job.py"), str(out), "job-grow",
                 str(stages), "0.3"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            opened = False
            while time.monotonic() < deadline:
                done = proc.poll() is not None
                snap = await asyncio.to_thread(scanner.scan)
                app.set_state(app.state.with_jobs(snap))
                await pilot.pause(0.15)
                if not opened and snap.get("job-grow") is not None:
                    await pilot.press("enter")
                    await pilot.pause()
                    opened = screen.open_job_id == "job-grow"
                if opened:
                    table = screen.query_one(StageTable)
                    head = str(screen.query_one("#job-head").render())
                    rows = tuple((k, cell(table, k, "status")) for k in row_keys(table))
                    seen.append((head, rows))
                if done:
                    break
            assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
            last_head, last_rows = seen[-1]
            assert "✓ success" in last_head and f"{stages}/{stages} stages" in last_head
            assert [s for _, s in last_rows] == ["✓ success"] * stages
            # The stage table of the open job grew row by row, and never went back.
            counts = [len(rows) for _, rows in seen]
            assert counts == sorted(counts) and counts[0] < stages
            assert any("▶ running" in head for head, _ in seen)
            assert any(s in ("▶ running", "◌ pending") for _, rows in seen for _, s in rows)
            # A manifest caught half-written is retried, never shown as broken.
            assert all(s != "! malformed" for _, rows in seen for _, s in rows)
            assert screen.query_one(JobTable).get_cell("job-grow", "status").plain == "✓ success"
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)


# -- broken manifests -----------------------------------------------------------------


@pytest.fixture
def broken_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(JOBS_FIXTURES / "out", ws / "out")
    return ws


async def test_a_malformed_manifest_shows_its_error(build_app, broken_workspace: Path) -> None:
    app = build_app(broken_workspace)
    app.state = app.state.with_jobs(JobScanner(app.settings).scan())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        assert screen.open_job("job-d-broken")
        await pilot.pause()
        stages = screen.query_one(StageTable)
        assert cell(stages, "03_c", "status") == "! malformed"
        stages.move_to("03_c")
        await pilot.pause()
        info = app.state.jobs.get("job-d-broken")
        error = info.stage("03_c").manifest_error
        assert error
        assert f"! manifest: {error}" in screen.query_one(StageDetail).text
        labels = screen.query_one(LineageTree).labels()
        assert any("! from a later stage" in line for line in labels)
        assert any("! missing" in line and "02_b/gone.txt" in line for line in labels)
        assert any("lineage problem" in line for line in labels)


async def test_a_manifest_being_written_is_pending_then_read(build_app, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    stage = ws / "out" / "job-w" / "01_a"
    stage.mkdir(parents=True)
    whole = json.dumps({"stage": "a", "status": "success", "duration_seconds": 1.0}).encode()
    (stage / "manifest.json").write_bytes(whole[:20])
    app = build_app(ws)
    scanner = JobScanner(app.settings, malformed_grace_seconds=0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        app.set_state(app.state.with_jobs(scanner.scan()))
        await pilot.pause(0.2)
        screen.open_job("job-w")
        await pilot.pause()
        stages = screen.query_one(StageTable)
        assert cell(stages, "01_a", "status") == "◌ pending"
        assert "being written" in screen.query_one(StageDetail).text
        # Still half-written after the grace period and two more looks: broken after all.
        for _ in range(2):
            app.set_state(app.state.with_jobs(scanner.scan()))
            await pilot.pause(0.2)
        assert cell(stages, "01_a", "status") == "! malformed"
        assert "! manifest: bad JSON" in screen.query_one(StageDetail).text
        (stage / "manifest.json").write_bytes(whole)
        app.set_state(app.state.with_jobs(scanner.scan()))
        await pilot.pause(0.2)
        assert cell(stages, "01_a", "status") == "✓ success"


async def test_hostile_names_and_messages_are_shown_escaped(build_app, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    job = "j[b]x[@click=app.quit]\x1b[31m"
    stage = ws / "out" / job / "01_[@click=app.quit]"
    stage.mkdir(parents=True)
    manifest = {
        "stage": "a",
        "status": "failed",
        "outputs": [{"path": "01_[@click=app.quit]/o\x1b]52;c;aGk=\x07.txt", "type": "[red]t"}],
        "errors": [{"message": "boom \x1b[2J[link=x]click[/link] \u202egnp.exe"}],
    }
    (stage / "manifest.json").write_text(json.dumps(manifest))
    app = build_app(ws)
    app.state = app.state.with_jobs(JobScanner(app.settings).scan())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_jobs(pilot)
        table = screen.query_one(JobTable)
        (key,) = row_keys(table)
        shown = cell(table, key, "job")
        assert shown == "j[b]x[@click=app.quit]\\x1b[31m"
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and screen.open_job_id == job
        detail = screen.query_one(StageDetail).text
        assert "boom \\x1b[2J[link=x]click[/link] \\u202egnp.exe" in detail
        assert "o\\x1b]52;c;aGk=\\a.txt" in detail and "[red]t" in detail
        assert "\x1b" not in detail and "\u202e" not in detail
        assert cell(screen.query_one(StageTable), "01_[@click=app.quit]", "stage") == (
            "01_[@click=app.quit]"
        )


# -- pure parts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "directory", "expected"),
    [
        ("out/job-0002/02_asr/stage.log", False, "file:out/job-0002/02_asr/stage.log"),
        ("out/job 7/01_a/stage.log", False, 'file:"out/job 7/01_a/stage.log"'),
        ('out/a"b\\c/01_a/stage.log', False, 'file:"out/a\\"b\\\\c/01_a/stage.log"'),
        ("out/job-1", True, "file:out/job-1/"),
        ("out/j*b", True, "file:out/j*b/*"),
    ],
)
def test_file_query(path: str, directory: bool, expected: str) -> None:
    assert file_query(path, directory=directory) == expected
    compile_query(expected)


def test_file_query_selects_exactly_that_stage_log() -> None:
    from oos_tui.models import Event, Severity

    query = compile_query(file_query("out/job-1/02_asr/stage.log"))

    def event(file: str) -> Event:
        return Event(ts=0.0, severity=Severity.INFO, kind="job", source="s", event_type="log",
                     message="m", file=file, line=1)  # fmt: skip

    assert query.matches(event("out/job-1/02_asr/stage.log"))
    for other in (
        "out/job-1/01_demux/stage.log",
        "out/job-12/02_asr/stage.log",
        "out/job-1/logs/99_pipeline.log",
        "out/xjob-1/02_asr/stage.log",
    ):
        assert not query.matches(event(other)), other


def test_stage_cells_and_timeline_cells() -> None:
    stage = Stage("02_asr", 2, "asr", "running", started_at=100.0, resources={"memory_mb": 512.4})
    assert stage_cells(stage, 112.5) == (
        "02_asr", "▶ running", "12s", "0", "0", "0", "0", "-", "512 MB",
    )  # fmt: skip
    entry = TimelineEntry(160.0, "stage_finished", "02_asr", "skipped", 2.5)
    cells, style = timeline_cells(entry, 100.0)
    assert cells[1:] == ("+1m00s", "↷ finished (skipped)", "02_asr", "skipped in 2.5s")
    assert style == "finished"


def test_node_label_words_and_spans() -> None:
    node = Node("file", "input/a\x1b.mp3", "01_a", "input/a.mp3", "audio/mp3", ("external",))
    text, spans = node_label(node, {})
    assert text == "input/a\\x1b.mp3  audio/mp3  ← external"
    assert [text[a:b] for a, b, _ in spans] == ["audio/mp3", "← external"]
    stage = Node("stage", "02_b", "02_b", markers=("cycle",))
    text, _ = node_label(stage, {"02_b": "failed"})
    assert text == "02_b  ✕ failed  ↺ cycle"
