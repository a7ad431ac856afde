r"""The event search language shared by the ``/`` bar, ``:events`` and ``oos-tui events``.

## Search language

A query is a list of terms. Terms separated by spaces must all match (AND);
`OR` between terms means either; `-` in front of any term excludes what it
matches. An empty query matches every event.

```
type:FAIL source:Tech*                    FAIL events from sources starting with "Tech"
severity>=warning since:15m               warnings and worse, last 15 minutes
timeout OR "connection refused"           either text
-kind:store /HTTP 5\d\d/                  not from the store, message matching a regex
(type:FAIL OR type:RETRY) -item:test_*    grouping with parentheses
```

**Text.** A bare word (`timeout`) or a quoted phrase (`"connection refused"`)
matches when it occurs, ignoring case, in the event's message or in its raw
line (which holds the event's data: the JSON of a JSON log, the whole record
of a plain-text log, the row of a store event). Inside quotes, `\"` is a quote
and `\\` a backslash. `*` in a word is an ordinary character.

**Regular expressions.** `/pattern/` matches with Python's `re` against the
message and the raw line; it is case-sensitive unless written `/pattern/i`.
Write `\/` for a `/` inside the pattern; spaces and parentheses need no
escaping there.

**Fields.** `field:value`, with the value ignoring case. `*` in a value
matches any run of characters (`type:FA*`, `source:*cast`); without `*` the
value must match whole. Quote values with spaces: `source:"My Source"`.
Field names ignore case; `=` may be written for `:`. A field an event lacks
(no item id, no queue) never matches, so `-item:x` keeps events without one.

- `severity` (alias `level`): the event's severity, see below.
- `type` (alias `event_type`): the event type (`FAIL`, `error`, `log`…): `type:FAIL`.
- `source`: the producer (feed, service, worker, job stage): `source:Tech*`.
- `system`: a store event's `system`; for log events, the source.
- `kind`: the family of source, one of `oos`, `ai`, `app`, `store`, `job`.
- `tag`: any of the event's tags (pipe content type, AI category, store tags).
- `item` (alias `item_id`): the item id: `item:TechPodcast_001`.
- `corr` (alias `correlation_id`): the correlation id: `corr:req-42*`.
- `file`: the file the event was read from (`events` for the store): a part
  of its path (`file:05_asr`), or with `*` a glob of the whole path
  (`file:*.log.1`).
- `queue`: a queue named in the event's data: its `queue`, or the `queue` in
  its `metadata`, `context`, `details` or `payload` object (text or an
  integer).

**Severity.** Levels in order: `debug` < `info` < `warning` (`warn`) <
`error` (`err`) < `critical` (`crit`, `fatal`). `severity:error` and
`severity=error` mean equal; `severity>=warning`, `severity>warning`,
`severity<=info` and `severity<info` compare (also written `severity:>=warning`).
The other fields take only `:` or `=`.

**Time.** `since:VALUE` keeps events at or after a time, `until:VALUE`
events before it. A value is a duration back from now, in `s`, `m`, `h`,
`d` or `w`, combinable and with decimals (`since:90s`, `since:15m`,
`since:1h30m`, `since:1.5h`, `until:2d`), or an ISO date or time (`since:2025-09-29`,
`since:2025-09-29T02:00`, `until:"2025-09-29 02:30:00+02:00"`); a time
without a zone is UTC. `now` is also accepted.

**Combining.** Terms next to each other must all match; `AND` may be written
but is not needed. `OR` (upper case) joins alternatives and binds looser than
AND: `a b OR c` is `(a AND b) OR c`. Parentheses group. `-term` or
`NOT term` excludes; it applies to fields, words, phrases, regexes and groups
(`-(type:SKIP OR type:DISCOVER)`). A lower-case `or`, `and` or `not` is an
ordinary word; to search for `OR` itself, quote it.

**Quoting.** Parentheses always group, so `f(x)` is `f` and `x`: quote text
with parentheses, spaces, a leading `-` or `/`, or a `name:` in front
(`"error: timeout"`, `"http://host/path"`). A word such as `a=b` or `x<y`
is ordinary text when its name is not a field, unless the name is a near
miss of one (`sevrity>=warning` is refused as a typo).

**Errors.** A query that cannot be read is refused with a one-line message
and the position of the problem; the previous results stay. Refused: an
unknown field (the nearest field is suggested), an unknown severity or kind,
`<`/`>` on a field other than severity, an unreadable time, an empty value
(`type:`), an unclosed quote, regex or parenthesis, a stray `)`, `OR` or
`AND` without a term on each side, a bad regular expression or flag, and a
`-` with nothing after it.
"""

from __future__ import annotations

import difflib
import itertools
import math
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from oos_tui.models import Event, Severity, SourceKind

__all__ = ["FIELDS", "Query", "QueryError", "compile_query"]

FIELDS: tuple[str, ...] = (
    "severity",
    "type",
    "source",
    "system",
    "kind",
    "tag",
    "item",
    "corr",
    "file",
    "queue",
    "since",
    "until",
)
"""Every field name the language knows, for completion in the faces."""

_ALIASES: dict[str, str] = {
    "level": "severity",
    "event_type": "type",
    "item_id": "item",
    "correlation_id": "corr",
}
_NAMES: tuple[str, ...] = FIELDS + tuple(_ALIASES)
_KINDS: tuple[str, ...] = tuple(k.value for k in SourceKind)
_OOS, _AI, _APP, _STORE, _JOB = (
    SourceKind.OOS.value,
    SourceKind.AI.value,
    SourceKind.APP.value,
    SourceKind.STORE.value,
    SourceKind.JOB.value,
)

