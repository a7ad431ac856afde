"""Pipeline lineage: which stage produced each input, which outputs are final (pure, no I/O).

A job's stages (CONTRACT §2.5) list the files they read and wrote as
job-relative paths (``01_demux/audio.wav``). An input that another stage lists
as an output is the lineage between them. :func:`resolve_lineage` turns the
stages into a :class:`Lineage` (every input with its producer or EXTERNAL,
every output with its readers or FINAL, the edges, and the problems found);
:func:`lineage_tree` and :func:`lineage_tree_all` trace it back as a tree of
:class:`Node` values, and :func:`render_tree` draws one for the CLI.

Decisions:

- Paths are compared after :func:`normalize_path`: backslashes become ``/``,
  ``./``, ``//``, ``a/../`` and trailing slashes are folded away, and an
  absolute path under the job's directory (``root``) becomes job-relative.
  Comparison is case-sensitive.
- An input under an output directory (``03_frames/0001.png`` when a stage
  wrote ``03_frames/``) is produced by that directory's stage.
- Stages are ranked by ``(order, name)`` (the ``NN_`` prefix, then the name):
  "earlier" means a lower rank. The producer of an input is the latest
  earlier stage that lists it (the last writer wins); failing that the stage
  itself (a self-loop, reported as a cycle); failing that the earliest later
  stage (reported as an order violation). Problems never stop the resolver
  and every walk is bounded, so a cycle is reported, not followed forever.
- An output is FINAL when no other stage's input resolves to it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oos_tui.models import Stage, StageFile
from oos_tui.units import format_mib

__all__ = [
    "CHECKED_INPUT_STATUSES",
    "CHECKED_OUTPUT_STATUSES",
    "Edge",
    "FileRef",
    "Lineage",
    "LineageProblem",
    "Node",
    "lineage_tree",
    "lineage_tree_all",
    "node_text",
    "normalize_path",
    "render_tree",
    "resolve_lineage",
]

CHECKED_OUTPUT_STATUSES: frozenset[str] = frozenset(("success",))
"""Stages whose outputs must exist on disk: a running or failed stage may not have written them."""

CHECKED_INPUT_STATUSES: frozenset[str] = frozenset(("success", "failed", "running", "skipped"))
"""Stages whose inputs must exist on disk (any stage with a readable manifest)."""

_MAX_ANCESTORS = 64


def normalize_path(path: str, root: str | None = None) -> str:
    """The form in which two manifests' paths are compared.

    Args:
        path: A path as a manifest lists it.
        root: The job's directory; an absolute path under it is made relative
            to it, so ``/ws/out/job1/01_demux/a.wav`` and ``01_demux/a.wav``
            are the same file.

    Returns:
        ``/``-separated, without ``.`` segments, doubled or trailing slashes,
        and with ``a/../`` folded; ``""`` for an empty path.
    """
    text = path.replace("\\", "/")
    if not text:
        return ""
    text = posixpath.normpath(text)
    if text.startswith("//"):
        text = "/" + text.lstrip("/")
    if root:
        base = posixpath.normpath(root.replace("\\", "/")).rstrip("/")
        if base and text.startswith(base + "/"):
            text = text[len(base) + 1 :]
    return "" if text == "." else text


@dataclass(frozen=True, slots=True)
class FileRef:
    """One input or output of one stage, resolved.

    Attributes:
        stage: The stage that lists the file (its directory name).
        path: The normalised path.
        role: ``"input"`` or ``"output"``.
        file: The entry as the manifest gave it (type, format, size).
        producer: For an input, the stage that produced it; None when no
            stage did (the input is EXTERNAL).
        consumers: For an output, the stages whose inputs resolve to it;
            empty when none does (the output is FINAL).
        missing: True when the file was checked and is not on disk.
    """

    stage: str
    path: str
    role: str
    file: StageFile
    producer: str | None = None
    consumers: tuple[str, ...] = ()
    missing: bool = False

    @property
    def external(self) -> bool:
        """An input that no stage of the job produced."""
        return self.role == "input" and self.producer is None

    @property
    def final(self) -> bool:
        """An output that no other stage reads."""
        return self.role == "output" and not self.consumers

    def to_json(self) -> dict[str, Any]:
        """The shape used in ``jobs JOB_ID --json`` (``lineage.externals``/``finals``)."""
        out: dict[str, Any] = {"stage": self.stage, "path": self.path}
        if self.role == "input":
            out["producer"] = self.producer
        else:
            out["consumers"] = list(self.consumers)
        out["missing"] = self.missing
        return out


@dataclass(frozen=True, slots=True)
class Edge:
    """``consumer`` reads ``path``, which ``producer`` wrote.

    ``kind`` is ``"ok"`` (from an earlier stage), ``"self"`` (a stage reading
    its own output) or ``"order"`` (from a later stage).
    """

    producer: str
    consumer: str
    path: str
    kind: str = "ok"

    def to_json(self) -> dict[str, Any]:
        """``{"from", "to", "path", "kind"}``."""
        return {"from": self.producer, "to": self.consumer, "path": self.path, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class LineageProblem:
    """Something wrong with the job's lineage, reported instead of followed.

    ``kind`` is one of ``cycle`` (stages that read each other's outputs, or a
    stage its own), ``order`` (an input produced by a later stage),
    ``ambiguous`` (an output path listed by two or more stages), ``missing``
    (a listed file not on disk) or ``duplicate`` (two stages with one name).
    """

    kind: str
    message: str
    stages: tuple[str, ...] = ()
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"kind", "message", "stages", "path"}``."""
        return {
            "kind": self.kind,
            "message": self.message,
            "stages": list(self.stages),
            "path": self.path,
        }


