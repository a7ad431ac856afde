"""The Resources screen: host graphs, processes, sizes, producer history and store health.

Every input is deterministic: host samples come from the real sampler over a
FakePsutil stepped by a frozen clock, processes from the real scanner over
the same fake, sizes and history from the real readers on the fixture
workspace. Review every snapshot SVG before accepting it.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fixtures.state import load_state
from fixtures.workspace import FIXTURE_NOW
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from oos_tui.app import OosApp, make_app
from oos_tui.clock import FrozenClock
from oos_tui.config import Settings, load_settings
from oos_tui.feeds import ResourcesSampled
from oos_tui.formats import ai
from oos_tui.integrity import IntegrityRecord, last_integrity
from oos_tui.screens.resources import ResourcesScreen
from oos_tui.sources.fake_psutil import BASE_TIME, FakePsutil, MiB, default_processes
from oos_tui.sources.metrics_history import read_metrics_history
from oos_tui.sources.processes import ProcessScanner
from oos_tui.sources.sizes import SizeTracker, measure_sizes
from oos_tui.sources.system import HostSample, SystemSampler
from oos_tui.state import ConsoleState
from oos_tui.store.schema import init_store
from oos_tui.widgets.process_table import ProcessTable, short_command
from oos_tui.widgets.producer_history import ProducerHistoryPane, time_columns
from oos_tui.widgets.size_table import SizeTable, growth_text
from oos_tui.widgets.spark import block_chart
from oos_tui.widgets.store_health import StoreHealthPane
from oos_tui.widgets.table import OosTable
from oos_tui.widgets.where_from import WhereFrom

SIZES = [(80, 24), (160, 48)]
SAMPLES = 450  # 15 minutes at 2 s


# -- deterministic inputs ---------------------------------------------------------------


def fake_psutil() -> FakePsutil:
    """The fake host, its processes started relative to the fixture's frozen now."""
    shift = BASE_TIME - FIXTURE_NOW
    procs = {
        p.pid: dataclasses.replace(p, create_time=p.create_time - shift)
        for p in default_processes()
    }
    return FakePsutil(processes=procs)


def host_samples(settings: Settings, count: int = SAMPLES) -> tuple[HostSample, ...]:
    """The real sampler over the fake, 2 s apart, with a load spike over the limit mid-way."""
    fake = fake_psutil()
    clock = FrozenClock(FIXTURE_NOW - 2.0 * count)
    sampler = SystemSampler(settings.workspace, psutil_module=fake, clock=clock)
    out = []
    read = written = 0
    for i in range(count):
        clock.advance(2.0)
        wave = (math.sin(i / 9) + 1) / 2
        fake.cpu = round(12 + 55 * wave + (20 if 200 <= i < 260 else 0), 1)
        fake.per_cpu = tuple(round(min(100.0, fake.cpu * f), 1) for f in (1.3, 0.7, 1.1, 0.9))
        spike = 3.9 if 190 <= i < 280 else 0.0
        fake.load = (round(1.1 + spike + 0.4 * wave, 2), round(1.0 + spike / 2, 2), 0.8)
        fake.mem_available = int((9.5 - 2.0 * i / count) * 1024 * MiB)
        # The fake's counters are base + calls × io_step: choose the step that
        # makes the counters grow by the rates wanted.
        if i:
            read += int((2 + 3 * wave) * MiB)
            written += int((4 + 2 * (1 - wave)) * MiB)
            fake.io_step = (read // i, written // i)
        out.append(sampler.sample())
    return tuple(out)


def resources(settings: Settings, fake: FakePsutil | None = None) -> ResourcesSampled:
    """Processes (scanned twice: CPU % needs a baseline), sizes with rates, producer history."""
    fake = fake or fake_psutil()
    scanner = ProcessScanner(settings.processes.patterns, psutil_module=fake, self_pid=4242)
    scanner.scan()
    procs = scanner.scan()
    # The walk's own duration is wall-clock time: pinned so snapshots are stable.
    sizes = dataclasses.replace(measure_sizes(settings, FIXTURE_NOW), cost=0.004)
    tracker = SizeTracker()
    earlier = dataclasses.replace(
        sizes, ts=FIXTURE_NOW - 600, store=sizes.store - 120_000, logs=sizes.logs - 3_000
    )
    tracker.add(earlier)
    tracker.add(sizes)
    history = read_metrics_history(settings.ai_events_log, FIXTURE_NOW)
    return ResourcesSampled(
        processes=procs, sizes=sizes, size_rates=tracker.rates(), history=history
    )


def full_state(settings: Settings, clock: FrozenClock) -> ConsoleState:
    """The fixture's state with 15 minutes of host samples and every resource figure."""
    state = load_state(settings, clock)
    state = dataclasses.replace(state, host=host_samples(settings))
    return state.with_resources(resources(settings))


@pytest.fixture
def resources_app(fixture_workspace: Path) -> Callable[..., OosApp]:
    """The console on the fixture workspace with every resource figure injected (feeds off)."""

    def build(
        *, workspace: Path | None = None, state: ConsoleState | None = None, read_only: bool = False
    ) -> OosApp:
        settings = load_settings(workspace or fixture_workspace, env={}, read_only=read_only)
        clock = FrozenClock(FIXTURE_NOW)
        initial = state if state is not None else full_state(settings, clock)
        app = make_app(settings, clock=clock, feeds=False, initial_state=initial)
        app.animation_level = "none"
        return app

    return build


def text_of(widget: Widget) -> str:
    """Everything a pane shows as plain text (its own content and its Statics')."""
    parts = []
    for w in [widget, *widget.query(Static)]:
        if isinstance(w, Static):
            parts.append(str(w.visual))
    return "\n".join(parts)


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


async def open_resources(pilot) -> ResourcesScreen:
    await pilot.press("5")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ResourcesScreen))
    await pilot.pause(0.1)
    screen = pilot.app.screen
    assert isinstance(screen, ResourcesScreen)
    return screen