_SEVERITY_WORDS: dict[str, Severity] = {
    "debug": Severity.DEBUG,
    "info": Severity.INFO,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "error": Severity.ERROR,
    "err": Severity.ERROR,
    "critical": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ":": operator.eq,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_FIELD_HEAD = re.compile(r"([A-Za-z][A-Za-z0-9_]*)(>=|<=|:|=|<|>)")
_SEVERITY_OP = re.compile(r">=|<=|=|<|>")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_KEYWORDS = frozenset(("OR", "AND", "NOT"))
_QUEUE_HOLDERS = ("metadata", "context", "details", "payload")


class QueryError(ValueError):
    """A query that cannot be compiled.

    The message is one line, fit to show under the search bar; ``position``
    is the index in the query text where the problem starts, so the face can
    point at it (None when no single place is to blame).
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class _Text:
    needle: str  # lower-cased
    shown: str


@dataclass(frozen=True, slots=True)
class _Regex:
    rx: re.Pattern[str]
    source: str
    flags: str


@dataclass(frozen=True, slots=True)
class _Sev:
    op: str
    level: Severity
    allowed: frozenset[Severity]


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    shown: str
    parts: tuple[str, ...]  # lower-cased glob parts: one part means "the whole value"
    substring: bool  # file: without a star, a part of the path
    glob: re.Pattern[str] | None = field(default=None, compare=False)

    @classmethod
    def make(cls, name: str, shown: str) -> _Field:
        """The field term for ``name:shown``, its glob compiled once."""
        parts = tuple(shown.lower().split("*"))
        glob = None
        if len(parts) > 1:
            glob = re.compile(".*".join(re.escape(p) for p in parts), re.DOTALL)
        return cls(name, shown, parts, name == "file", glob)

    def accepts(self, value: str) -> bool:
        """Whether a field value matches, ignoring case."""
        low = value.lower()
        if self.glob is not None:
            return self.glob.fullmatch(low) is not None
        return self.parts[0] in low if self.substring else low == self.parts[0]


@dataclass(frozen=True, slots=True)
class _Time:
    name: str  # since | until
    shown: str
    ts: float


@dataclass(frozen=True, slots=True)
class _Not:
    item: _Node


@dataclass(frozen=True, slots=True)
class _And:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    items: tuple[_Node, ...]


_Leaf = _Text | _Regex | _Sev | _Field | _Time
_Node = _Leaf | _Not | _And | _Or

# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "(" ")" "OR" "AND" "NOT" "-" "term"
    pos: int
    node: _Leaf | None = None


def _ends_term(ch: str) -> bool:
    return ch.isspace() or ch == "(" or ch == ")"


def _suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The text between the quote at ``start`` and its partner; ``\\"`` and ``\\\\`` escape."""
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise QueryError('unclosed quote: add the closing "', start)


def _read_bare(text: str, start: int) -> int:
    end = start
    n = len(text)
    while end < n and not _ends_term(text[end]):
        end += 1
    return end


def _read_regex(text: str, start: int) -> tuple[_Regex, int]:
    n = len(text)
    i = start + 1
    while i < n and text[i] != "/":
        i += 2 if text[i] == "\\" else 1
    if i >= n:
        raise QueryError("unclosed regex: add the closing /", start)
    body = text[start + 1 : i]
    if not body:
        raise QueryError("empty regex //", start)
    end = i + 1
    while end < n and text[end].isalpha():
        if text[end] != "i":
            raise QueryError(
                f"unknown regex flag {text[end]!r} (only i, ignore case; quote text with /)", end
            )
        end += 1
    flags = text[i + 1 : end]
    try:
        rx = re.compile(body, re.IGNORECASE if flags else 0)
    except re.error as exc:
        where = start + 1 + exc.pos if exc.pos is not None else start
        raise QueryError(f"bad regex: {exc.msg}", where) from None
    return _Regex(rx, body, flags), end


def _read_value(text: str, start: int, head: str) -> tuple[str, int]:
    """A field's value (quoted or bare) at ``start``; an empty one is an error."""
    if start >= len(text) or _ends_term(text[start]):
        raise QueryError(f"{head} needs a value", start)
    if text[start] == '"':
        value, end = _read_quoted(text, start)
        if not value:
            raise QueryError(f"{head} needs a value", start)
        return value, end
    end = _read_bare(text, start)
    return text[start:end], end


def _parse_time(value: str, now: float) -> float | None:
    text = value.strip()
    if text.lower() == "now":
        return now
    if _DURATION.fullmatch(text):
        seconds = sum(
            float(num) * _UNIT_SECONDS[unit.lower()] for num, unit in _DURATION_PART.findall(text)
        )
        return now - seconds
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _field_leaf(
    text: str, name: str, canonical: str, op: str, op_pos: int, now: float
) -> tuple[_Leaf, int]:
    """The leaf for ``name`` + ``op`` whose value starts after the operator."""
    vstart = op_pos + len(op)
    head = f"{name}{op}"
    if canonical == "severity":
        inner = _SEVERITY_OP.match(text, vstart) if op == ":" else None
        if inner is not None:  # severity:>=warning
            op, vstart = inner.group(), inner.end()
            head = f"{name}:{op}"
        value, end = _read_value(text, vstart, head)
        level = _SEVERITY_WORDS.get(value.lower())
        if level is None:
            near = _suggest(value, _SEVERITY_WORDS)
            hint = (
                f"did you mean {near!r}?" if near else "use debug, info, warning, error, critical"
            )
            raise QueryError(f"unknown severity {value!r} ({hint})", vstart)
        compare = _COMPARE[op]
        allowed = frozenset(s for s in Severity if compare(s, level))
        return _Sev(":" if op == "=" else op, level, allowed), end
    if op not in (":", "="):
        raise QueryError(f"{op!r} compares severities only; write {name}:VALUE", op_pos)
    value, end = _read_value(text, vstart, head)
    if canonical in ("since", "until"):
        ts = _parse_time(value, now)
        if ts is None:
            raise QueryError(
                f"bad time {value!r} for {name}: use a duration such as 15m, 2h or 1d,"
                " or a date such as 2025-09-29T02:00",
                vstart,
            )
        return _Time(canonical, value, ts), end
    leaf = _Field.make(canonical, value)
    if canonical == "kind" and not any(leaf.accepts(k) for k in _KINDS):
        raise QueryError(f"unknown kind {value!r} (use {', '.join(_KINDS)})", vstart)
    return leaf, end


def _lex(text: str, now: float) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            toks.append(_Tok(ch, i))
            i += 1
        elif ch == "-":
            if i + 1 >= n or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError("'-' must be followed by the term to exclude", i)
            toks.append(_Tok("-", i))
            i += 1
        elif ch == '"':
            value, end = _read_quoted(text, i)
            if not value:
                raise QueryError('empty quotes: put the text to search between ""', i)
            toks.append(_Tok("term", i, _Text(value.lower(), value)))
            i = end
        elif ch == "/":
            regex, i2 = _read_regex(text, i)
            toks.append(_Tok("term", i, regex))
            i = i2
        else:
            head = _FIELD_HEAD.match(text, i)
            if head is not None:
                name, op = head.group(1), head.group(2)
                canonical = _ALIASES.get(name.lower(), name.lower())
                if canonical in FIELDS:
                    leaf, i = _field_leaf(text, name, canonical, op, head.start(2), now)
                    toks.append(_Tok("term", head.start(), leaf))
                    continue
                near = _suggest(name, _NAMES, 0.6 if op == ":" else 0.8)
                if near is not None:
                    raise QueryError(f"unknown field {name!r} (did you mean {near!r}?)", i)
                if op == ":":
                    word = text[i : _read_bare(text, i)]
                    raise QueryError(
                        f'unknown field {name!r} (to search for the text, quote it: "{word}")', i
                    )
            end = _read_bare(text, i)
            word = text[i:end]
            toks.append(
                _Tok(word, i) if word in _KEYWORDS else _Tok("term", i, _Text(word.lower(), word))
            )
            i = end
    return toks


class _Parser:
    """Recursive descent over the tokens: OR of ANDs of (negated) terms and groups."""

    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> _Node | None:
        if not self.toks:
            return None
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:  # only a ")" can stop parse_or early
            raise QueryError("unmatched ')'", tok.pos)
        return node

    def parse_or(self) -> _Node:
        items = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            after = self.peek()
            if after is None or after.kind in (")", "OR", "AND"):
                raise QueryError("OR needs a term after it", tok.pos)
            items.append(self.parse_and())
        return _flat(_Or, items)

    def parse_and(self) -> _Node:
        items: list[_Node] = []
        while (tok := self.peek()) is not None and tok.kind not in (")", "OR"):
            if tok.kind == "AND":
                if not items:
                    raise QueryError("AND needs a term before it", tok.pos)
                self.i += 1
                after = self.peek()
                if after is None or after.kind in (")", "OR", "AND"):
                    raise QueryError("AND needs a term after it", tok.pos)
                continue
            items.append(self.parse_unary())
        if not items:
            tok = self.peek()
            if tok is not None and tok.kind == "OR":
                raise QueryError("OR needs a term before it", tok.pos)
            pos = tok.pos if tok is not None else None
            raise QueryError("unmatched ')'" if tok is not None else "expected a term", pos)
        return _flat(_And, items)

    def parse_unary(self) -> _Node:
        tok = self.toks[self.i]
        self.i += 1
        if tok.kind in ("-", "NOT"):
            after = self.peek()
            if after is None or after.kind in (")", "OR", "AND"):
                what = "'-'" if tok.kind == "-" else "NOT"
                raise QueryError(f"{what} must be followed by the term to exclude", tok.pos)
            return _Not(self.parse_unary())
        if tok.kind == "(":
            after = self.peek()
            if after is None:
                raise QueryError("unclosed '('", tok.pos)
            if after.kind == ")":
                raise QueryError("empty '()'", tok.pos)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError("unclosed '('", tok.pos)
            self.i += 1
            return node
        assert tok.node is not None  # the lexer gives every other token a node
        return tok.node


def _flat(kind: type[_And] | type[_Or], items: list[_Node]) -> _Node:
    if len(items) == 1:
        return items[0]
    out: list[_Node] = []
    for item in items:
        out.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(out))


