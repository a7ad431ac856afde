"""Parse the console's CSS once, not at every first visit of a screen.

Textual (8.x, pinned) re-parses every CSS source from scratch in
``App.refresh_css``: at start-up, when a widget class is mounted for the
first time (its ``DEFAULT_CSS`` is a new source), and on the first visit of
every screen. Each parse of the console's CSS costs 25 to 40 ms, and opening
the Events screen cost three of them: a tenth of a second before the first
event could be drawn (measured with bench/first_screen.py).

Two things keep it to one parse per set of theme variables:

* :class:`OnceStylesheet` skips a re-parse when neither the sources nor the
  variables changed since the last one (the rules would be the same);
* :func:`preload_default_css` adds the ``DEFAULT_CSS`` of every widget class
  imported so far before the first parse, so mounting a new kind of widget
  later adds no source.

Both are speed only: should a future Textual name things differently, the
preload does nothing and the stylesheet parses as Textual would.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

__all__ = ["OnceStylesheet", "preload_default_css"]


class OnceStylesheet(Stylesheet):
    """A Textual stylesheet that re-parses only when its sources or variables changed."""

    def __init__(self, *, variables: Mapping[str, str] | None = None) -> None:
        super().__init__(variables=dict(variables) if variables is not None else None)
        self._seen_variables: dict[str, str] = dict(variables or {})
        self._parsed: tuple[dict[str, str], dict[object, object]] | None = None
        self.full_parses = 0
        """How many times every source was parsed (a test's witness)."""

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._seen_variables = dict(variables)

    def parse(self) -> None:
        super().parse()
        self.full_parses += 1
        self._parsed = (dict(self._seen_variables), dict(self.source))

    def reparse(self) -> None:
        if self._parsed == (self._seen_variables, self.source):
            return  # same sources, same variables: the same rules
        super().reparse()
        self.full_parses += 1
        self._parsed = (dict(self._seen_variables), dict(self.source))


def _widget_classes(base: type[DOMNode] = DOMNode) -> Iterator[type[DOMNode]]:
    for cls in base.__subclasses__():
        yield cls
        yield from _widget_classes(cls)


def preload_default_css(stylesheet: Stylesheet) -> None:
    """Add the ``DEFAULT_CSS`` of every imported widget class to ``stylesheet``.

    The sources are exactly those Textual adds when it first mounts each class
    (the same location, tie-breaker and scope, from the class's own
    ``_get_default_css``), so adding them again later changes nothing.
    """
    for cls in set(_widget_classes()):
        try:
            blank = cls.__new__(cls)  # _get_default_css reads only the class hierarchy
            sources = blank._get_default_css()
        except Exception:  # a class that cannot be inspected is simply left to Textual
            continue
        for read_from, css, tie_breaker, scope in sources:
            # A base's CSS is added once per subclass, each time with its depth;
            # the stylesheet keeps the lowest, as it would after mounting them all.
            stylesheet.add_source(
                css,
                read_from=read_from,
                is_default_css=True,
                tie_breaker=tie_breaker,
                scope=scope,
            )