# -- pure parts ---------------------------------------------------------------------------


def test_block_chart_has_eight_levels_per_row_and_blank_gaps() -> None:
    rows = block_chart([0.0, 25.0, 50.0, 100.0, None], 2, 100.0)
    assert rows == ["   █ ", "▁▄██ "]


def test_time_columns_blank_inside_a_gap_and_carried_between_sparse_samples() -> None:
    points = [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0), (50.0, None), (80.0, 40.0), (90.0, 50.0)]
    cols = time_columns(points, 0.0, 100.0, 20)
    assert cols[0] == 10.0 and cols[1] == 10.0  # carried between two samples
    assert all(c is None for c in cols[5:16])  # the gap: blank
    assert cols[16] == 40.0 and cols[18] == 50.0
    assert cols[19] is None  # after the last sample


def test_growth_text_units() -> None:
    assert growth_text(None) == "…"
    assert growth_text(0.001) == "steady"
    assert growth_text(200.0) == "+12.0 kB/min"
    assert growth_text(5.0) == "+18.0 kB/h"
    assert growth_text(-200.0) == "-12.0 kB/min"


def test_short_command_keeps_the_program_name_and_arguments() -> None:
    cmd = "/srv/oos/.venv/bin/oos-worker --queue ingest"
    assert short_command(cmd, 80) == "oos-worker --queue ingest"
    assert short_command(cmd, 13) == "oos-worker -…"


def test_sampler_and_scanner_over_the_fake_are_deterministic(fixture_workspace: Path) -> None:
    settings = load_settings(fixture_workspace, env={})
    first, second = host_samples(settings, 30), host_samples(settings, 30)
    assert first == second
    assert first[-1].ts == FIXTURE_NOW
    assert first[1].disk_read_bps is not None
    procs = resources(settings).processes
    assert procs is not None
    assert [p.pid for p in procs] == [4100, 4101, 4102, 4103, 4242]
    assert procs[-1].is_self and procs[2].cpu_percent == 87.2


# -- the screen -----------------------------------------------------------------------------


