"""``oos-tui breakers`` and ``oos-tui reset-breaker NAME``: circuit breakers headless."""

from __future__ import annotations

import argparse
import asyncio
import time

from oos_tui.cli._common import CliError, Output, require_writable, settings_from

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``breakers`` and ``reset-breaker`` commands."""
    p = sub.add_parser(
        "breakers",
        parents=[common],
        help="every circuit breaker: state, trip progress, failure rate, countdown",
        description="Every circuit breaker with its state, progress toward a trip, totals, "
        "failure rate, how long it has been open, the countdown to retry_at and the last error.",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per breaker")
    p.set_defaults(handler=run_list)

    p = sub.add_parser(
        "reset-breaker",
        parents=[common],
        help="close a circuit breaker by hand (audited)",
        description="Set a breaker closed with no consecutive failures and no open or retry "
        "time, in one transaction with its audit row. A single named action: it does not ask.",
    )
    p.add_argument("name", metavar="NAME", help="the breaker's name")
    p.add_argument("--reason", metavar="TEXT", help="why (kept in the audit log)")
    p.add_argument(
        "--yes", action="store_true", help="accepted for scripts; reset-breaker never asks"
    )
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(handler=run_reset)


def run_list(args: argparse.Namespace) -> int:
    """Print every breaker; exit 1 when the store is missing or unreadable."""
    from oos_tui.actions.breakers import (
        breaker_json,
        format_open_for,
        format_rate,
        format_retry_in,
        state_look,
        trip_progress,
    )
    from oos_tui.store.reader import StoreReader, StoreSnapshot

    settings = settings_from(args)

    async def read() -> StoreSnapshot | None:
        async with StoreReader(settings.store_path) as reader:
            return await reader.poll(force=True)

    snap = asyncio.run(read())
    assert snap is not None  # force=True always returns a snapshot
    health = snap.health
    if not health.present or not health.readable:
        raise CliError(health.message or f"cannot read store: {settings.store_path}")
    now = time.time()
    out = Output(settings)
    if args.json:
        out.json_many(breaker_json(b, now) for b in snap.breakers)
        out.flush()
        return 0
    if "circuit_breakers" in health.missing_tables:
        out.text("circuit_breakers: not present")
    elif not snap.breakers:
        out.text("no circuit breakers in the store")
    else:
        name_w = max(4, *(len(b.name) for b in snap.breakers))
        out.text(
            f"{'state':<12}  {'name':<{name_w}}  {'trip progress':<28}  {'failures':>8}  "
            f"{'successes':>9}  {'rate':>6}  {'open for':>8}  {'retry':>10}  last error"
        )
        for b in snap.breakers:
            word, symbol = state_look(b.state)
            last = next((p.strip() for p in (b.last_error or "").splitlines() if p.strip()), "-")
            out.text(
                f"{symbol + ' ' + word:<12}  {b.name:<{name_w}}  {trip_progress(b):<28}  "
                f"{b.total_failures:>8}  {b.total_successes:>9}  {format_rate(b):>6}  "
                f"{format_open_for(b, now):>8}  {format_retry_in(b, now):>10}  {last[:80]}"
            )
    out.flush()
    return 0


def run_reset(args: argparse.Namespace) -> int:
    """Reset one breaker; exit 0 when done, 1 when refused or failed."""
    from oos_tui.actions.breakers import reset_breaker
    from oos_tui.cli.deadletter import emit_results

    settings = settings_from(args)
    require_writable(settings, "reset-breaker")
    result = asyncio.run(
        reset_breaker(
            settings.store_path, args.name, reason=args.reason, read_only=settings.read_only
        )
    )
    return emit_results(Output(settings), [result], as_json=args.json, verb="reset-breaker")
