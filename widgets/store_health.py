"""Resources pane: store health (WAL, pages, freelist and the VACUUM advice, integrity checks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import ProgressBar

from oos_tui.integrity import VACUUM_FREELIST_RATIO, IntegrityRecord, StoreHealthFigures
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes
from oos_tui.widgets.text_line import QuietStatic

if TYPE_CHECKING:
    from oos_tui.config import Settings

__all__ = ["StoreHealthPane", "integrity_lines", "render_store_health"]

_UNREAD = object()


def _when(at: float, now: float) -> str:
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return f"{stamp} ({format_duration(max(0.0, now - at))} ago)"


def integrity_lines(record: IntegrityRecord | None, now: float, width: int) -> list[Content]:
    """The last check in words: kind, verdict (a word, not only a colour), time, detail.

    A pass is one line when it fits (else the time goes on a second line).
    A failure says how long ago on its first line and then the problem in
    full, wrapped: in a short pane the exact timestamp is what gets cut.
    """
    if record is None:
        return [Content.assemble(("check ", "bold"), "no integrity check recorded")]
    kind = "backup integrity_check" if record.kind == "backup" else record.kind
    when = Content.styled(f"at {_when(record.at, now)}", "$text-muted")
    if record.ok:
        head = Content.assemble(("check ", "bold"), f"{kind} ", ("ok", "bold $success"))
        if head.cell_length + 1 + when.cell_length <= width:
            return [Content.assemble(head, " ", when)]
        return [head, Content.assemble("      ", when)]
    ago = format_duration(max(0.0, now - record.at))
    head = Content.assemble(
        ("check ", "bold"),
        f"{kind} ",
        ("FAILED", "bold $alert-critical"),
        (f" {ago} ago", "$text-muted"),
    )
    detail = Content.styled(record.detail, "$alert-critical").wrap(max(10, width - 6))
    return [
        head,
        *(Content.assemble("      ", line) for line in detail),
        Content("      ").append(when),
    ]


def render_store_health(
    figures: StoreHealthFigures | None,
    message: str | None,
    record: object,
    now: float,
    *,
    hint: str,
    width: int,
    height: int,
    checking: str | None = None,
) -> Content:
    """Store size and pages, WAL and freelist (with the VACUUM advice), the last check, the keys.

    ``record`` is the last :class:`IntegrityRecord`, None when none is
    recorded, or any other value while the record is still being read.
    While a check runs (``checking`` says so) its line replaces the last
    result and one row is left free for the progress bar. Lines are cut
    from the end when the pane is short: the key hint goes first (the
    footer has it too).
    """
    lines: list[Content] = []
    if figures is None:
        lines.append(Content(message or "reading the store…"))
    else:
        pages = ""
        if figures.page_count is not None and figures.page_size is not None:
            pages = f" ({figures.page_count:,} × {figures.page_size:,} B pages)"
        lines.append(Content.assemble(("store ", "bold"), format_bytes(figures.size_bytes), pages))
        high = figures.vacuum_recommended
        ratio = figures.freelist_ratio
        lines.append(
            Content.assemble(
                ("WAL ", "bold"),
                format_bytes(figures.wal_bytes),
                ("  freelist ", "bold"),
                (
                    "?" if ratio is None else f"{figures.freelist_count or 0:,} ({ratio:.1%})",
                    "bold $alert-warning" if high else "",
                ),
                (" ▲" if high else "", "bold $alert-warning"),
            )
        )
        if figures.advice:
            # The policy's own words where there is room (wrapped), a short form where not.
            advice = Content.styled(f"▲ {figures.advice}", "bold $alert-warning")
            wrapped = advice.wrap(width) if width > 20 else [advice]
            if len(wrapped) > 1 and height < 8:
                short = f"▲ >{VACUUM_FREELIST_RATIO:.0%} free: VACUUM recommended"
                wrapped = [Content.styled(short, "bold $alert-warning")]
            lines += wrapped
        if message:
            lines.append(Content.styled(f"! {message}", "$sev-warning"))
    if checking is not None:
        lines.append(Content.styled(checking, "bold"))
        height -= 1
    elif isinstance(record, IntegrityRecord) or record is None:
        lines += integrity_lines(record, now, width)
    else:
        lines.append(Content.assemble(("check ", "bold"), "reading the last result…"))
    if checking is None:
        lines.append(Content.styled(hint, "$text-muted"))
    return Content("\n").join(
        line.truncate(width, ellipsis=True) for line in lines[: max(1, height)]
    )


class StoreHealthPane(Vertical, can_focus=True):
    """The store's health and the integrity check the operator can run from here.

    The check itself runs in the screen's worker; this pane only shows the
    figures, the last recorded result and, while a check runs, its progress.
    """

    DEFAULT_CSS = """
    StoreHealthPane {
        height: 1fr;
    }
    StoreHealthPane > #store-health-body {
        height: auto;
    }
    StoreHealthPane > ProgressBar {
        height: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")
        self.border_title = "Store health"
        self._figures: StoreHealthFigures | None = None
        self._message: str | None = None
        self._record: object = _UNREAD
        self._now = 0.0
        self._hint = "c quick_check now"
        self._checking: str | None = None
        self._check_line = ""

    def compose(self) -> ComposeResult:
        yield QuietStatic(id="store-health-body")

    def source(self, settings: Settings) -> str:
        """The provenance line: PRAGMAs of the store poll, and where checks are recorded."""
        return (
            f"{settings.store_path.name} PRAGMA page_count, freelist_count; "
            f"checks in {settings.paths.cache_dir}/integrity.json"
        )

    @property
    def record(self) -> IntegrityRecord | None:
        """The last recorded check as shown (None: none recorded, or not read yet)."""
        return self._record if isinstance(self._record, IntegrityRecord) else None

    def show_health(
        self, figures: StoreHealthFigures | None, message: str | None, now: float
    ) -> None:
        """The store's figures from the latest poll (None before the first)."""
        self._figures, self._message, self._now = figures, message, now
        self._redraw()

    def show_integrity(self, record: IntegrityRecord | None) -> None:
        """The last recorded check, read from the record file."""
        self._record = record
        self._redraw()

    def set_hint(self, hint: str) -> None:
        """The key line, with the keys as currently mapped."""
        self._hint = hint
        self._redraw()

    def show_progress(self, kind: str | None, fraction: float = 0.0, cancel_hint: str = "") -> None:
        """A running check's progress (``kind`` None: no check running).

        The bar exists only while a check runs: a mounted ProgressBar keeps a
        timer ticking, and an idle console should not wake up for nothing.
        """
        self._checking = kind
        bars = self.query(ProgressBar)
        if kind is None:
            bars.remove()
        else:
            if bars:
                bar = bars.first(ProgressBar)
            else:
                bar = ProgressBar(total=100, show_eta=False, id="check-progress")
                self.mount(bar)
            bar.update(progress=round(fraction * 100, 1))
            self._check_line = f"{kind}… {cancel_hint}".rstrip()
        self._redraw()

    def _redraw(self) -> None:
        region = self.content_region
        content = render_store_health(
            self._figures,
            self._message,
            self._record,
            self._now,
            hint=self._hint,
            width=region.width or 36,
            height=region.height or 5,
            checking=self._check_line if self._checking else None,
        )
        self.query_one("#store-health-body", QuietStatic).show(content)

    def on_resize(self) -> None:
        self._redraw()