async def test_host_figures_shown(resources_app) -> None:
    app = resources_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_resources(pilot)
        s = app.state.host[-1]
        text = text_of(screen.query_one("#host-graphs"))
        assert f"cpu {s.cpu_percent:5.1f}%" in text
        assert f"load {s.load1:.2f} {s.load5:.2f} {s.load15:.2f}" in text
        assert f"mem {s.mem_percent:5.1f}% used" in text
        assert "42% of 500 GB (alert 80%)" in text
        top = max(x.load1 for x in app.state.host)
        assert top > 4.0 and f"{top:.1f} lim 4" in text  # the spike sets the scale
        assert screen.query_one("#host-graphs").border_title == "Host · last 15m"


async def test_wide_layout_shows_per_core_lines_and_io(resources_app) -> None:
    app = resources_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_resources(pilot)
        assert screen.has_class("-wide")
        text = text_of(screen.query_one("#host-graphs"))
        for core in range(4):
            assert f"cpu{core}" in text
        assert "disk I/O read" in text and "write" in text


async def test_processes_listed_and_console_marked(resources_app) -> None:
    app = resources_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_resources(pilot)
        table = screen.query_one(ProcessTable).query_one(OosTable)
        rows = {str(key.value): [str(c) for c in table.get_row(key)] for key in table.rows}
        assert set(rows) == {"4100", "4101", "4102", "4103", "4242"}
        assert rows["4102"][1] == "87.2" and rows["4102"][2] == "1.5 GB"
        assert rows["4102"][6] == "oos-worker --queue transcribe"
        assert rows["4101"][4] == "1h29m50s"[:5]  # uptime from the fake's start time
        assert rows["4242"][6].startswith("this console · python3")
        assert "this console" not in rows["4100"][6]
        title = screen.query_one(ProcessTable).border_title
        assert title == "Processes · 4 of the pipeline + this console"


async def test_no_pipeline_process_says_which_patterns(resources_app, fixture_workspace) -> None:
    settings = load_settings(fixture_workspace, env={})
    fake = fake_psutil()
    for pid in (4100, 4101, 4102, 4103):
        fake.kill(pid)
    state = full_state(settings, FrozenClock(FIXTURE_NOW)).with_resources(
        ResourcesSampled(processes=resources(settings, fake).processes)
    )
    app = resources_app(state=state)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_resources(pilot)
        text = text_of(screen.query_one(ProcessTable))
        assert "no pipeline processes found (patterns: oos-tui\\s+demo, oos_tui\\.demo" in text
        assert screen.query_one(ProcessTable).query_one(OosTable).row_count == 1


async def test_sizes_with_growth_rates(resources_app) -> None:
    app = resources_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_resources(pilot)
        text = text_of(screen.query_one(SizeTable))
        sizes = app.state.sizes
        assert "store" in text and "+12.0 kB/min" in text  # 120 kB in 10 minutes
        assert "logs" in text and "+18.0 kB/h" in text
        assert f"{sizes.out_files} files" in text
        assert "filesystem 42% used" in text


