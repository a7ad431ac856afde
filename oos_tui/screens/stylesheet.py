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

Given a cache directory (the CLI passes the user's, see
:func:`oos_tui.config.user_cache_dir`), the one parse is not even needed
after the first start: the parsed rules are kept there, keyed by a hash of
every source, the variables, Textual's files and Python's version, and loaded in
about 9 ms instead of parsed in 35 to 50. The file is private (0600 in a 0700
directory) and loaded only when it is owned by the user and writable by no
one else, as it is a pickle; anything wrong with it means an ordinary parse.

All of this is speed only: should a future Textual name things differently,
the preload does nothing, the cache misses, and the stylesheet parses as
Textual would.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from textual.css import model as css_model
from textual.css import parse as css_parse
from textual.css import styles as css_styles
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

__all__ = ["OnceStylesheet", "preload_default_css"]


_CACHE_FORMAT = 1
"""Part of every cache key: bump it when what is stored changes."""
_CACHE_KEEP = 8
"""Parsed stylesheets kept (one per theme used, about 160 KB each)."""


class OnceStylesheet(Stylesheet):
    """A Textual stylesheet that re-parses only when its sources or variables changed.

    Args:
        variables: the theme's CSS variables.
        cache_dir: where parsed rules are kept between runs (None: never kept).
    """

    def __init__(
        self, *, variables: Mapping[str, str] | None = None, cache_dir: Path | None = None
    ) -> None:
        super().__init__(variables=dict(variables) if variables is not None else None)
        self._seen_variables: dict[str, str] = dict(variables or {})
        self._parsed: tuple[dict[str, str], dict[object, object]] | None = None
        self._cache_dir = cache_dir
        self.full_parses = 0
        """How many times every source was parsed (a test's witness)."""
        self.cache_loads = 0
        """How many times the rules came from the cache instead."""

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._seen_variables = dict(variables)

    def parse(self) -> None:
        if not self._load_cached():
            super().parse()
            self.full_parses += 1
            self._store_cached()
        self._parsed = (dict(self._seen_variables), dict(self.source))

    def reparse(self) -> None:
        if self._parsed == (self._seen_variables, self.source):
            return  # same sources, same variables: the same rules
        if not self._load_cached():
            super().reparse()
            self.full_parses += 1
            self._store_cached()
        self._parsed = (dict(self._seen_variables), dict(self.source))

    # -- the cache -------------------------------------------------------------

    def _cache_path(self) -> Path | None:
        if self._cache_dir is None:
            return None
        key = hashlib.sha256()
        try:
            textual_files = _textual_identity()
        except OSError:  # Textual from a zip or frozen: nothing to key on, no cache
            return None
        key.update(repr((_CACHE_FORMAT, sys.version_info[:3], textual_files)).encode())
        key.update(repr(sorted(self._seen_variables.items())).encode())
        for read_from, source in self.source.items():  # in order: the rules are
            key.update(repr((read_from, tuple(source))).encode())
        return self._cache_dir / f"css-{key.hexdigest()[:32]}.pickle"

    def _load_cached(self) -> bool:
        path = self._cache_path()
        if path is None:
            return False
        rules = _read_rules(path)
        if rules is None:
            return False
        self._rules = rules
        self._rules_map = None
        self._require_parse = False
        self.cache_loads += 1
        return True

    def _store_cached(self) -> None:
        path = self._cache_path()
        if path is not None:
            _write_rules(path, self._rules)


def _textual_identity() -> tuple[object, ...]:
    """What changes when Textual's CSS classes do: the files that define and build them.

    Their paths, sizes and modification times, not ``textual.__version__``,
    which reads the package metadata (19 ms at start-up, measured).
    """
    identity: list[object] = []
    for module in (css_model, css_parse, css_styles):
        st = os.stat(module.__file__ or "")
        identity.append((module.__file__, st.st_size, st.st_mtime_ns))
    return tuple(identity)


def _read_rules(path: Path) -> list[RuleSet] | None:
    """The rules kept at ``path``: None when absent, foreign, writable by others or bad."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None  # a pickle runs code: only our own, private file
            rules = pickle.loads(fh.read())
    except Exception:  # truncated, another Textual's classes, anything: parse instead
        rules = None
    if isinstance(rules, list) and all(isinstance(rule, RuleSet) for rule in rules):
        return rules
    try:
        path.unlink()
    except OSError:
        pass
    return None


def _write_rules(path: Path, rules: list[RuleSet]) -> None:
    """Keep ``rules`` at ``path`` (atomically; the oldest beyond a few are removed)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        data = pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        kept = sorted(path.parent.glob("css-*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-_CACHE_KEEP]:
            old.unlink()
    except Exception:  # a read-only or full home only costs the next start a parse
        try:
            tmp.unlink()
        except OSError:
            pass


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
    # In import order (not a set's): the same sources in the same order at every
    # start, so the rules come out the same and the cache key is stable.
    for cls in dict.fromkeys(_widget_classes()):
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