# --------------------------------------------------------------------------- matching


def _system(ev: Event) -> str:
    if ev.kind == _STORE:
        data = ev.data
        if data.__class__ is dict:
            value = data.get("system")
            if value.__class__ is str:
                return value  # type: ignore[no-any-return]
    return ev.source


def _queue_name(value: Any) -> str | None:
    if value.__class__ is str:
        return value or None  # type: ignore[no-any-return]
    if value.__class__ is int:
        return str(value)
    return None


def _queues(data: Any) -> Iterator[str]:
    """Queue names in an event's data: ``queue`` at the top or in a holder object."""
    if data.__class__ is not dict:
        return
    name = _queue_name(data.get("queue"))
    if name is not None:
        yield name
    for key in _QUEUE_HOLDERS:
        holder = data.get(key)
        if holder.__class__ is dict:
            name = _queue_name(holder.get("queue"))
            if name is not None:
                yield name


_Match = Callable[[Event], bool]


def _field_matcher(leaf: _Field) -> _Match:
    accepts = leaf.accepts
    if len(leaf.parts) == 1 and not leaf.substring:
        want = leaf.parts[0]

        def accepts(value: str, want: str = want) -> bool:
            return value == want or value.lower() == want

    name = leaf.name
    if name == "type":
        return lambda ev: accepts(ev.event_type)
    if name == "source":
        return lambda ev: accepts(ev.source)
    if name == "system":
        return lambda ev: accepts(_system(ev))
    if name == "kind":
        return lambda ev: accepts(ev.kind)
    if name == "tag":
        return lambda ev: any(accepts(tag) for tag in ev.tags)
    if name == "item":
        return lambda ev: ev.item_id is not None and accepts(ev.item_id)
    if name == "corr":
        return lambda ev: ev.correlation_id is not None and accepts(ev.correlation_id)
    if name == "file":
        return lambda ev: ev.file is not None and accepts(ev.file)
    return lambda ev: any(accepts(q) for q in _queues(ev.data))