async def test_sizes_measuring_before_the_first_measurement(resources_app, fixture_workspace):
    settings = load_settings(fixture_workspace, env={})
    app = resources_app(state=load_state(settings, FrozenClock(FIXTURE_NOW)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_resources(pilot)
        assert "measuring…" in text_of(screen.query_one(SizeTable))
        assert "scanning processes…" in text_of(screen.query_one(ProcessTable))


async def test_store_health_page_count_and_no_check_recorded(resources_app) -> None:
    app = resources_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_resources(pilot)
        pane = screen.query_one(StoreHealthPane)
        await wait_for(pilot, lambda: "reading the last result" not in text_of(pane))
        health = app.state.store.health
        text = text_of(pane)
        assert f"({health.page_count:,} × {health.page_size:,} B pages)" in text
        assert "freelist 0 (0.0%)" in text
        assert "no integrity check recorded" in text
        assert "VACUUM" not in text


@pytest.fixture
def workspace_copy(fixture_workspace: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the fixture workspace: a check writes its record into the cache dir."""
    ws = tmp_path / "ws"
    shutil.copytree(fixture_workspace, ws)
    yield ws


async def test_c_runs_a_real_quick_check_and_records_it(resources_app, workspace_copy) -> None:
    # Read-only mode on purpose: a check only reads the store, so it is allowed there.
    settings = load_settings(workspace_copy, env={}, read_only=True)
    state = load_state(settings, FrozenClock(FIXTURE_NOW))
    app = resources_app(workspace=workspace_copy, state=state, read_only=True)
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        screen = await open_resources(pilot)
        pane = screen.query_one(StoreHealthPane)
        await wait_for(pilot, lambda: "no integrity check recorded" in text_of(pane))
        await pilot.press("c")
        await wait_for(pilot, lambda: pane.record is not None)
        await pilot.pause(0.2)
        assert "check quick_check ok" in text_of(pane)
        assert "2025-09-29 02:00:00Z" in text_of(pane)
        assert not pane.query(ProgressBar)  # gone once the check ended
    assert notes == ["quick_check ok, recorded"]
    assert (workspace_copy / ".oos-tui" / "integrity.json").is_file()
    assert app.state.read_only
    record = last_integrity(settings)
    assert record is not None and record.ok and record.kind == "quick_check"
    assert record.at == FIXTURE_NOW


async def test_a_check_shows_progress_and_esc_cancels_it(
    resources_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []

    def slow_check(settings, progress, *, full=False, clock=None):
        i = 0
        while True:
            i += 1
            calls.append(min(0.99, i / 100))
            if progress(min(0.99, i / 100)):
                break
            time.sleep(0.01)
        return IntegrityRecord(False, clock.now(), "cancelled", "quick_check"), "cancelled"

    monkeypatch.setattr("oos_tui.screens.resources.check_store", slow_check)
    app = resources_app()
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        screen = await open_resources(pilot)
        pane = screen.query_one(StoreHealthPane)
        assert not pane.query(ProgressBar)  # no bar (and no timer) while idle
        await pilot.press("c")
        await wait_for(pilot, lambda: bool(pane.query(ProgressBar)))
        bar = pane.query_one(ProgressBar)
        await wait_for(pilot, lambda: (bar.progress or 0) > 2)
        assert "quick_check… esc or c cancels" in text_of(pane)
        await pilot.press("escape")
        await wait_for(pilot, lambda: bool(notes))
        assert notes == ["quick_check cancelled: nothing recorded"]
        assert app.current_mode == "resources"  # esc cancelled the check, it did not go back
        assert not pane.query(ProgressBar)
        # Pressing c twice: the second press cancels too.
        calls.clear()
        await pilot.press("c")
        await wait_for(pilot, lambda: len(calls) > 3)
        await pilot.press("c")
        await wait_for(pilot, lambda: len(notes) == 2)
        assert notes[-1] == "quick_check cancelled: nothing recorded"
        await pilot.press("escape")  # no check running: esc goes back as everywhere
        await pilot.pause(0.2)
        assert app.current_mode == "overview"


def _store_with_big_freelist(ws: Path) -> None:
    db = ws / "data" / "oos.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    init_store(db)
    con = sqlite3.connect(db)
    rows = [
        (f"ev-{i}", "2025-09-29T01:00:00Z", "sys", "metric", "info", "t", "x" * 2000, "{}", "[]",
         None, None, None, "{}")
        for i in range(2000)
    ]  # fmt: skip
    con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.execute("DELETE FROM events")
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


async def test_freelist_over_a_quarter_advises_a_vacuum(tmp_path: Path, resources_app) -> None:
    ws = tmp_path / "big-freelist"
    _store_with_big_freelist(ws)
    settings = load_settings(ws, env={})
    state = load_state(settings, FrozenClock(FIXTURE_NOW))
    health = state.store.health
    assert health.freelist_count / health.page_count > 0.25
    app = resources_app(workspace=ws, state=state)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_resources(pilot)
        text = text_of(screen.query_one(StoreHealthPane))
        ratio = health.freelist_count / health.page_count
        advice = f"▲ {ratio:.0%} of pages are free (over 25%): the OOS policy recommends a VACUUM"
        assert advice.split() == " ".join(text.split("\n")[2:4]).split()
    app = resources_app(workspace=ws, state=state)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_resources(pilot)
        assert "▲ >25% free: VACUUM recommended" in text_of(screen.query_one(StoreHealthPane))


def _write_history_with_gap(path: Path) -> None:
    lines = []
    for minute in [*range(0, 10), *range(40, 50)]:
        lines.append(
            ai.write_line(
                FIXTURE_NOW - 3000 + minute * 60,
                "metric",
                "system",
                "resource_monitor",
                {"action": "sample"},
                system_metrics={"cpu_percent": 30.0 + minute % 7, "memory_percent": 50.0},
            )
        )
    path.write_bytes(b"".join(lines))


async def test_producer_history_draws_a_gap_as_blank(tmp_path: Path, resources_app) -> None:
    ws = tmp_path / "gap"
    ws.mkdir()
    _write_history_with_gap(ws / "ai_events.log")
    settings = load_settings(ws, env={})
    history = read_metrics_history(settings.ai_events_log, FIXTURE_NOW)
    assert history.gaps == 1
    state = ConsoleState(workspace=str(ws), read_only=False)
    state = dataclasses.replace(state, host=host_samples(settings, 60))
    state = state.with_resources(ResourcesSampled(history=history))
    app = resources_app(workspace=ws, state=state)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_resources(pilot)
        lines = text_of(screen.query_one(ProducerHistoryPane)).splitlines()
        assert lines[0] == "producer: 20 samples over 49m00s, 1 gap (blank)"
        cpu_rows = lines[1 : lines.index(next(x for x in lines if x.startswith("producer mem")))]
        bottom = cpu_rows[-1][17:-5]
        drawn = bottom.strip()
        assert "          " in drawn  # the 30 minutes without samples stay blank
        assert drawn.index(" ") > 5 and drawn.rindex(" ") < len(drawn) - 5
        assert any(x.startswith("console cpu") for x in lines)


async def test_producer_history_empty_says_so(tmp_path: Path, resources_app) -> None:
    ws = tmp_path / "empty"
    ws.mkdir()
    settings = load_settings(ws, env={})
    state = ConsoleState(workspace=str(ws), read_only=False)
    state = dataclasses.replace(state, host=host_samples(settings, 60))
    history = read_metrics_history(settings.ai_events_log, FIXTURE_NOW)
    app = resources_app(workspace=ws, state=state.with_resources(ResourcesSampled(history=history)))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_resources(pilot)
        text = text_of(screen.query_one(ProducerHistoryPane))
        assert "no system_metrics in ai_events.log yet" in text
        assert "console cpu" in text


@pytest.mark.parametrize(
    ("arg", "pane"),
    [("disk", "#sizes"), ("memory", "#host-graphs"), ("host", "#host-graphs"),
     ("store", "#store-health"), ("processes", "#process-list")],
)  # fmt: skip
async def test_alert_arguments_focus_their_pane(resources_app, arg: str, pane: str) -> None:
    app = resources_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.open_screen("resources", arg)  # what an alert's "open" does
        await wait_for(pilot, lambda: isinstance(app.screen, ResourcesScreen))
        await wait_for(pilot, lambda: app.focused is app.screen.query_one(pane))


async def test_each_pane_says_where_its_figures_come_from(resources_app) -> None:
    app = resources_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_resources(pilot)
        where = screen.query_one(WhereFrom)
        seen = [str(where.visual)]
        for _ in range(4):
            await pilot.press("tab")
            await pilot.pause()
            seen.append(str(where.visual))
        assert seen[0].startswith("psutil every 2 s: cpu total and per core")
        assert seen[1].startswith("psutil process scan every 10 s")
        assert seen[2].startswith("os.scandir every 30 s")
        assert seen[3].startswith("oos.db PRAGMA page_count")
        assert seen[4].startswith("ai_events.log system_metrics, last 24 h")
        assert all(len(s) <= 78 for s in seen), seen


# -- snapshots ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_snapshot(snap_compare, resources_app, size: tuple[int, int]) -> None:
    assert snap_compare(resources_app(), terminal_size=size, press=["5", "wait:200"])


def test_snapshot_compact_scrolled_to_history(snap_compare, resources_app) -> None:
    keys = ["5", "wait:100", "tab", "tab", "tab", "tab", "wait:200"]
    assert snap_compare(resources_app(), terminal_size=(80, 24), press=keys)
