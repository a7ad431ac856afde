"""``oos-tui dead-letter``, ``retry``, ``purge`` and ``audit``: the dead-letter queue headless.

Listing reads the store read-only. ``retry ID…`` runs one transaction per id
and asks nothing: the operator named the rows. ``retry --all`` and ``purge``
act on every row matching a filter in one transaction, after a confirmation
on the terminal (``--yes`` skips it; without ``--yes`` and without a terminal
on stdin they refuse). The confirmation pins the rows it showed: the action
runs on exactly those ids with the count the operator confirmed, and is
refused if any of them changed meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from oos_tui.cli._common import CliError, Output, UsageError, fail, require_writable, settings_from
from oos_tui.config import Settings
from oos_tui.models import ActionResult, AuditEntry, Breaker, DeadLetter, iso

__all__ = [
    "BULK_TYPED_ABOVE",
    "Confirm",
    "confirm_bulk",
    "emit_results",
    "register",
]

BULK_TYPED_ABOVE = 100
"""A retry of more rows than this needs the count typed; a purge always does."""

PREVIEW_ROWS = 5
"""Rows listed in a bulk confirmation before "… and N more"."""

NOT_A_TERMINAL = "refusing a bulk action without --yes: stdin is not a terminal"


def _dead_letter_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a dead-letter id: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a dead-letter id: {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queue", metavar="Q", help="only this queue")
    p.add_argument("--type", dest="task_type", metavar="T", help="only this task type")
    p.add_argument(
        "--error", metavar="TEXT", help="only errors containing TEXT (ASCII case-insensitive)"
    )


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``dead-letter``, ``retry``, ``purge`` and ``audit`` commands."""
    p = sub.add_parser(
        "dead-letter",
        parents=[common],
        help="list dead letters (or their error groups)",
        description="List dead-letter rows, newest failure first.",
    )
    _filter_options(p)
    p.add_argument("--group", action="store_true", help="group by error signature, with counts")
    p.add_argument("--limit", type=_count, metavar="N", help="at most N rows (newest first)")
    p.add_argument("--json", action="store_true", help="one JSON object per row (or group)")
    p.set_defaults(handler=run_list)

    p = sub.add_parser(
        "retry",
        parents=[common],
        help="retry dead letters: by id, or --all matching a filter",
        description="Put dead-lettered tasks back to pending. `retry ID...` retries each id in "
        "its own transaction; `retry --all [filters]` retries every matching row in one, after "
        "a confirmation (--yes skips it).",
    )
    p.add_argument("ids", nargs="*", type=_dead_letter_id, metavar="ID", help="dead-letter ids")
    p.add_argument("--all", action="store_true", help="every row matching the filters")
    _filter_options(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="one result object per row")
    p.set_defaults(handler=run_retry)

    p = sub.add_parser(
        "purge",
        parents=[common],
        help="delete dead letters matching a filter (typed confirmation)",
        description="Delete every dead-letter row matching the filters in one transaction; the "
        "tasks stay failed and the rows are kept whole in the audit log. The operator types the "
        "count to confirm (--yes skips it).",
    )
    _filter_options(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="one result object per row")
    p.set_defaults(handler=run_purge)

    p = sub.add_parser(
        "audit",
        parents=[common],
        help="the operator actions log, newest first",
        description="Every operator action and its outcome, newest first.",
    )
    p.add_argument("--limit", type=_count, metavar="N", default=50, help="at most N (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object per action")
    p.set_defaults(handler=run_audit)


# ----------------------------------------------------------------- reading


async def _read_dead_letters(
    settings: Settings,
    *,
    queue: str | None,
    task_type: str | None,
    error: str | None,
    limit: int | None = None,
    with_snapshot: bool = False,
) -> tuple[list[DeadLetter], Any]:
    from oos_tui.store.reader import StoreReader
    from oos_tui.store.schema import StoreError

    async with StoreReader(settings.store_path) as reader:
        try:
            rows = await reader.dead_letters(
                queue=queue, task_type=task_type, error=error, limit=limit
            )
        except StoreError as exc:
            raise CliError(str(exc)) from None
        snapshot = await reader.poll(force=True) if with_snapshot else None
    return rows, snapshot


def _first_line(text: str) -> str:
    for part in text.splitlines():
        if part.strip():
            return part.strip()
    return ""


