"""The real oos-tui binary in a real terminal (tmux): keys in, screen text out."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import oos_tui_binary
from e2e.tmux import Tmux

pytestmark = pytest.mark.e2e


def test_screens_command_line_help_and_quit(term: Tmux, demo_workspace: Path) -> None:
    term.start([oos_tui_binary(), "-w", str(demo_workspace)])
    screen = term.wait_for("Queues")
    assert "Breakers" in screen and "Host" in screen and "Pipeline" in screen
    assert "Traceback" not in screen
    term.send("4")
    term.wait_for("▸4 Breakers")
    term.send(":")
    term.type("queues")
    term.send("Enter")
    term.wait_for("▸3 Queues")
    term.send("?")
    screen = term.wait_for("Keys")
    assert "This screen" in screen and "Retry" in screen  # the Queues screen's own keys first
    term.send("Escape")
    term.wait_gone("Keys — esc")  # alone: escape then q at once reads as alt+q
    term.send("q")
    term.wait_for("[exited] 0")


def test_events_query_typed_into_the_real_binary(term: Tmux, demo_workspace: Path) -> None:
    term.start([oos_tui_binary(), "-w", str(demo_workspace)])
    term.wait_for("Queues")
    term.send("2")
    term.send("/")  # at once, as a person types: the keys must reach the Events screen
    term.type("type:FAIL")
    screen = term.wait_for("/type:FAIL")
    screen = term.wait_for(" shown", timeout=20)
    match = re.search(r"([\d,]+) of ([\d,]+) shown", screen)
    assert match, screen
    shown, total = (int(g.replace(",", "")) for g in match.groups())
    assert 0 < shown < total
    rows = [line for line in screen.splitlines() if re.match(r"\s+\d\d:\d\d:\d\d\.\d{3} ", line)]
    assert rows and all(" FAIL" in row for row in rows), screen
    term.send("Enter")  # keep the query, back to the list
    term.wait_until(lambda screen: screen.count("type:FAIL") == 1)  # the bar has closed
    term.send("q")
    term.wait_for("[exited] 0")


def test_live_events_from_a_running_producer(term: Tmux, tmp_path: Path) -> None:
    ws = tmp_path / "live"
    producer = subprocess.Popen(
        [
            oos_tui_binary(),
            "demo",
            "--headless",
            "-w",
            str(ws),
            "--seed",
            "4",
            "--rate",
            "40",
            "--duration",
            "30",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not (ws / "oos.log").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        term.start([oos_tui_binary(), "-w", str(ws)])
        term.wait_for("Queues")
        term.send("2")
        first = term.wait_for("events ● following")
        count = int(re.search(r"([\d,]+) events", first).group(1).replace(",", ""))
        time.sleep(3)
        later = term.capture()
        count2 = int(re.search(r"([\d,]+) events", later).group(1).replace(",", ""))
        assert count2 > count, later
        term.send("q")
        term.wait_for("[exited] 0")
    finally:
        producer.terminate()
        producer.wait(timeout=15)


def test_hostile_text_never_reaches_the_terminal(term: Tmux, tmp_path: Path) -> None:
    ws = tmp_path / "hostile"
    ws.mkdir()
    evil = (
        '2025-09-29T02:00:02.000Z|FAIL|p|Src|i1|{"error":"\\u001b]0;PWNED\\u0007'
        '\\u001b[2J [bold red]markup[/] \\u009b31m"}\n'
    )
    (ws / "oos.log").write_text(evil)
    term.start([oos_tui_binary(), "-w", str(ws)])
    term.wait_for("Queues")
    term.send("2")
    screen = term.wait_for("FAIL")
    assert "\\x1b]0;PWNED" in screen  # escaped, visible, inert
    term.send("Enter")  # the detail shows the whole message
    screen = term.wait_for("[bold red]markup[/]")
    assert "\\x9b31m" in screen
    title = subprocess.run(
        [term.tmux, "-L", term.socket, "display-message", "-p", "-t", "t", "#{pane_title}"],
        capture_output=True,
        text=True,
    ).stdout
    assert "PWNED" not in title
    term.send("q")
    term.wait_for("[exited] 0")


@pytest.mark.parametrize("theme", ["oos-mono", "oos-dark"])
def test_sixteen_colours_and_no_color(term: Tmux, demo_workspace: Path, theme: str) -> None:
    """A bare SSH session: TERM=xterm, NO_COLOR set; state still shown by words and symbols."""
    term.start(
        [oos_tui_binary(), "-w", str(demo_workspace), "--theme", theme],
        env={"TERM": "xterm", "NO_COLOR": "1", "COLORTERM": ""},
    )
    term.wait_for("closed")  # after the first store poll
    raw = subprocess.run(
        [term.tmux, "-L", term.socket, "capture-pane", "-p", "-e", "-t", "t"],
        capture_output=True,
        text=True,
    ).stdout
    assert "38;2;" not in raw and "48;2;" not in raw, "truecolour codes in a 16-colour terminal"
    assert "38;5;" not in raw and "48;5;" not in raw, "256-colour codes in a 16-colour terminal"
    screen = term.capture()
    assert "closed" in screen and "alert" in screen  # words, not colour alone
    term.send("q")
    term.wait_for("[exited] 0")
