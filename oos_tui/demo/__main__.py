"""``python -m oos_tui.demo [FLAGS]``: the headless producer (what the console launcher starts)."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from oos_tui.cli import main

    sys.exit(main(["demo", "--headless", *sys.argv[1:]]))