def _error_line(text: str) -> str:
    from oos_tui.triage import meaningful_line

    return meaningful_line(text)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def dead_letter_json(row: DeadLetter) -> dict[str, Any]:
    """A dead letter as the ``dead-letter --json`` object: every column, the whole error."""
    from oos_tui.store.rows import parse_json
    from oos_tui.triage import error_signature

    return {
        "id": row.id,
        "task_id": row.task_id,
        "queue": row.queue,
        "task_type": row.task_type,
        "attempts": row.attempts,
        "worker_id": row.worker_id,
        "failed_at": iso(row.failed_at) if row.failed_at is not None else None,
        "error": row.error,
        "error_line": _error_line(row.error),
        "error_signature": error_signature(row.error),
        "payload": parse_json(row.payload),
    }


def _row_line(out: Output, row: DeadLetter, widths: dict[str, int]) -> str:
    failed = iso(row.failed_at) if row.failed_at is not None else "-"
    return (
        f"{row.id:>{widths['id']}}  {_cut(row.queue, 16):<{widths['queue']}}  "
        f"{_cut(row.task_type, 20):<{widths['type']}}  {row.attempts:>8}  "
        f"{_cut(row.worker_id or '-', 14):<{widths['worker']}}  {failed:<24}  "
        f"{_cut(out.safe(_error_line(row.error)), 80)}"
    )


def _print_rows(out: Output, rows: Sequence[DeadLetter]) -> None:
    widths = {
        "id": max([2, *(len(str(r.id)) for r in rows)]),
        "queue": max([5, *(len(_cut(r.queue, 16)) for r in rows)]),
        "type": max([4, *(len(_cut(r.task_type, 20)) for r in rows)]),
        "worker": max([6, *(len(_cut(r.worker_id or "-", 14)) for r in rows)]),
    }
    out.text(
        f"{'id':>{widths['id']}}  {'queue':<{widths['queue']}}  {'type':<{widths['type']}}  "
        f"{'attempts':>8}  {'worker':<{widths['worker']}}  {'failed at':<24}  error"
    )
    for row in rows:
        out.text(_row_line(out, row, widths))


def run_list(args: argparse.Namespace) -> int:
    """List dead letters, or their signature groups; exit 1 when the store cannot be read."""
    from oos_tui.triage import group_by_signature

    settings = settings_from(args)
    rows, _ = asyncio.run(
        _read_dead_letters(
            settings,
            queue=args.queue,
            task_type=args.task_type,
            error=args.error,
            limit=args.limit,
        )
    )
    out = Output(settings)
    if args.group:
        groups = group_by_signature(rows)
        if args.json:
            out.json_many(
                {
                    "signature": g.signature,
                    "count": g.count,
                    "queues": list(g.queues),
                    "task_types": list(g.task_types),
                    "ids": list(g.ids),
                    "newest_failed_at": iso(g.newest_failed_at)
                    if g.newest_failed_at is not None
                    else None,
                    "example_id": g.example.id,
                    "example_error": g.example.error,
                }
                for g in groups
            )
        else:
            out.text(f"{'count':>6}  {'newest failure':<24}  queues / types  signature")
            for g in groups:
                newest = iso(g.newest_failed_at) if g.newest_failed_at is not None else "-"
                where = f"{','.join(g.queues)} / {','.join(g.task_types)}"
                out.text(f"{g.count:>6}  {newest:<24}  {_cut(where, 40)}  {g.signature}")
            out.text(f"{len(groups)} groups, {len(rows)} dead letters")
    elif args.json:
        out.json_many(dead_letter_json(r) for r in rows)
    else:
        if rows:
            _print_rows(out, rows)
        out.text(f"{len(rows)} dead letter{'s' if len(rows) != 1 else ''}")
    out.flush()
    return 0


# ----------------------------------------------------------- confirmation