def _texts_matcher(needles: tuple[str, ...]) -> _Match:
    """All needles, each in the message or the raw line; lowers each text once."""
    if len(needles) == 1:
        (needle,) = needles
        return lambda ev: needle in ev.message.lower() or needle in ev.raw.lower()

    def match(ev: Event) -> bool:
        message = ev.message.lower()
        raw: str | None = None
        for needle in needles:
            if needle in message:
                continue
            if raw is None:
                raw = ev.raw.lower()
            if needle not in raw:
                return False
        return True

    return match


def _any_text_matcher(needles: tuple[str, ...]) -> _Match:
    """Any of the needles in the message or the raw line; lowers each text once."""

    def match(ev: Event) -> bool:
        message = ev.message.lower()
        for needle in needles:
            if needle in message:
                return True
        raw = ev.raw.lower()
        return any(needle in raw for needle in needles)

    return match


def _cost(node: _Node) -> int:
    if isinstance(node, _Sev | _Time) or (isinstance(node, _Field) and node.name == "kind"):
        return 0
    if isinstance(node, _Field):
        return 1
    if isinstance(node, _Text):
        return 2
    if isinstance(node, _Not):
        return _cost(node.item)
    if isinstance(node, _Regex):
        return 4
    return 3


def _matcher(node: _Node) -> _Match:
    if isinstance(node, _And):
        texts = tuple(item.needle for item in node.items if isinstance(item, _Text))
        rest = sorted((item for item in node.items if not isinstance(item, _Text)), key=_cost)
        tests = [_matcher(item) for item in rest]
        if texts:
            tests.insert(sum(1 for item in rest if _cost(item) < 2), _texts_matcher(texts))
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            first, second = tests
            return lambda ev: first(ev) and second(ev)
        return lambda ev: all(test(ev) for test in tests)
    if isinstance(node, _Or):
        texts = tuple(item.needle for item in node.items if isinstance(item, _Text))
        rest = sorted((item for item in node.items if not isinstance(item, _Text)), key=_cost)
        tests = [_matcher(item) for item in rest]
        if len(texts) > 1:
            tests.append(_any_text_matcher(texts))
        elif texts:
            tests.append(_texts_matcher(texts))
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            first, second = tests
            return lambda ev: first(ev) or second(ev)
        return lambda ev: any(test(ev) for test in tests)
    if isinstance(node, _Not):
        inner = _matcher(node.item)
        return lambda ev: not inner(ev)
    if isinstance(node, _Text):
        return _texts_matcher((node.needle,))
    if isinstance(node, _Regex):
        search = node.rx.search
        return lambda ev: search(ev.message) is not None or search(ev.raw) is not None
    if isinstance(node, _Sev):
        allowed = node.allowed
        return lambda ev: ev.severity in allowed
    if isinstance(node, _Time):
        ts = node.ts
        if node.name == "since":
            return lambda ev: ev.ts >= ts
        return lambda ev: ev.ts < ts
    return _field_matcher(node)


def _match_all(event: Event) -> bool:
    return True


def _bounds(node: _Node) -> tuple[float | None, float | None]:
    """The time range outside which ``node`` cannot match: (since, until), None = open."""
    if isinstance(node, _Time):
        return (node.ts, None) if node.name == "since" else (None, node.ts)
    if isinstance(node, _And | _Or):
        pairs = [_bounds(item) for item in node.items]
        sinces = [s for s, _ in pairs if s is not None]
        untils = [u for _, u in pairs if u is not None]
        if isinstance(node, _And):
            return (max(sinces, default=None), min(untils, default=None))
        # Either branch may match: a bound holds only when every branch has one.
        whole = len(pairs)
        return (
            min(sinces) if len(sinces) == whole else None,
            max(untils) if len(untils) == whole else None,
        )
    return (None, None)


# --------------------------------------------------------------------------- prefilters
#
# A prefilter is a disjunction of groups; a group a conjunction of clauses; a
# clause a set of alternatives of which one must hold for the line: a byte
# string in the lower-cased line, an oos.log field with a given value, or an
# escape hatch (a JSON \u escape, a non-ASCII character that folds onto an
# ASCII letter). Each format decides which bytes an event's value is certain
# to leave in its raw line, so the filter only ever drops lines that cannot
# match.


@dataclass(frozen=True, slots=True)
class _Clause:
    lowered: frozenset[bytes] = frozenset()  # searched in line.lower()
    escapes: bool = False  # a JSON \u escape may hide any character
    hatches: frozenset[bytes] = frozenset()  # non-ASCII characters that fold onto a needle
    fields: frozenset[_PipeField] = frozenset()  # oos.log fields tested in place

    def weight(self) -> int:
        """How selective the clause is likely to be: test the most selective first.

        A field tested in place beats any needle; otherwise longer needles
        are rarer.
        """
        if self.fields:
            return 1000
        return min((len(n) for n in self.lowered), default=0)


_PipeField = tuple[int, bool, tuple[str, ...]]
"""An oos.log field tested in place: its index (1 = event_type … 4 = item_id),
whether the comparison is exact (case-sensitive, one value) and the value or
lower-cased glob parts."""
_Group = frozenset[_Clause]
_Dnf = frozenset[_Group]
_TRUE: _Dnf = frozenset((frozenset(),))
_FALSE: _Dnf = frozenset()
_MAX_GROUPS = 32
_Plan = bool | None | tuple[_Clause, ...]

