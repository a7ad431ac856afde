"""Console panes, one widget class per module (installed as ``oos_tui.widgets``)."""