class Confirm:
    """The terminal conversation of a bulk action: shows lines, reads an answer.

    Everything goes to ``stream`` (stderr by default) so stdout stays the
    command's output, ``--json`` included. Tests inject ``stdin``, ``stream``
    and ``isatty``; the real binary is also tested under a pseudo-terminal.
    """

    def __init__(
        self,
        stdin: TextIO | None = None,
        stream: TextIO | None = None,
        *,
        isatty: bool | None = None,
        settings: Settings | None = None,
    ) -> None:
        """Talk on ``stdin``/``stream``; ``isatty`` overrides asking ``stdin`` itself."""
        from oos_tui.sanitize import Sanitizer

        self._in = stdin if stdin is not None else sys.stdin
        self._out = stream if stream is not None else sys.stderr
        self._isatty = isatty
        self._san = Sanitizer(settings.redact if settings else None)

    @property
    def interactive(self) -> bool:
        """Whether an operator can answer: stdin is a terminal."""
        if self._isatty is not None:
            return self._isatty
        try:
            return self._in.isatty()
        except (AttributeError, ValueError):
            return False

    def show(self, line: str) -> None:
        """One line of the confirmation; untrusted text is made safe."""
        self._out.write(self._san.clean(line) + "\n")
        self._out.flush()

    def _answer(self, prompt: str) -> str | None:
        self._out.write(prompt)
        self._out.flush()
        try:
            line = self._in.readline()
        except (OSError, ValueError):
            return None
        if not line:
            self._out.write("\n")
            return None
        return line.strip()

    def ask(self, question: str) -> bool:
        """``question [y/N]``: only ``y`` or ``yes`` (any case) confirms; No is the default."""
        answer = self._answer(f"{question} [y/N] ")
        return answer is not None and answer.lower() in ("y", "yes")

    def ask_count(self, question: str, count: int) -> bool:
        """Confirm only when the operator types ``count`` exactly."""
        answer = self._answer(f"{question} Type {count} to confirm (anything else cancels): ")
        return answer == str(count)


def confirm_bulk(
    confirm: Confirm,
    *,
    verb: str,
    rows: Sequence[DeadLetter],
    description: str,
    breakers: Sequence[Breaker],
) -> bool:
    """Show what a bulk action will touch and ask; True when the operator confirmed.

    ``description`` follows the count (``matching queue=asr``, see
    :meth:`DeadLetterFilter.matching`).
    The count and the first rows are shown, and a warning when a matching
    task's worker breaker is open. A retry of up to :data:`BULK_TYPED_ABOVE`
    rows asks ``[y/N]``; a bigger retry and every purge need the count typed.
    Cancel is the default: an empty answer or end of input cancels.

    Raises:
        CliError: stdin is not a terminal (no one can answer).
    """
    from oos_tui.triage import open_breaker_warning

    if not confirm.interactive:
        raise CliError(NOT_A_TERMINAL)
    n = len(rows)
    noun = f"{n} dead letter{'s' if n != 1 else ''}"
    confirm.show(f"{verb.capitalize()} {noun} {description}:")
    for row in rows[:PREVIEW_ROWS]:
        confirm.show(
            f"  {row.id:>6}  {_cut(row.queue, 16)}  {_cut(row.task_type, 20)}  "
            f"{row.worker_id or '-'}  {_cut(_error_line(row.error), 70)}"
        )
    if n > PREVIEW_ROWS:
        confirm.show(f"  … and {n - PREVIEW_ROWS} more")
    if verb == "retry":
        warning = open_breaker_warning(rows, breakers)
        if warning:
            confirm.show(f"warning: {warning}")
    if verb == "purge":
        return confirm.ask_count(
            f"Purge {noun}? They are deleted for good (kept only in the audit log).", n
        )
    if n > BULK_TYPED_ABOVE:
        return confirm.ask_count(f"Retry {noun}?", n)
    return confirm.ask(f"Retry {noun}?")


# ----------------------------------------------------------------- output


def emit_results(out: Output, results: Sequence[ActionResult], *, as_json: bool, verb: str) -> int:
    """Print action results (one line, or one JSON object, each); the exit code.

    0 when every result is ok; otherwise 1, with one summary line on stderr.
    """
    for r in results:
        if as_json:
            out.json(r.to_json())
        else:
            out.text(f"{r.outcome:<8} {r.target}  {r.message}")
    out.flush()
    bad = [r for r in results if not r.ok]
    if not bad:
        return 0
    if len(results) == 1:
        fail(f"{verb} {bad[0].outcome}: {bad[0].message}")
    else:
        fail(f"{verb}: {len(bad)} of {len(results)} not done (refused or failed)")
    return 1


# ----------------------------------------------------------------- actions


