"""The README documents every key (by binding id) and every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_binding_id_is_documented(tmp_path: Path) -> None:
    code = (
        "import oos_tui.app\n"
        "from oos_tui.keys import all_bindings\n"
        "print('\\n'.join(sorted(all_bindings())))\n"
    )
    # Outside the checkout: the installed package (with its widgets/ and themes/
    # mapping), not the bare source folder that ``-c`` would put first on sys.path.
    ids = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.split()
    assert ids, "no bindings found"
    missing = [i for i in ids if f"`{i}`" not in README]
    assert not missing, f"binding ids missing from README.md: {missing}"


def test_every_command_is_documented() -> None:
    from oos_tui.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = [name for name in sub.choices if f"oos-tui {name}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_the_two_setup_commands_come_first() -> None:
    head = README.split("## ", 1)[0]
    assert "<!-- demo-command:start -->" in head and "oos-tui demo" in head
    assert "<!-- test-command:start -->" in head and "pytest" in head