@dataclass(frozen=True, slots=True)
class Lineage:
    """A job's resolved lineage: every file reference, the edges and the problems."""

    stages: tuple[str, ...] = ()
    inputs: tuple[FileRef, ...] = ()
    outputs: tuple[FileRef, ...] = ()
    edges: tuple[Edge, ...] = ()
    problems: tuple[LineageProblem, ...] = ()

    @property
    def externals(self) -> tuple[FileRef, ...]:
        """Inputs that no stage produced."""
        return tuple(ref for ref in self.inputs if ref.external)

    @property
    def finals(self) -> tuple[FileRef, ...]:
        """Outputs that no other stage reads."""
        return tuple(ref for ref in self.outputs if ref.final)

    def inputs_of(self, stage: str) -> tuple[FileRef, ...]:
        """The inputs of one stage, in manifest order."""
        return tuple(ref for ref in self.inputs if ref.stage == stage)

    def outputs_of(self, stage: str) -> tuple[FileRef, ...]:
        """The outputs of one stage, in manifest order."""
        return tuple(ref for ref in self.outputs if ref.stage == stage)

    def to_json(self) -> dict[str, Any]:
        """The ``lineage`` object of ``jobs JOB_ID --json``: edges, externals, finals, problems."""
        return {
            "edges": [e.to_json() for e in self.edges],
            "externals": [r.to_json() for r in self.externals],
            "finals": [r.to_json() for r in self.finals],
            "problems": [p.to_json() for p in self.problems],
        }


def _ancestors(path: str) -> Iterable[str]:
    for _ in range(_MAX_ANCESTORS):
        parent = posixpath.dirname(path)
        if not parent or parent == path:
            return
        yield parent
        path = parent