def run_retry(args: argparse.Namespace) -> int:
    """``retry ID…`` (one transaction each) or ``retry --all`` (one for all)."""
    filters = [f for f in ("queue", "task_type", "error") if getattr(args, f) is not None]
    if args.all and args.ids:
        raise UsageError("usage error: give dead-letter IDs or --all, not both")
    if not args.all and not args.ids:
        raise UsageError("usage error: give dead-letter IDs, or --all with optional filters")
    if filters and not args.all:
        raise UsageError("usage error: --queue, --type and --error go with --all")
    if args.all:
        return _run_bulk(args, verb="retry")
    from oos_tui.actions.dead_letter import retry_one

    settings = settings_from(args)
    require_writable(settings, "retry")
    ids = list(dict.fromkeys(args.ids))

    async def go() -> list[ActionResult]:
        return [await retry_one(settings.store_path, i, read_only=settings.read_only) for i in ids]

    return emit_results(Output(settings), asyncio.run(go()), as_json=args.json, verb="retry")


def run_purge(args: argparse.Namespace) -> int:
    """``purge [filters]``: delete matching dead letters after a typed confirmation."""
    return _run_bulk(args, verb="purge")


def _run_bulk(args: argparse.Namespace, *, verb: str) -> int:
    from oos_tui.actions.dead_letter import DeadLetterFilter, purge_matching, retry_matching
    from oos_tui.store.reader import newer_schema_message

    settings = settings_from(args)
    require_writable(settings, verb)
    flt = DeadLetterFilter(queue=args.queue, task_type=args.task_type, error=args.error)
    rows, snapshot = asyncio.run(
        _read_dead_letters(
            settings,
            queue=flt.queue,
            task_type=flt.task_type,
            error=flt.error,
            with_snapshot=True,
        )
    )
    health = snapshot.health
    if health.newer_schema and health.schema_version is not None:
        raise CliError(f"{verb} refused: {newer_schema_message(health.schema_version)}")
    if not rows:
        fail(f"no dead letters {flt.matching()}: nothing to {verb}", prefix="oos-tui: ")
        return 0
    if not args.yes and not confirm_bulk(
        Confirm(settings=settings),
        verb=verb,
        rows=rows,
        description=flt.matching(),
        breakers=snapshot.breakers,
    ):
        raise CliError(f"{verb} cancelled: nothing changed")
    pinned = DeadLetterFilter(
        queue=flt.queue, task_type=flt.task_type, error=flt.error, ids=tuple(r.id for r in rows)
    )
    action = retry_matching if verb == "retry" else purge_matching
    results = asyncio.run(
        action(
            settings.store_path,
            pinned,
            expected_count=len(rows),
            read_only=settings.read_only,
        )
    )
    return emit_results(Output(settings), results, as_json=args.json, verb=verb)


# ------------------------------------------------------------------- audit


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """An ``operator_actions`` row as the ``audit --json`` object."""
    return {
        "id": entry.id,
        "at": iso(entry.at) if entry.at is not None else None,
        "operator": entry.operator,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


def _audit_summary(entry: AuditEntry) -> str:
    detail = entry.detail
    if isinstance(detail, dict):
        text = detail.get("result") or detail.get("error") or ""
        reason = detail.get("reason")
        if reason:
            text = f"{text} (reason: {reason})"
        return _first_line(str(text))
    return _first_line(str(detail or ""))


def run_audit(args: argparse.Namespace) -> int:
    """Print the operator actions log, newest first."""
    from oos_tui.store.reader import StoreReader
    from oos_tui.store.schema import StoreError

    settings = settings_from(args)

    async def read() -> list[AuditEntry]:
        async with StoreReader(settings.store_path) as reader:
            try:
                return await reader.audit(limit=args.limit)
            except StoreError as exc:
                raise CliError(str(exc)) from None

    entries = asyncio.run(read())
    out = Output(settings)
    if args.json:
        out.json_many(audit_json(e) for e in entries)
    else:
        for e in entries:
            when = iso(e.at) if e.at is not None else "-"
            out.text(
                f"{e.id:>6}  {when:<24}  {e.operator:<16}  {e.action:<13}  {e.outcome:<7}  "
                f"{e.target}  {_audit_summary(e)}"
            )
        if not entries:
            out.text("no operator actions yet")
    out.flush()
    return 0
