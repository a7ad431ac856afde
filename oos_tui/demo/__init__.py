"""The reference OOS producer behind ``oos-tui demo``: a real concurrent writer of a workspace.

``options`` (the run's settings), ``catalog`` (queues, workers, task types,
sources, episode cadences), ``rules`` (backoff and breaker transitions),
``store`` (WAL, one short transaction per action), ``logs`` and ``rotation``
(every line through :mod:`oos_tui.formats`, rotated as the contract says),
``jobs`` (``out/<job-id>/``), ``metrics`` (psutil or a seeded model),
``world`` (the simulation), ``producer`` (the paced loop and its signals),
``launcher`` (the producer behind the console) and ``checks`` (the contract,
verified). Nothing here imports Textual.
"""
