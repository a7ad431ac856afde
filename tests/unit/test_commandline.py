"""The ``:`` command grammar and completion."""

from __future__ import annotations

import pytest

from oos_tui.commandline import Command, CommandError, complete, parse

THEMES = ("oos-dark", "oos-light", "oos-mono")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":queues", Command("queues")),
        ("queues", Command("queues")),
        (":q", Command("quit")),
        (":dlq", Command("queues")),
        (":events severity:error", Command("events", "severity:error")),
        (":events   type:FAIL  source:x ", Command("events", "type:FAIL  source:x")),
        (":theme oos-light", Command("theme", "oos-light")),
        (":BREAKERS", Command("breakers")),
    ],
)
def test_parse(text: str, expected: Command) -> None:
    assert parse(text, themes=THEMES) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (":", "empty command"),
        (":frobnicate", "unknown command ':frobnicate'"),
        (":overview now", "takes no argument"),
        (":theme", "needs a name"),
        (":theme pink", "unknown theme 'pink'"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        parse(text, themes=THEMES)


def test_complete() -> None:
    assert complete("qu") == ["queues", "quit"]
    assert complete(":th") == ["theme"]
    assert complete("theme oos-l", themes=THEMES) == ["theme oos-light"]
    assert complete("events sev", queries=["severity:error", "type:FAIL"]) == [
        "events severity:error"
    ]
    assert complete("nope x") == []
