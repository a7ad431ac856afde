"""``python -m oos_tui`` runs the same command line as ``oos-tui``."""

import sys

from oos_tui.cli import main

sys.exit(main())