_DOTTED_I = "\u0130".encode()  # İ lowers to "i" + a combining dot
_KELVIN = "\u212a".encode()  # K lowers to "k"
_DOTLESS_I = "\u0131".encode()  # ı upper-cases to "I"; re's IGNORECASE pairs it with i
_LONG_S = "\u017f".encode()  # ſ: re's IGNORECASE pairs it with s
_LOWER_FOLDS: dict[str, tuple[bytes, ...]] = {"i": (_DOTTED_I,), "k": (_KELVIN,)}
_RE_FOLDS: dict[str, tuple[bytes, ...]] = {
    "i": (_DOTTED_I, _DOTLESS_I),
    "k": (_KELVIN,),
    "s": (_LONG_S,),
}

_RUNS = {
    # text written literally into the line
    "literal": re.compile(r"[ -~]+"),
    # text inside a JSON string: " \ and / may be escaped
    "json": re.compile(r"[ !#-.0-\[\]-~]+"),
    # the same, where the message joins two strings with " — ": no spaces
    "json-words": re.compile(r"[!#-.0-\[\]-~]+"),
    # text that may also be re-serialised JSON (numbers change form): letters only
    "letters": re.compile(r"[a-z]{2,}"),
}
_TEXT_MODE = {_OOS: "json", _AI: "letters", _APP: "letters", _STORE: "json-words", _JOB: "literal"}
_ESCAPING = frozenset((_OOS, _AI, _APP))  # lines whose JSON a producer may \u-escape
_NUMBERISH = frozenset("0123456789.e+-")
_PIPE_FIELDS = {"type": 1, "tag": 2, "source": 3, "system": 3, "item": 4}
_ALL_SEVERITIES = frozenset(Severity)
_FEW_SEVERITIES = frozenset((Severity.ERROR, Severity.WARNING, Severity.INFO))
_POSSIBLE_SEVERITIES = {_OOS: _FEW_SEVERITIES, _AI: _FEW_SEVERITIES}
_SEVERITY_NEEDLES: dict[str, dict[Severity, tuple[bytes, ...]]] = {
    _AI: {Severity.ERROR: (b"error",), Severity.WARNING: (b"pattern",)},
    _APP: {
        Severity.DEBUG: (b"debug", b"trace"),
        Severity.WARNING: (b"warn", b"stderr"),
        Severity.ERROR: (b"err",),
        Severity.CRITICAL: (b"crit", b"fatal"),
    },
    _STORE: {
        Severity.DEBUG: (b"debug", b"trace"),
        Severity.WARNING: (b"warn",),
        Severity.ERROR: (b"err",),
        Severity.CRITICAL: (b"crit", b"fatal"),
    },
    _JOB: {
        Severity.DEBUG: (b"debug",),
        Severity.WARNING: (b"warn",),
        Severity.ERROR: (b"error",),
        Severity.CRITICAL: (b"critical", b"fatal"),
    },
}


def _needle_clauses(
    parts: tuple[str, ...],
    mode: str,
    *,
    left: bytes = b"",
    right: bytes = b"",
    folds: dict[str, tuple[bytes, ...]] | None = None,
    escapes: bool = False,
) -> tuple[_Clause, ...]:
    """Clauses for a lower-cased glob (or one text), from its safe ASCII runs.

    ``left``/``right`` are the bytes the format writes just before and after
    the whole value (``|`` around a pipe field, ``"`` around a JSON string):
    a run at the start or end of the value takes them along.
    """
    found: list[tuple[int, bytes]] = []
    last = len(parts) - 1
    for index, part in enumerate(parts):
        for run in _RUNS[mode].finditer(part):
            core = run.group()
            lead = left if index == 0 and run.start() == 0 else b""
            tail = right if index == last and run.end() == len(part) else b""
            if len(core) < 2 and not (lead or tail):
                continue
            found.append((len(core) + len(lead) + len(tail), lead + core.encode() + tail))
    found.sort(key=lambda pair: -pair[0])
    clauses = []
    for _, needle in found[:3]:
        hatches: set[bytes] = set()
        if folds:
            for letter, chars in folds.items():
                if letter.encode() in needle:
                    hatches.update(chars)
        clauses.append(_Clause(frozenset((needle,)), escapes=escapes, hatches=frozenset(hatches)))
    return tuple(clauses)


def _regex_literals(rx: re.Pattern[str]) -> list[str]:
    """Literal strings every match of ``rx`` must contain (conservatively few)."""
    if rx.flags & re.VERBOSE:
        return []
    src = rx.pattern
    runs: list[str] = []
    cur: list[str] = []

    def cut() -> None:
        if cur:
            runs.append("".join(cur))
            cur.clear()

    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n:
            nxt = src[i + 1]
            i += 2
            if nxt.isascii() and nxt.isalnum():
                cut()
                if nxt == "N" and i < n and src[i] == "{":
                    close = src.find("}", i)
                    i = n if close < 0 else close + 1
                while i < n and src[i] in "0123456789abcdefABCDEF":
                    i += 1
            else:
                cur.append(nxt)
        elif ch == "|":
            return []
        elif ch in "*?{":
            if cur:
                cur.pop()
            cut()
            if ch == "{":
                close = src.find("}", i)
                i = n if close < 0 else close + 1
            else:
                i += 1
        elif ch == "(":
            cut()
            i = _skip_group(src, i)
        elif ch == "[":
            cut()
            i = _skip_class(src, i)
        elif ch in ".^$+)]}":
            cut()
            i += 1
        else:
            cur.append(ch)
            i += 1
    cut()
    return runs


def _skip_class(src: str, i: int) -> int:
    i += 1
    if i < len(src) and src[i] == "^":
        i += 1
    if i < len(src) and src[i] == "]":
        i += 1
    while i < len(src) and src[i] != "]":
        i += 2 if src[i] == "\\" else 1
    return i + 1


