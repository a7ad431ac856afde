"""Snapshots of the Audit screen's detail (the plain screen is in test_snapshots_shell.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oos_tui.app import OosApp


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_audit_detail(
    snap_compare, fixture_app: Callable[..., OosApp], size: tuple[int, int]
) -> None:
    press = ["8", "wait:400", "enter", "wait:100"]
    assert snap_compare(fixture_app(), terminal_size=size, press=press)
