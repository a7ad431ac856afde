"""Pilot tests of the console frame: navigation, command line, help, palette, keymap."""

from __future__ import annotations

from pathlib import Path

import pytest

from oos_tui.app import make_app
from oos_tui.config import ConfigError, load_settings
from oos_tui.screens.help import HelpScreen
from oos_tui.screens.registry import SCREENS
from oos_tui.widgets.command_line import CommandLine
from oos_tui.widgets.nav_bar import NavBar


async def test_number_keys_switch_every_screen_and_esc_goes_back(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_mode == "overview"
        for index, (mode, _title) in enumerate(SCREENS, start=1):
            await pilot.press(str(index))
            await pilot.pause()
            assert app.current_mode == mode
            assert app.screen.query_one(NavBar)._current == mode
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "backups"
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "jobs"


def test_a_screen_without_a_module_says_it_is_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from oos_tui import app as app_module

    real = importlib.import_module

    def missing_audit(name: str, *args, **kwargs):
        if name == "oos_tui.screens.audit":
            raise ModuleNotFoundError(name=name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", missing_audit)
    app_module._screen_class.cache_clear()
    placeholder = app_module._screen_class("audit")
    app_module._screen_class.cache_clear()
    assert placeholder.__name__ == "AuditScreen"
    assert placeholder.MODE == "audit"
    body = list(placeholder.compose_body(placeholder()))
    assert "not built yet" in str(body[0].render())


async def test_command_line_switches_screen(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon")
        await pilot.pause()
        line = app.screen.query_one(CommandLine)
        assert line.has_class("-open") and app.focused is line
        await pilot.press(*"breakers", "enter")
        await pilot.pause()
        assert app.current_mode == "breakers"
        assert not app.screen.query_one(CommandLine).has_class("-open")


async def test_command_completion_with_tab(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", "q", "u")
        await pilot.pause(0.2)
        await pilot.press("tab")
        assert app.screen.query_one(CommandLine).value == "queues"
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "queues"


async def test_theme_command_and_bad_command(build_app) -> None:
    app = build_app()
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        await pilot.press("colon", *"theme oos-mono", "enter")
        await pilot.pause()
        assert app.theme == "oos-mono"
        await pilot.press("colon", *"frobnicate", "enter")
        await pilot.pause()
        assert any("unknown command" in n for n in notes)
        assert app.current_mode == "overview"


async def test_quit_command(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", "q", "enter")
        await pilot.pause()
    assert app.return_code == 0


async def test_q_quits(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running


async def test_help_is_generated_from_bindings(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-body Static").render())
        for expected in ("Cmd", "Filter", "Quit", "Open", ":queues", ":theme NAME", "Overview"):
            assert expected in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_keys_remapped_in_config(build_app) -> None:
    app = build_app(config='[keys]\n"app.quit" = "x"\n"screen.events" = "e"\n')
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert app.current_mode == "events"
        await pilot.press("q")  # no longer quits
        await pilot.pause()
        assert app.is_running
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(app.screen.query_one("#help-body Static").render())
        assert "x" in text and "Quit" in text
        await pilot.press("escape", "x")
        await pilot.pause()
    assert not app.is_running


def test_unknown_binding_id_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text('[keys]\n"app.quitt" = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown binding id 'app\.quitt'"):
        make_app(load_settings(tmp_path, env={}))


def test_unknown_theme_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "oos-tui.toml").write_text('theme = "neon"\n')
    with pytest.raises(ConfigError, match="unknown theme 'neon'"):
        make_app(load_settings(tmp_path, env={}))


async def test_palette_lists_screens_and_actions(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"go to jobs")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.current_mode == "jobs"


async def test_panels_say_where_figures_come_from(build_app) -> None:
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        where = app.screen.query_one("WhereFrom")
        assert "pending" in where._text  # the queues panel has focus first
        await pilot.press("tab")
        await pilot.pause()
        assert "circuit_breakers" in where._text
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "breakers"


async def test_an_unexpected_error_ends_with_one_line_and_a_crash_log(build_app) -> None:
    from textual.widgets import Static

    class Boom(Static):
        def render(self):
            raise RuntimeError("injected render failure\nsecond line")

    app = build_app()
    with pytest.raises(RuntimeError, match="injected render failure"):  # Pilot re-raises it
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.screen.mount(Boom())
            await pilot.pause(0.3)
    assert app.return_code == 1
    assert app.crash_log is not None and app.crash_log.exists()
    assert "injected render failure" in app.crash_log.read_text()
    line = app.crash_line or ""
    assert line.startswith("oos-tui: error: the console stopped on an unexpected error")
    assert "\n" not in line and str(app.crash_log) in line


async def test_table_cells_from_logs_are_never_markup(build_app) -> None:
    from oos_tui.widgets.table import OosTable

    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = OosTable()
        await app.screen.mount(table)
        table.add_columns("text")
        table.set_rows([("a", ("[bold red]markup[/] [@click=app.quit]x[/]",))])
        await pilot.pause()
        cell = table.get_cell("a", table.ordered_columns[0].key)
        assert str(cell) == "[bold red]markup[/] [@click=app.quit]x[/]"
        assert app.is_running


async def test_redaction_patterns_reach_every_pane(build_app) -> None:
    from oos_tui.sanitize import default_sanitizer

    build_app(config='[redact]\npatterns = ["ticket-([0-9]+)"]\n')
    assert default_sanitizer().clean("see ticket-4242") == "see ticket-***"


async def test_start_screen_opens_the_console_on_that_screen(build_app) -> None:
    app = build_app(start_screen="events")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.current_mode == "events"
        assert app.screen.query_one(NavBar)._current == "events"
        await pilot.press("1")
        await pilot.pause()
        assert app.current_mode == "overview"


def test_unknown_start_screen_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown screen 'evnts'"):
        make_app(load_settings(tmp_path, env={}), start_screen="evnts")


async def test_the_css_is_parsed_once_at_start_up(build_app) -> None:
    """Every widget's CSS is in the first parse: opening a screen parses nothing again.

    Textual re-parses all the CSS (25 to 40 ms) for each new kind of widget
    mounted and each first visit of a screen; the console preloads and skips.
    """
    app = build_app(start_screen="events")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.stylesheet.full_parses == 1
        await pilot.press("1", "2", "1")
        await pilot.pause()
        # The Overview's module was imported on its first visit: at most one parse more.
        assert app.stylesheet.full_parses <= 2
        parses = app.stylesheet.full_parses
        await pilot.press("2", "1", "2")
        await pilot.pause()
        assert app.stylesheet.full_parses == parses
        app.set_console_theme("oos-light")  # new variables: the one reason to parse again
        await pilot.pause()
        assert app.stylesheet.full_parses == parses + 1


async def _screen_after_start(app) -> str:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        return app.export_screenshot()


async def test_the_parsed_css_is_kept_for_the_next_start(build_app, tmp_path: Path) -> None:
    """The second start loads the rules the first one parsed, and looks the same."""
    cache = tmp_path / "cache" / "css"
    first = build_app(start_screen="events", css_cache=cache)
    shot = await _screen_after_start(first)
    assert (first.stylesheet.full_parses, first.stylesheet.cache_loads) == (1, 0)
    (kept,) = cache.glob("css-*.pickle")
    assert kept.stat().st_mode & 0o777 == 0o600 and cache.stat().st_mode & 0o777 == 0o700

    second = build_app(start_screen="events", css_cache=cache)
    assert await _screen_after_start(second) == shot
    assert (second.stylesheet.full_parses, second.stylesheet.cache_loads) == (0, 1)

    light = build_app(start_screen="events", css_cache=cache, config='theme = "oos-light"\n')
    await _screen_after_start(light)  # other variables: another key, parsed and kept
    assert light.stylesheet.full_parses == 1 and len(list(cache.glob("css-*.pickle"))) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "writable by others"])
async def test_a_damaged_or_unsafe_css_cache_is_parsed_over(
    build_app, tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "css"
    shot = await _screen_after_start(build_app(start_screen="events", css_cache=cache))
    (kept,) = cache.glob("css-*.pickle")
    if damage == "garbage":
        kept.write_bytes(b"not a pickle at all")
    elif damage == "truncated":
        kept.write_bytes(kept.read_bytes()[:1000])
    else:
        kept.chmod(0o666)  # a pickle runs code: only a private file is loaded
    app = build_app(start_screen="events", css_cache=cache)
    assert await _screen_after_start(app) == shot
    assert (app.stylesheet.full_parses, app.stylesheet.cache_loads) == (1, 0)
    assert kept.stat().st_mode & 0o777 == 0o600  # replaced by a good, private copy
    again = build_app(start_screen="events", css_cache=cache)
    await _screen_after_start(again)
    assert again.stylesheet.cache_loads == 1


async def test_the_first_screen_is_composed_with_the_first_step_and_follows_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI reads the newest events while Textual loads; the feed carries on from there."""
    import functools
    import time

    from oos_tui.eventlog.first import FirstStep
    from oos_tui.formats import pipe
    from oos_tui.screens.events import EventsScreen
    from oos_tui.widgets.event_list import EventList

    at_mount: list[int | None] = []
    mount = EventsScreen.on_mount

    @functools.wraps(mount)
    def spy(self: EventsScreen) -> None:  # what the screen had when it was first drawn
        at_mount.append(
            None if self.oos_app.state.stream is None else self.oos_app.state.stream.total
        )
        mount(self)

    monkeypatch.setattr(EventsScreen, "on_mount", spy)

    ws = tmp_path / "ws"
    ws.mkdir()
    t0 = 1_759_111_200.0
    lines = [
        pipe.write_line(t0 + i, "PROCESS", "podcast", "S", f"i{i}", {"title": f"old-{i}"})
        for i in range(50)
    ]
    (ws / "oos.log").write_bytes(b"".join(lines))
    settings = load_settings(ws, env={})
    first = FirstStep(settings)
    deadline = time.monotonic() + 30
    while not first.done and time.monotonic() < deadline:
        time.sleep(0.01)  # as when Textual's import took longer than the read
    app = make_app(settings, start_screen="events", first_step=first)

    def shown(lst: EventList) -> str:
        return "\n".join(lst.render_line(y).text for y in range(lst.size.height))

    async with app.run_test(size=(100, 30)) as pilot:
        assert at_mount == [50]
        lst = app.screen.query_one(EventList)
        await pilot.pause()
        assert "old-49" in shown(lst)
        with open(ws / "oos.log", "ab") as fh:
            fh.write(pipe.write_line(t0 + 60, "FAIL", "podcast", "S", "i60", {"error": "new-60"}))
        for _ in range(400):
            await pilot.pause(0.025)
            if "new-60" in shown(lst):
                break
        assert "new-60" in shown(lst), "the feed did not follow on from the first step's stream"
        assert app.state.stream.total == 51  # nothing read twice


async def test_the_collector_paused_for_start_up_runs_again_after_the_first_frame(
    build_app,
) -> None:
    import gc

    from oos_tui.memory import pause_collector

    app = build_app(start_screen="events", feeds=True)
    pause_collector()  # as the CLI does before importing Textual
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