def resolve_lineage(
    stages: Sequence[Stage],
    exists: Callable[[str], bool] | None = None,
    *,
    root: str | None = None,
) -> Lineage:
    """Link every stage's inputs to the stage that produced them.

    Args:
        stages: The job's stages, in any order (they are ranked by
            ``(order, name)``). A second stage with a name already seen is
            reported as ``duplicate`` and left out.
        exists: Tells whether a normalised path is on disk; without it nothing
            is reported missing. Only inputs of stages in
            :data:`CHECKED_INPUT_STATUSES` and outputs of stages in
            :data:`CHECKED_OUTPUT_STATUSES` are checked.
        root: The job's directory, to make absolute paths job-relative.

    Returns:
        The lineage; its problems list cycles, order violations, ambiguous
        producers, missing files and duplicate stage names, each once.
    """
    problems: list[LineageProblem] = []
    ranked: list[Stage] = []
    names: set[str] = set()
    for stage in sorted(stages, key=lambda s: (s.order, s.name)):
        if stage.name in names:
            problems.append(
                LineageProblem(
                    "duplicate", f"two stages are named {stage.name}; the second is ignored",
                    (stage.name,),
                )
            )  # fmt: skip
            continue
        names.add(stage.name)
        ranked.append(stage)
    rank = {stage.name: i for i, stage in enumerate(ranked)}

    produced: dict[str, list[int]] = {}
    for i, stage in enumerate(ranked):
        seen_here: set[str] = set()
        for f in stage.outputs:
            path = normalize_path(f.path, root)
            if path and path not in seen_here:
                seen_here.add(path)
                produced.setdefault(path, []).append(i)
    for path, who in produced.items():
        if len(who) > 1:
            listed = tuple(ranked[i].name for i in who)
            problems.append(
                LineageProblem(
                    "ambiguous", f"{path} is an output of {len(who)} stages: {', '.join(listed)}",
                    listed, path,
                )
            )  # fmt: skip

    checked: dict[str, bool] = {}

    def is_missing(path: str) -> bool:
        if exists is None or not path:
            return False
        found = checked.get(path)
        if found is None:
            found = checked[path] = bool(exists(path))
        return not found

    inputs: list[FileRef] = []
    edges: list[Edge] = []
    consumers: dict[tuple[int, str], list[str]] = {}
    order_seen: set[tuple[str, str, str]] = set()
    self_seen: set[str] = set()
    for i, stage in enumerate(ranked):
        check = stage.status in CHECKED_INPUT_STATUSES
        for f in stage.inputs:
            path = normalize_path(f.path, root)
            key, who = _producers(path, produced)
            producer: int | None = None
            kind = "ok"
            if who:
                earlier = [j for j in who if j < i]
                if earlier:
                    producer = earlier[-1]
                elif i in who:
                    producer, kind = i, "self"
                else:
                    producer, kind = min(j for j in who if j > i), "order"
            missing = check and is_missing(path)
            name = ranked[producer].name if producer is not None else None
            inputs.append(FileRef(stage.name, path, "input", f, name, (), missing))
            if producer is None or name is None:
                continue
            edges.append(Edge(name, stage.name, path, kind))
            consumers.setdefault((producer, key), []).append(stage.name)
            if kind == "self" and stage.name not in self_seen:
                self_seen.add(stage.name)
                problems.append(
                    LineageProblem(
                        "cycle", f"{stage.name} reads its own output {path}", (stage.name,), path
                    )
                )
            elif kind == "order" and (name, stage.name, path) not in order_seen:
                order_seen.add((name, stage.name, path))
                problems.append(
                    LineageProblem(
                        "order",
                        f"{stage.name} reads {path}, which the later stage {name} produces",
                        (stage.name, name), path,
                    )
                )  # fmt: skip

    outputs: list[FileRef] = []
    for i, stage in enumerate(ranked):
        check = stage.status in CHECKED_OUTPUT_STATUSES
        for f in stage.outputs:
            path = normalize_path(f.path, root)
            readers = tuple(
                dict.fromkeys(c for c in consumers.get((i, path), ()) if c != stage.name)
            )
            missing = check and is_missing(path)
            outputs.append(FileRef(stage.name, path, "output", f, None, readers, missing))

    for ref in (*inputs, *outputs):
        if ref.missing:
            problems.append(
                LineageProblem(
                    "missing", f"{ref.stage}: {ref.role} {ref.path} is not on disk",
                    (ref.stage,), ref.path,
                )
            )  # fmt: skip

    for cycle in _cycles([s.name for s in ranked], edges, rank):
        loop = " → ".join((*cycle, cycle[0]))
        problems.append(
            LineageProblem("cycle", f"stages read each other's outputs: {loop}", tuple(cycle))
        )

    return Lineage(
        tuple(s.name for s in ranked), tuple(inputs), tuple(outputs), tuple(edges), tuple(problems)
    )


def _producers(path: str, produced: Mapping[str, list[int]]) -> tuple[str, list[int]]:
    who = produced.get(path)
    if who:
        return path, who
    for parent in _ancestors(path):
        who = produced.get(parent)
        if who:
            return parent, who
    return path, []


