"""oos-tui: the operator's console for the OOS pipeline."""

__version__ = "0.1.0"
