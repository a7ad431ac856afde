"""``oos-tui init``: create a fresh, empty store for a workspace."""

from __future__ import annotations

import argparse

from oos_tui.cli._common import CliError, settings_from

__all__ = ["register"]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``init`` command."""
    p = sub.add_parser(
        "init",
        parents=[common],
        help="create a fresh store (refuses to touch an existing one)",
        description="Create data/oos.db with the contract's schema (WAL, user_version 1). "
        "Refuses if anything already exists at that path.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Create the store; an existing one is never touched."""
    from oos_tui.store.schema import StoreError, init_store

    settings = settings_from(args)
    if settings.read_only:
        raise CliError("init refused: read-only mode (--read-only); nothing changed")
    path = settings.store_path
    try:
        init_store(path)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot create {path}: {exc.strerror or exc}") from None
    print(f"created {path} (schema version 1, WAL)")
    return 0