def _cycles(names: list[str], edges: Iterable[Edge], rank: Mapping[str, int]) -> list[list[str]]:
    """Strongly connected components of two or more stages (Tarjan's, iteratively)."""
    graph: dict[str, list[str]] = {n: [] for n in names}
    for e in edges:
        if e.producer != e.consumer and e.consumer not in graph[e.producer]:
            graph[e.producer].append(e.consumer)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in names:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = graph[node]
            if pos < len(targets):
                work.append((node, pos + 1))
                nxt = targets[pos]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component, key=rank.__getitem__))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    found.sort(key=lambda c: rank[c[0]])
    return found


@dataclass(frozen=True, slots=True)
class Node:
    """One node of a lineage tree, for the CLI's text and the TUI's Tree widget.

    Attributes:
        kind: ``"job"`` (the root of :func:`lineage_tree_all`), ``"stage"`` or
            ``"file"``.
        label: The stage name or the file's path.
        stage: The stage the node stands for: for a file, the stage that
            lists it (as an input under a stage, as an output at a root).
        path: The file's normalised path (files only).
        detail: Type, format and size of a file, as one short text.
        markers: Any of ``external`` (an input no stage produced), ``final``
            (an output no stage reads), ``missing`` (not on disk), ``order``
            (produced by a later stage), ``cycle`` (the stage is already on
            this branch: traced no further), ``seen`` (the stage is traced
            elsewhere in this tree), ``truncated`` (the tree's size limit).
        children: For a stage, its inputs; for a file, the stage that
            produced it (none when external).
    """

    kind: str
    label: str
    stage: str | None = None
    path: str | None = None
    detail: str = ""
    markers: tuple[str, ...] = ()
    children: tuple[Node, ...] = field(default=())


def _size_text(size_mb: float | None) -> str:
    return "" if size_mb is None else format_mib(size_mb)


def _detail(f: StageFile, made: StageFile | None = None) -> str:
    """Type, format and size, each from the producer's entry when this one lacks it."""
    kind_of, format_of, size = f.type, f.format, f.size_mb
    if made is not None:
        kind_of = kind_of or made.type
        format_of = format_of or made.format
        size = size if size is not None else made.size_mb
    kind = "/".join(x for x in (kind_of, format_of) if x)
    return "  ".join(x for x in (kind, _size_text(size)) if x)


class _Tracer:
    """Builds trees with a shared "already traced" set and a node budget."""

    def __init__(self, lineage: Lineage, max_nodes: int, max_depth: int) -> None:
        self.inputs: dict[str, list[FileRef]] = {name: [] for name in lineage.stages}
        for ref in lineage.inputs:
            self.inputs.setdefault(ref.stage, []).append(ref)
        self.kinds = {(e.consumer, e.path): e.kind for e in lineage.edges}
        self.made = {(ref.stage, ref.path): ref.file for ref in lineage.outputs}
        self.expanded: set[str] = set()
        self.budget = max_nodes
        self.max_depth = max_depth

    def stage(self, name: str, branch: tuple[str, ...], markers: tuple[str, ...] = ()) -> Node:
        self.budget -= 1
        if name in branch:
            return Node("stage", name, name, markers=(*markers, "cycle"))
        if name in self.expanded:
            return Node("stage", name, name, markers=(*markers, "seen"))
        if self.budget <= 0 or len(branch) >= self.max_depth:
            return Node("stage", name, name, markers=(*markers, "truncated"))
        self.expanded.add(name)
        inner = (*branch, name)
        children = []
        for ref in self.inputs.get(name, ()):
            if self.budget <= 0:
                children.append(Node("file", "…", name, markers=("truncated",)))
                break
            children.append(self.input(ref, inner))
        return Node("stage", name, name, markers=markers, children=tuple(children))

    def input(self, ref: FileRef, branch: tuple[str, ...]) -> Node:
        self.budget -= 1
        marks: list[str] = []
        if ref.producer is None:
            marks.append("external")
        elif self.kinds.get((ref.stage, ref.path)) == "order":
            marks.append("order")
        if ref.missing:
            marks.append("missing")
        below: tuple[Node, ...] = ()
        made = None
        if ref.producer is not None:
            below = (self.stage(ref.producer, branch),)
            made = self.made.get((ref.producer, ref.path))
        detail = _detail(ref.file, made)
        return Node("file", ref.path, ref.stage, ref.path, detail, tuple(marks), below)


