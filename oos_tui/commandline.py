"""The ``:`` command line's grammar and completion (k9s style), without a UI.

``:queues``, ``:events severity:error``, ``:theme oos-light``, ``:q``. The
console's command-line widget and its tests both go through :func:`parse`
and :func:`complete`, so what completes is exactly what runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["COMMANDS", "Command", "CommandError", "complete", "parse"]


@dataclass(frozen=True, slots=True)
class Spec:
    """One command: its name, aliases, whether it takes an argument, and its help."""

    name: str
    aliases: tuple[str, ...]
    arg: str | None  # the argument's placeholder, or None
    help: str


COMMANDS: tuple[Spec, ...] = (
    Spec("overview", ("o", "home"), None, "the overview dashboard"),
    Spec("events", ("ev", "logs"), "QUERY", "the event stream, optionally filtered"),
    Spec("queues", ("qu", "dlq", "dead-letter"), "FILTER", "queues and dead letters (filtered)"),
    Spec("breakers", ("br", "cb"), "NAME", "circuit breakers (select NAME)"),
    Spec("resources", ("res", "host"), "PANE", "host, processes, sizes, store health"),
    Spec("jobs", ("job",), "JOB_ID", "pipeline jobs"),
    Spec("backups", ("bk", "backup"), None, "store backups"),
    Spec("audit", ("au",), "TEXT", "operator actions, newest first (filtered)"),
    Spec("alerts", ("al",), None, "active alerts"),
    Spec("theme", (), "NAME", "switch the theme"),
    Spec("help", ("h",), None, "keys and commands"),
    Spec("quit", ("q", "q!", "exit"), None, "quit the console"),
)
_BY_NAME = {alias: spec for spec in COMMANDS for alias in (spec.name, *spec.aliases)}


class CommandError(ValueError):
    """A command line that cannot run; the message is one line for the UI."""


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command: the canonical name and its argument ('' when none)."""

    name: str
    arg: str = ""


def parse(text: str, *, themes: Sequence[str] = ()) -> Command:
    """Parse ``text`` (with or without the leading ``:``).

    Raises:
        CommandError: unknown command, a missing or unexpected argument, or an
            unknown theme name.
    """
    text = text.strip()
    if text.startswith(":"):
        text = text[1:].strip()
    if not text:
        raise CommandError("empty command (try :help)")
    word, _, rest = text.partition(" ")
    spec = _BY_NAME.get(word.lower())
    if spec is None:
        close = [s.name for s in COMMANDS if s.name.startswith(word.lower()[:2])]
        hint = f"; did you mean :{close[0]}?" if close else " (try :help)"
        raise CommandError(f"unknown command ':{word}'{hint}")
    rest = rest.strip()
    if spec.arg is None and rest:
        raise CommandError(f":{spec.name} takes no argument")
    if spec.name == "theme":
        if not rest:
            raise CommandError(":theme needs a name: " + ", ".join(themes))
        if themes and rest not in themes:
            raise CommandError(f"unknown theme '{rest}': " + ", ".join(themes))
    return Command(spec.name, rest)


def complete(text: str, *, themes: Iterable[str] = (), queries: Iterable[str] = ()) -> list[str]:
    """Completions of a partial command line, best first (without the ``:``)."""
    text = text.lstrip(":")
    word, space, rest = text.partition(" ")
    if not space:
        low = word.lower()
        names = [s.name for s in COMMANDS if s.name.startswith(low)]
        if names or not low:
            return names
        return [s.name for s in COMMANDS if any(a.startswith(low) for a in s.aliases)]
    spec = _BY_NAME.get(word.lower())
    if spec is None:
        return []
    if spec.name == "theme":
        return [f"{word} {t}" for t in themes if t.startswith(rest)]
    if spec.name == "events":
        return [f"{word} {q}" for q in queries if q.startswith(rest) and q != rest]
    return []
