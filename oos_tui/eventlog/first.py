"""The stream's first window, read on a thread while the console loads Textual.

Opening the console spends about a third of a second importing Textual and
parsing its CSS before anything can be drawn. The newest events do not depend
on any of that, so the CLI starts this thread first: it opens the workspace's
:class:`~oos_tui.eventlog.stream.EventStream` and takes its first step (the
quick windows of the newest lines). When the app is ready to compose its first
screen the window is usually there, and the screen is drawn with the newest
events already in it instead of empty and filled a step later.

The stream then belongs to the feed's thread, which carries on where this one
stopped: one stream, handed over once, never used by two threads at a time.
"""

from __future__ import annotations

import threading

from oos_tui.config import Settings
from oos_tui.eventlog.stream import EventStream, StreamUpdate

__all__ = ["FirstStep"]


class FirstStep:
    """One :meth:`EventStream.step`, started at once on its own thread.

    A failure is not reported here: the feed's thread then opens the stream
    itself, meets the same error and shows it like any other.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._result: tuple[EventStream, StreamUpdate] | None = None
        self._thread = threading.Thread(target=self._run, name="oos-first-step", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        stream: EventStream | None = None
        try:
            stream = EventStream(self._settings)
            self._result = (stream, stream.step())
        except Exception:  # the feed's own first step reports it
            if stream is not None:
                stream.close()
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        """Whether the step has ended (read or failed)."""
        return self._done.is_set()

    def take(self, wait: float | None = None) -> tuple[EventStream, StreamUpdate] | None:
        """The stream and its first update, handed over once.

        Args:
            wait: seconds to wait for the step to end; None waits until it does.

        Returns:
            None when the step has not ended within ``wait``, failed, or was
            already taken.
        """
        if not self._done.wait(wait):
            return None
        with self._lock:
            result, self._result = self._result, None
        return result
