"""Confirmation of operator actions: Cancel is the default, big or destructive ones are typed.

Every action that changes the store goes through :class:`ConfirmScreen`
(STYLE §8). ``enter`` alone never confirms: the operator presses ``y``, or
for a typed confirmation types the exact word or count and then ``enter``.
``esc``, ``n`` and ``q`` cancel. A reason can be asked for and is returned
with the answer (kept in the audit detail by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

__all__ = ["ConfirmResult", "ConfirmScreen"]


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    """The operator's answer."""

    confirmed: bool
    reason: str = ""


class ConfirmScreen(ModalScreen[ConfirmResult]):
    """Ask before acting.

    Args:
        title: what will happen, one line ("Retry 37 dead letters").
        lines: details to read first (affected rows, counts); shown as text.
        warnings: lines shown in the warning colour (e.g. an open breaker).
        typed: when set, the operator must type exactly this text (a count,
            or ``purge``) and press enter; ``y`` is not enough.
        ask_reason: show a reason field (optional text, returned).
        verb: the confirm button's label.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
        Binding("n,q", "cancel", "Cancel", show=False),
        Binding("y", "confirm", "Confirm", id="confirm.yes"),
    ]

    def __init__(
        self,
        title: str,
        lines: list[str] | None = None,
        *,
        warnings: list[str] | None = None,
        typed: str | None = None,
        ask_reason: bool = False,
        verb: str = "Confirm",
    ) -> None:
        super().__init__()
        self._title = title
        self._lines = list(lines or [])
        self._warnings = list(warnings or [])
        self._typed = typed
        self._ask_reason = ask_reason
        self._verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-body") as body:
            body.border_title = Content(self._title)  # a name may hold "[" or "\\"
            for line in self._lines:
                yield Static(line, markup=False, classes="confirm-line")
            for warning in self._warnings:
                yield Static(
                    Content.styled("▲ " + warning, "bold $warning"), classes="confirm-warning"
                )
            if self._typed is not None:
                yield Static(
                    f"Type {self._typed} and press enter to confirm (esc cancels).",
                    markup=False,
                    classes="confirm-hint",
                )
                yield Input(placeholder=f"type {self._typed!r} here", id="confirm-typed")
            if self._ask_reason:
                yield Input(
                    placeholder="reason (optional, kept in the audit log)", id="confirm-reason"
                )
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self._verb, id="confirm", variant="error")

    def on_mount(self) -> None:
        # Cancel is the default: it has focus unless something must be typed.
        if self._typed is not None:
            self.query_one("#confirm-typed", Input).focus()
        elif self._ask_reason:
            self.query_one("#confirm-reason", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A typed confirmation cannot be skipped with "y".
        return not (action == "confirm" and self._typed is not None)

    def _reason(self) -> str:
        if not self._ask_reason:
            return ""
        return self.query_one("#confirm-reason", Input).value.strip()

    def action_cancel(self) -> None:
        """Do nothing."""
        self.dismiss(ConfirmResult(False))

    def action_confirm(self) -> None:
        """Go ahead (untyped confirmations only)."""
        if self._typed is None:
            self.dismiss(ConfirmResult(True, self._reason()))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "confirm-reason":
            if self._typed is None:
                self.query_one("#confirm", Button).focus()
            else:
                self.query_one("#confirm-typed", Input).focus()
            return
        if event.value.strip() == self._typed:
            self.dismiss(ConfirmResult(True, self._reason()))
        else:
            self.notify(f"type exactly {self._typed} to confirm", severity="warning", timeout=3)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel()
        elif self._typed is None:
            self.dismiss(ConfirmResult(True, self._reason()))
        else:
            typed = self.query_one("#confirm-typed", Input).value.strip()
            if typed == self._typed:
                self.dismiss(ConfirmResult(True, self._reason()))
            else:
                self.notify(f"type exactly {self._typed} to confirm", severity="warning", timeout=3)