def _skip_group(src: str, i: int) -> int:
    depth = 0
    n = len(src)
    while i < n:
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _skip_class(src, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _severity_plan(allowed: frozenset[Severity], kind: str, in_place: bool) -> _Plan:
    possible = _POSSIBLE_SEVERITIES.get(kind, _ALL_SEVERITIES)
    hit = allowed & possible
    if not hit:
        return False
    if hit == possible:
        return True
    if Severity.INFO in hit:
        return None  # info is every line without a marker: nothing to look for
    if kind == _OOS:
        # The pipe reader maps the exact words: FAIL is an error, RETRY a warning.
        words = {Severity.ERROR: "FAIL", Severity.WARNING: "RETRY"}
        if in_place:
            return (_Clause(fields=frozenset((1, True, (words[s],)) for s in hit)),)
        return (_Clause(frozenset(f"|{words[s].lower()}|".encode() for s in hit)),)
    table = _SEVERITY_NEEDLES.get(kind)
    if table is None:
        return None
    needles = frozenset(n for s in hit for n in table[s])
    hatches = frozenset((_DOTLESS_I,)) if kind == _JOB and Severity.CRITICAL in hit else frozenset()
    return (_Clause(needles, escapes=kind in _ESCAPING, hatches=hatches),)


def _field_plan(leaf: _Field, kind: str, in_place: bool) -> _Plan:
    name = leaf.name
    if name == "kind":
        return leaf.accepts(kind)
    if name == "file":
        return leaf.accepts("events") if kind == _STORE else None
    if kind == _JOB:
        if name == "type":
            return leaf.accepts("log")
        return False if name in ("tag", "item", "corr", "queue") else None
    if kind == _APP and name == "tag":
        return False
    if kind == _OOS and name in _PIPE_FIELDS:
        if in_place:
            return (_Clause(fields=frozenset(((_PIPE_FIELDS[name], False, leaf.parts),))),)
        return _needle_clauses(leaf.parts, "literal", left=b"|", right=b"|", folds=_LOWER_FOLDS)
    if kind not in (_OOS, _AI, _APP, _STORE):
        return None
    if kind in (_AI, _APP) and name in ("source", "system") and leaf.accepts("unknown"):
        return None
    if kind == _APP and name == "type" and (leaf.accepts("log") or leaf.accepts("container")):
        return None
    numeric_source = name in ("item", "queue") or (name == "corr" and kind != _STORE)
    if numeric_source and all(set(part) <= _NUMBERISH for part in leaf.parts):
        return None  # the value may be a JSON number, written in another form
    return _needle_clauses(
        leaf.parts,
        "json",
        left=b'"',
        right=b'"',
        folds=_LOWER_FOLDS,
        escapes=kind in _ESCAPING,
    )


def _plan(leaf: _Leaf, kind: str, in_place: bool = True) -> _Plan:
    """What a term demands of a raw line of ``kind``.

    True or False when the term's outcome is known for every event of that
    kind; a tuple of clauses the line must all satisfy; None when nothing
    about the line can be said. ``in_place`` allows oos.log fields to be
    tested where they stand; without it everything is said with needles.
    """
    if kind not in _TEXT_MODE:
        return None
    if isinstance(leaf, _Time):
        return None
    if isinstance(leaf, _Sev):
        return _severity_plan(leaf.allowed, kind, in_place)
    if isinstance(leaf, _Field):
        plan = _field_plan(leaf, kind, in_place)
        return plan if isinstance(plan, bool) or plan else None
    escapes = kind in _ESCAPING
    mode = _TEXT_MODE[kind]
    if isinstance(leaf, _Text):
        return _needle_clauses((leaf.needle,), mode, folds=_LOWER_FOLDS, escapes=escapes) or None
    folds = _RE_FOLDS if leaf.rx.flags & re.IGNORECASE else None
    clauses: list[_Clause] = []
    for literal in _regex_literals(leaf.rx):
        # Lower ASCII only: str.lower() would turn a Kelvin sign into a "k" the line lacks.
        ascii_lowered = "".join(c.lower() if c.isascii() else c for c in literal)
        clauses.extend(_needle_clauses((ascii_lowered,), mode, folds=folds, escapes=escapes))
    clauses.sort(key=lambda c: -c.weight())
    return tuple(clauses[:3]) or None


def _static(node: _Node, kind: str) -> bool | None:
    """The node's outcome for every event of ``kind``, when the kind alone decides it."""
    if isinstance(node, _Not):
        inner = _static(node.item, kind)
        return None if inner is None else not inner
    if isinstance(node, _And | _Or):
        values = [_static(item, kind) for item in node.items]
        decisive = isinstance(node, _Or)
        if decisive in values:
            return decisive
        return (not decisive) if all(v is not None for v in values) else None
    plan = _plan(node, kind)
    return plan if isinstance(plan, bool) else None


def _dnf(node: _Node, kind: str, in_place: bool = True) -> _Dnf:
    if isinstance(node, _Not):
        inner = _static(node.item, kind)
        return _FALSE if inner is True else _TRUE
    if isinstance(node, _Or):
        out: set[_Group] = set()
        for item in node.items:
            out.update(_dnf(item, kind, in_place))
        return _simplify(out)
    if isinstance(node, _And):
        acc: frozenset[_Group] = _TRUE
        for item in node.items:
            part = _dnf(item, kind, in_place)
            acc = _simplify({a | b for a in acc for b in part})
            if len(acc) > _MAX_GROUPS:
                return _TRUE
        return acc
    plan = _plan(node, kind, in_place)
    if plan is False:
        return _FALSE
    if plan is True or plan is None:
        return _TRUE
    return frozenset((frozenset(plan),))


def _simplify(groups: set[_Group]) -> _Dnf:
    """Drop groups that demand more than another group (the other already lets their lines pass)."""
    if frozenset() in groups:
        return _TRUE
    ordered = sorted(groups, key=len)
    kept: list[_Group] = []
    for group in ordered:
        if not any(other <= group for other in kept):
            kept.append(group)
    return frozenset(kept)


def _never(line: bytes) -> bool:
    return False


_MAX_NEEDLE_GROUPS = 16


def _as_needles(dnf: _Dnf) -> list[tuple[bytes, ...]] | None:
    """The plan as OR of AND-groups of lower-case byte strings, or None if too many.

    Every alternative of a clause is a byte string once ``line.lower()``
    is searched: a hatch is non-ASCII (lowering leaves it alone) and an
    escape is the ``\\u`` itself. So each group multiplies out into groups
    with one needle per clause.
    """
    if frozenset() in dnf:
        return None
    groups: set[frozenset[bytes]] = set()
    for group in dnf:
        choices = []
        for clause in group:
            if clause.fields:
                return None
            alts = {n for n in clause.lowered if not any(o != n and o in n for o in clause.lowered)}
            alts |= clause.hatches
            if clause.escapes:
                alts.add(_BACKSLASH_U)
            choices.append(sorted(alts))
        if math.prod(len(c) for c in choices) + len(groups) > _MAX_NEEDLE_GROUPS:
            return None
        groups.update(frozenset(combo) for combo in itertools.product(*choices))
    kept = [g for g in groups if not any(other < g for other in groups)]
    return sorted((tuple(sorted(g, key=lambda n: (-len(n), n))) for g in kept), key=lambda g: g)


_BACKSLASH_U = b"\\u"


def _build_prefilter(dnf: _Dnf) -> Callable[[bytes], bool] | None:
    """Generate the test as one flat Python function (no loops or calls per needle).

    The filter runs on millions of lines, so it is compiled like
    ``dataclasses`` compiles ``__init__``: the source holds only generated
    names, the needles themselves are bound in its namespace.
    """
    if not dnf:
        return _never
    if frozenset() in dnf:
        return None
    namespace: dict[str, Any] = {"_BSU": _BACKSLASH_U}

    def name(value: Any, prefix: str = "_n") -> str:
        key = f"{prefix}{len(namespace)}"
        namespace[key] = value
        return key

    uses_low = False
    field_indexes: set[int] = set()
    groups = []
    for group in sorted(dnf, key=lambda g: -max(c.weight() for c in g)):
        clauses = []
        for clause in sorted(group, key=lambda c: -c.weight()):
            alts = [_field_source(clause.fields, name)] if clause.fields else []
            field_indexes.update(index for index, _, _ in clause.fields)
            # A needle that contains another alternative adds nothing ("stderr" and "err").
            needles = [
                n for n in clause.lowered if not any(o != n and o in n for o in clause.lowered)
            ]
            alts += [f"low.find({name(n)}) != -1" for n in sorted(needles, key=lambda b: -len(b))]
            uses_low = uses_low or bool(clause.lowered)
            if clause.escapes:
                alts.append("(92 in line and line.find(_BSU) != -1)")
            if clause.hatches:
                found = " or ".join(f"line.find({name(h)}) != -1" for h in sorted(clause.hatches))
                alts.append(f"(not line.isascii() and ({found}))")
            clauses.append("(" + " or ".join(alts) + ")")
        groups.append("(" + " and ".join(clauses) + ")")
    body = ["def _prefilter(line):"]
    if uses_low:
        body.append("    low = line.lower()")
    if field_indexes:
        # One split is cheaper than a find per field; a line with fewer than
        # five |s does not parse, so it cannot match.
        last = max(field_indexes)
        body.append(f"    fields = line.split(b'|', {last + 1})")
        body.append(f"    if len(fields) < {last + 2}:")
        body.append("        return False")
        body.extend(f"    f{index} = fields[{index}]" for index in sorted(field_indexes))
    body.append(f"    return {' or '.join(groups)}")
    source = "\n".join(body) + "\n"
    exec(compile(source, "<oos_tui.query prefilter>", "exec"), namespace)
    function: Callable[[bytes], bool] = namespace["_prefilter"]
    function.__doc__ = source
    return function


def _field_source(fields: frozenset[_PipeField], name: Callable[..., str]) -> str:
    """The expression testing oos.log fields in place (``fN`` holds field N's bytes)."""
    alts = []
    by_index: dict[int, list[tuple[bool, tuple[str, ...]]]] = {}
    for index, exact, parts in fields:
        by_index.setdefault(index, []).append((exact, parts))
    for index, specs in sorted(by_index.items()):
        field_ = f"f{index}"
        exact_values = frozenset(parts[0].encode() for exact, parts in specs if exact)
        if exact_values:
            alts.append(f"{field_} in {name(exact_values, '_e')}")
        folded = [parts for exact, parts in specs if not exact]
        if not folded:
            continue
        # A field with non-ASCII bytes may lower (or fold) onto the pattern: let it through.
        alts.append(f"not {field_}.isascii()")
        whole = frozenset(p[0].encode() for p in folded if len(p) == 1 and p[0].isascii())
        if whole:
            alts.append(f"{field_}.lower() in {name(whole, '_w')}")
        for parts in folded:
            if len(parts) > 1 and all(p.isascii() for p in parts):
                glob = re.compile(b".*".join(re.escape(p.encode()) for p in parts), re.DOTALL)
                alts.append(f"{name(glob.fullmatch, '_g')}({field_}.lower()) is not None")
    return "(" + " or ".join(alts) + ")"


# --------------------------------------------------------------------------- rendering

_PLAIN_WORD = re.compile(r"[^\s()\"\\]+")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render_word(text: str) -> str:
    if (
        _PLAIN_WORD.fullmatch(text)
        and text[0] not in "-/"
        and text not in _KEYWORDS
        and not _FIELD_HEAD.match(text)
    ):
        return text
    return _quote(text)


def _render_value(text: str) -> str:
    return text if _PLAIN_WORD.fullmatch(text) else _quote(text)


def _render(node: _Node, outer: int = 0) -> str:
    if isinstance(node, _Or):
        out = " OR ".join(_render(item, 1) for item in node.items)
        return f"({out})" if outer > 1 else out
    if isinstance(node, _And):
        out = " AND ".join(_render(item, 2) for item in node.items)
        return f"({out})" if outer > 2 else out
    if isinstance(node, _Not):
        return "NOT " + _render(node.item, 3)
    if isinstance(node, _Text):
        return _render_word(node.shown)
    if isinstance(node, _Regex):
        return f"/{node.source}/{node.flags}"
    if isinstance(node, _Sev):
        return f"severity{node.op}{node.level.word}"
    return f"{node.name}:{_render_value(node.shown)}"


def _positive_leaves(node: _Node, positive: bool = True) -> Iterator[_Text | _Regex]:
    if isinstance(node, _Not):
        yield from _positive_leaves(node.item, not positive)
    elif isinstance(node, _And | _Or):
        for item in node.items:
            yield from _positive_leaves(item, positive)
    elif positive and isinstance(node, _Text | _Regex):
        yield node


# --------------------------------------------------------------------------- the API


@dataclass(frozen=True)
class Query:
    """A compiled query: test events, prefilter raw lines, highlight text.

    Build one with :func:`compile_query`. Immutable and safe to share
    between threads; the prefilter caches only ever gain entries.

    Attributes:
        text: The query as typed.
        since: Events before this epoch time cannot match (None: no bound),
            so a reader may skip whole stretches of a file or an index.
        until: Events at or after this time cannot match (None: no bound).
    """

    text: str
    since: float | None = None
    until: float | None = None
    _root: _Node | None = field(default=None, repr=False, compare=False)
    _match: _Match = field(default=_match_all, repr=False, compare=False)
    _prefilters: dict[str, Callable[[bytes], bool] | None] = field(
        default_factory=dict, repr=False, compare=False
    )
    _needles: dict[str, list[tuple[bytes, ...]] | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def is_empty(self) -> bool:
        """True for a query with no terms: it matches every event."""
        return self._root is None

    def matches(self, event: Event) -> bool:
        """Whether ``event`` satisfies the query."""
        return self._match(event)

    def prefilter(self, kind: str) -> Callable[[bytes], bool] | None:
        """A cheap test on a raw line of ``kind`` that is False only for lines that cannot match.

        ``kind`` is a :class:`~oos_tui.models.SourceKind` value. The test
        takes the line's bytes as read from the file (a trailing newline is
        fine; for ``job`` logs the whole multi-line record; for ``store``,
        the UTF-8 of the ``raw`` JSON that
        :func:`~oos_tui.store.rows.store_event_to_event` builds) and never
        rejects a line whose parsed event matches. Only lines it accepts need
        parsing. None when it could reject nothing useful (for instance a
        query of exclusions only); a test that is always False when no event
        of ``kind`` can match.
        """
        try:
            return self._prefilters[kind]
        except KeyError:
            pass
        built = None if self._root is None else _build_prefilter(_dnf(self._root, kind))
        self._prefilters[kind] = built
        return built

    def needles(self, kind: str) -> list[tuple[bytes, ...]] | None:
        """The prefilter as plain needles, for searching a whole chunk of lines at once.

        An OR of AND-groups of lower-case byte strings: a line of ``kind``
        can match only if its lower-cased bytes contain every needle of some
        group. An empty list means no line of ``kind`` can match. None when
        no such list is short enough (or there is nothing to look for): use
        :meth:`prefilter`, which is never weaker, line by line.
        """
        try:
            return self._needles[kind]
        except KeyError:
            pass
        found = None if self._root is None else _as_needles(_dnf(self._root, kind, False))
        self._needles[kind] = found
        return found

    def highlights(self, text: str) -> list[tuple[int, int]]:
        """Sorted, non-overlapping ``(start, end)`` spans of ``text`` the query looked for.

        Covers the words, phrases and regexes that are not excluded; the
        face highlights them in a message or raw line.
        """
        if self._root is None or not text:
            return []
        spans: list[tuple[int, int]] = []
        lowered = text.lower()
        aligned = len(lowered) == len(text)
        for leaf in _positive_leaves(self._root):
            if isinstance(leaf, _Regex):
                spans.extend(m.span() for m in leaf.rx.finditer(text) if m.end() > m.start())
            elif aligned:
                start = lowered.find(leaf.needle)
                while start >= 0:
                    spans.append((start, start + len(leaf.needle)))
                    start = lowered.find(leaf.needle, start + 1)
            else:
                rx = re.compile(re.escape(leaf.needle), re.IGNORECASE)
                spans.extend(m.span() for m in rx.finditer(text))
        spans.sort()
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return merged

    def describe(self) -> str:
        """The query in a normalised form (``type:FAIL AND NOT source:x``), or ``everything``.

        The result reads back as the same query.
        """
        return "everything" if self._root is None else _render(self._root)


def compile_query(text: str, *, now: float | None = None) -> Query:
    """Compile ``text`` in the search language (see the module documentation).

    Args:
        text: The query; blank means every event.
        now: The clock for relative times (``since:15m``), in epoch seconds;
            the current time when None.

    Raises:
        QueryError: the text is not a valid query; its message is one line
            and its ``position`` points at the problem.
    """
    clock = time.time() if now is None else now
    root = _Parser(_lex(text, clock)).parse()
    if root is None:
        return Query(text)
    since, until = _bounds(root)
    return Query(text, since, until, root, _matcher(root))