def lineage_tree(
    lineage: Lineage, stage_name: str, *, max_nodes: int = 5000, max_depth: int = 200
) -> Node:
    """One stage's inputs traced back, through their producers, to external inputs.

    Each stage is traced once: where it appears again it carries ``seen``, and
    where it would close a loop it carries ``cycle``; either way the walk stops
    there, so the tree is finite and at most ``max_nodes`` large.

    Raises:
        KeyError: no stage of that name.
    """
    if stage_name not in lineage.stages:
        raise KeyError(stage_name)
    return _Tracer(lineage, max_nodes, max_depth).stage(stage_name, ())


def lineage_tree_all(lineage: Lineage, *, max_nodes: int = 5000, max_depth: int = 200) -> Node:
    """The whole job: each final output at a root, traced back to external inputs.

    Stages that the final outputs do not reach (a stage without outputs, or
    stages caught in a cycle) follow as roots of their own, latest first (so
    an earlier stage is traced under the later one that read it), and every
    stage appears once in full.
    """
    tracer = _Tracer(lineage, max_nodes, max_depth)
    roots: list[Node] = []
    for ref in lineage.finals:
        if tracer.budget <= 0:
            roots.append(Node("file", "…", markers=("truncated",)))
            break
        tracer.budget -= 1
        marks = ("final", "missing") if ref.missing else ("final",)
        below = (tracer.stage(ref.stage, ()),)
        roots.append(Node("file", ref.path, ref.stage, ref.path, _detail(ref.file), marks, below))
    for name in reversed(lineage.stages):
        if name not in tracer.expanded:
            if tracer.budget <= 0:
                roots.append(Node("stage", "…", markers=("truncated",)))
                break
            roots.append(tracer.stage(name, ()))
    return Node("job", "lineage", children=tuple(roots))


_MARKER_TEXT = {
    "external": "← external",
    "final": "→ final",
    "missing": "! missing on disk",
    "order": "! from a later stage",
    "cycle": "↺ cycle: not traced further",
    "seen": "↑ traced above",
    "truncated": "… truncated",
}
_ASCII_MARKER_TEXT = {
    "external": "<- external",
    "final": "-> final",
    "missing": "! missing on disk",
    "order": "! from a later stage",
    "cycle": "cycle: not traced further",
    "seen": "^ traced above",
    "truncated": "... truncated",
}


def node_text(node: Node, *, ascii_only: bool = False) -> str:
    """One node as a line of text: label, detail and markers."""
    words = _ASCII_MARKER_TEXT if ascii_only else _MARKER_TEXT
    parts = [node.label]
    if node.detail:
        parts.append(f"({node.detail})")
    parts.extend(f"[{words.get(m, m)}]" for m in node.markers)
    return "  ".join(parts)


def render_tree(node: Node, *, ascii_only: bool = False, show_root: bool = True) -> list[str]:
    """The tree as lines of text, drawn with box characters (or ``|--`` with ``ascii_only``).

    Returns plain text that may hold hostile paths: print it through
    :class:`~oos_tui.cli._common.Output`.
    """
    tee, last, bar, gap = (
        ("|-- ", "`-- ", "|   ", "    ") if ascii_only else ("├─ ", "└─ ", "│  ", "   ")
    )
    lines: list[str] = []
    if show_root:
        lines.append(node_text(node, ascii_only=ascii_only))
    stack: list[tuple[Node, str, bool]] = [
        (child, "", i == len(node.children) - 1) for i, child in enumerate(node.children)
    ][::-1]
    while stack:
        current, prefix, is_last = stack.pop()
        lines.append(
            prefix + (last if is_last else tee) + node_text(current, ascii_only=ascii_only)
        )
        inner = prefix + (gap if is_last else bar)
        kids = current.children
        stack.extend((kid, inner, i == len(kids) - 1) for i, kid in reversed(list(enumerate(kids))))
    return lines
