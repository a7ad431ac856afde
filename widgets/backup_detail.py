"""One backup in full: its sidecar's record and the last verify report (sha, integrity, rows)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from oos_tui.actions.backup import BackupInfo, VerifyReport
from oos_tui.sanitize import default_sanitizer
from oos_tui.timeutil import format_duration

__all__ = ["WIDE", "BackupDetail", "render_record", "render_report"]

WIDE = 120
"""From this many columns on, the record and the report sit side by side."""

_LABEL = 12


def _when(ts: float | None) -> str:
    if ts is None:
        return "never"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _field(name: str, value: str, style: str = "") -> Content:
    return Content.assemble((f"{name:<{_LABEL}}", "bold $text-muted"), (value, style))


def render_record(backup: BackupInfo | None, now: float) -> Content:
    """The sidecar's fields of ``backup`` and what listing it found (sanitised, never markup)."""
    if backup is None:
        return Content.styled("no backup selected", "$text-muted")
    clean: Callable[[str], str] = default_sanitizer().clean
    lines = [Content.styled(clean(backup.path.name), "bold")]
    lines.append(_field("directory", clean(str(backup.path.parent))))
    lines.append(
        _field("sidecar", clean(backup.sidecar.name) if backup.sha256 is not None else "missing")
    )
    lines.append(_field("kind", backup.kind))
    age = format_duration(max(0.0, now - backup.created_at))
    lines.append(_field("created", f"{_when(backup.created_at)} · {age} ago"))
    lines.append(_field("bytes", f"{backup.bytes:,}"))
    lines.append(_field("sha256", clean(backup.sha256 or "-")))
    integrity_style = "" if backup.integrity == "ok" else "bold $text-error"
    lines.append(_field("integrity", clean(backup.integrity), integrity_style))
    duration = "-" if backup.duration_ms is None else f"{backup.duration_ms:,} ms"
    lines.append(_field("duration", duration))
    lines.append(_field("operator", clean(backup.operator or "-")))
    lines.append(_field("source", clean(backup.source or "-")))
    verified = _when(backup.verified_at)
    if backup.verify_ok is False:
        verified += " (the last verification failed)"
    lines.append(_field("verified at", verified, "" if backup.verified_at else "$text-warning"))
    if backup.problem:
        lines.append(_field("problem", clean(backup.problem), "bold $text-warning"))
    return Content("\n").join(lines)


def render_report(report: VerifyReport | None) -> Content:
    """The last verify report of this session: sha, integrity, schema version, rows per table."""
    if report is None:
        return Content.assemble(
            ("verify report\n", "bold"),
            (
                "not verified in this session: v recomputes the sha256 against the sidecar, "
                "reruns integrity_check and counts the rows of every table",
                "$text-muted",
            ),
        )
    clean: Callable[[str], str] = default_sanitizer().clean
    verdict = (
        ("✓ verifies", "bold $text-success")
        if report.ok
        else ("✕ does not verify", "bold $text-error")
    )
    lines = [
        Content.assemble(
            ("verify report ", "bold"),
            verdict,
            (f" · checked {_when(report.checked_at)}", "$text-muted"),
        )
    ]
    if report.sha_ok:
        lines.append(_field("sha256", "✓ matches the sidecar", "$text-success"))
    elif report.expected_sha256 is None:
        lines.append(_field("sha256", "✕ nothing to compare: no sidecar digest", "$text-error"))
    else:
        found = (report.sha256 or "unreadable")[:16]
        lines.append(
            _field(
                "sha256",
                f"✕ MISMATCH: file {found}…, sidecar {clean(report.expected_sha256[:16])}…",
                "bold $text-error",
            )
        )
    if report.integrity == "ok":
        lines.append(_field("integrity", "✓ ok", "$text-success"))
    else:
        lines.append(_field("integrity", "✕ " + clean(report.integrity), "bold $text-error"))
    version = "-" if report.schema_version is None else f"v{report.schema_version}"
    lines.append(_field("schema", version))
    lines.append(_field("bytes", "-" if report.bytes is None else f"{report.bytes:,}"))
    if report.row_counts:
        width = max(len(t) for t in report.row_counts)
        first = True
        for table, count in report.row_counts.items():
            label = "rows" if first else ""
            first = False
            lines.append(_field(label, f"{clean(table):<{width}}  {count:>10,}"))
    else:
        lines.append(_field("rows", "no tables counted", "$text-warning"))
    for error in report.errors:
        lines.append(_field("error", clean(error), "$text-error"))
    if report.recorded:
        lines.append(_field("recorded", "in the sidecar", "$text-muted"))
    elif report.note:
        lines.append(_field("note", clean(report.note), "$text-warning"))
    return Content("\n").join(lines)


class BackupDetail(VerticalScroll):
    """The record and the verify report of one backup; the screen calls :meth:`show`."""

    DEFAULT_CSS = """
    BackupDetail { height: 1fr; }
    BackupDetail > Horizontal { height: auto; layout: vertical; }
    BackupDetail.-wide > Horizontal { layout: horizontal; }
    BackupDetail > Horizontal > Static { width: 1fr; height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("", id="backup-record", markup=False)
            yield Static("", id="backup-report", markup=False)

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[Content, Content] | None = None

    def reveal_report(self) -> None:
        """Scroll the verify report into view (stacked below the record when narrow)."""
        self.call_after_refresh(
            self.scroll_to_widget, self.query_one("#backup-report"), animate=False, top=True
        )

    def show(self, backup: BackupInfo | None, report: VerifyReport | None, now: float) -> None:
        """Display ``backup`` and its last verify report (None: not verified in this session).

        Unchanged content is not repainted: the screen calls this on every state push.
        """
        shown = (render_record(backup, now), render_report(report))
        if shown == self._shown:
            return
        self._shown = shown
        self.query_one("#backup-record", Static).update(shown[0])
        self.query_one("#backup-report", Static).update(shown[1])
