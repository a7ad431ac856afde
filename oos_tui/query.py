"""The event search language (plain text for now: every word must appear).

Issue 5 grows this into the full grammar; callers already go through
:func:`compile_query` and :class:`Query` so they will not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from oos_tui.models import Event

__all__ = ["Query", "QueryError", "compile_query"]


class QueryError(ValueError):
    """A query that cannot be compiled; the message is one line."""


@dataclass(frozen=True, slots=True)
class Query:
    """A compiled query."""

    text: str
    words: tuple[str, ...]

    def matches(self, event: Event) -> bool:
        """Every word appears, case-insensitively, in the message or the raw line."""
        hay = f"{event.message}\n{event.raw}".lower()
        return all(w in hay for w in self.words)


def compile_query(text: str) -> Query:
    """Compile ``text``; raises :class:`QueryError` when it cannot be used."""
    words = tuple(w.lower() for w in text.split())
    return Query(text, words)
