"""A job's lineage as a tree: each final output traced back to the inputs no stage produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from oos_tui.lineage import Lineage, Node, lineage_tree_all
from oos_tui.sanitize import default_sanitizer
from oos_tui.widgets.stage_table import STAGE_SYMBOLS

__all__ = ["MARKER_WORDS", "LineageItem", "LineageTree", "node_label"]

MARKER_WORDS: dict[str, str] = {
    "external": "← external",
    "final": "→ final",
    "missing": "! missing",
    "order": "! from a later stage",
    "cycle": "↺ cycle",
    "seen": "↑ traced above",
    "truncated": "… truncated",
}
"""How each lineage marker reads: a word and a symbol, never colour alone."""

_MARKER_CLASS = {
    "external": "external",
    "final": "final",
    "missing": "problem",
    "order": "problem",
    "cycle": "problem",
    "seen": "muted",
    "truncated": "muted",
}

_STATUS_CLASS = {"failed": "failed", "malformed": "problem", "running": "running"}

Span = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class LineageItem:
    """What a tree node stands for, with where its label's parts are (for styling).

    Attributes:
        node: The lineage node (None for the "problems" section and its lines).
        spans: ``(start, end, component)`` ranges of the label to style with
            ``lineage-tree--<component>``.
        key: The node's identity in the tree (kind, label, stage), to keep the
            cursor on the same node across rebuilds.
    """

    node: Node | None
    spans: tuple[Span, ...]
    key: tuple[str, str, str]


def node_label(node: Node, statuses: Mapping[str, str]) -> tuple[str, tuple[Span, ...]]:
    """The plain label of a lineage node and the spans to style (pure; tests call it).

    A stage reads ``02_asr  ✕ failed``; a file ``01_demux/audio.wav  audio/wav
    0.5 MB  ← external``. Every path and name is sanitised.
    """
    clean = default_sanitizer().clean
    spans: list[Span] = []
    text = clean(node.label)
    if node.kind == "stage":
        spans.append((0, len(text), "stage"))
        status = statuses.get(node.label)
        if status is not None:
            word = f"{STAGE_SYMBOLS.get(status, '?')} {clean(status)}"
            start = len(text) + 2
            text += "  " + word
            spans.append((start, len(text), _STATUS_CLASS.get(status, "muted")))
    elif node.detail:
        start = len(text) + 2
        text += "  " + clean(node.detail)
        spans.append((start, len(text), "muted"))
    for marker in node.markers:
        start = len(text) + 2
        text += "  " + MARKER_WORDS.get(marker, clean(marker))
        spans.append((start, len(text), _MARKER_CLASS.get(marker, "muted")))
    return text, tuple(spans)


class LineageTree(Tree[LineageItem]):
    """Final outputs at the roots, each traced back to the inputs no stage produced.

    The screen pushes the job's :class:`~oos_tui.lineage.Lineage` with
    :meth:`show`; the same object again is not rebuilt. Markers read as words
    (``← external``, ``→ final``, ``! missing``, ``↺ cycle``) styled by the
    ``lineage-tree--*`` component classes. Moving the cursor onto a node of a
    stage posts :class:`LineageTree.StageHighlighted`.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "lineage-tree--stage",
        "lineage-tree--failed",
        "lineage-tree--running",
        "lineage-tree--external",
        "lineage-tree--final",
        "lineage-tree--problem",
        "lineage-tree--muted",
    }

    DEFAULT_CSS = """
    LineageTree { height: 1fr; }
    """

    class StageHighlighted(Message):
        """The operator moved the tree's cursor onto a node of ``stage``."""

        def __init__(self, stage: str) -> None:
            super().__init__()
            self.stage = stage

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("lineage", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._lineage: Lineage | None = None
        self._statuses: dict[str, str] = {}

    def show(self, lineage: Lineage, statuses: Mapping[str, str]) -> None:
        """Show a job's lineage; ``statuses`` (stage name → status) label the stage nodes."""
        statuses = dict(statuses)
        if lineage is self._lineage and statuses == self._statuses:
            return
        self._lineage = lineage
        self._statuses = statuses
        keep = self._cursor_path()
        self.clear()
        self.root.expand()
        tree = lineage_tree_all(lineage)
        if not tree.children:
            self._add_text(self.root, "no stage has a manifest yet", "muted")
        stack: list[tuple[TreeNode[LineageItem], Node]] = [
            (self.root, child) for child in reversed(tree.children)
        ]
        while stack:
            parent, node = stack.pop()
            text, spans = node_label(node, statuses)
            item = LineageItem(node, spans, (node.kind, node.label, node.stage or ""))
            added = parent.add(Text(text), item, expand=True, allow_expand=bool(node.children))
            stack.extend((added, child) for child in reversed(node.children))
        if lineage.problems:
            clean = default_sanitizer().clean
            count = len(lineage.problems)
            head = self._add_text(
                self.root,
                f"! {count} lineage problem{'s' if count != 1 else ''}",
                "problem",
                leaf=False,
            )
            for problem in lineage.problems:
                self._add_text(head, f"{clean(problem.kind)}: {clean(problem.message)}", "problem")
        if keep:
            self.call_after_refresh(self._restore_cursor, keep)

    def _add_text(
        self, parent: TreeNode[LineageItem], text: str, component: str, *, leaf: bool = True
    ) -> TreeNode[LineageItem]:
        item = LineageItem(None, ((0, len(text), component),), ("text", text, ""))
        if leaf:
            return parent.add_leaf(Text(text), item)
        return parent.add(Text(text), item, expand=True)

    def _cursor_path(self) -> tuple[tuple[str, str, str], ...]:
        node = self.cursor_node
        path: list[tuple[str, str, str]] = []
        while node is not None and node is not self.root:
            if node.data is not None:
                path.append(node.data.key)
            node = node.parent
        return tuple(reversed(path))

    def _restore_cursor(self, path: tuple[tuple[str, str, str], ...]) -> None:
        node: TreeNode[LineageItem] = self.root
        for key in path:
            match = next((c for c in node.children if c.data and c.data.key == key), None)
            if match is None:
                break
            node = match
        if node is not self.root:
            self.move_cursor(node)

    def render_label(self, node: TreeNode[LineageItem], base_style: Style, style: Style) -> Text:
        text = super().render_label(node, base_style, style)
        item = node.data
        if item is None:
            return text
        offset = len(text.plain) - len(str(node.label))
        for start, end, component in item.spans:
            text.stylize(
                self.get_component_rich_style(f"lineage-tree--{component}", partial=True),
                offset + start,
                offset + end,
            )
        return text

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[LineageItem]) -> None:
        event.stop()
        item = event.node.data
        if self.has_focus and item is not None and item.node is not None and item.node.stage:
            self.post_message(self.StageHighlighted(item.node.stage))

    def labels(self) -> list[str]:
        """Every node's label, depth first, indented two spaces a level (tests read it)."""
        out: list[str] = []
        stack = [(child, 0) for child in reversed(self.root.children)]
        while stack:
            node, depth = stack.pop()
            out.append("  " * depth + str(node.label))
            stack.extend((child, depth + 1) for child in reversed(node.children))
        return out
