"""The confirmation modal: Cancel by default, typed confirmations, reasons."""

from __future__ import annotations

from textual.app import App

from oos_tui.screens.confirm import ConfirmResult, ConfirmScreen
from oos_tui.themes import css_paths, default_variables


class _Host(App[None]):
    CSS_PATH = css_paths()

    def __init__(self, screen: ConfirmScreen) -> None:
        super().__init__()
        self.answer: ConfirmResult | None = None
        self._screen = screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return default_variables()

    def on_mount(self) -> None:
        self.push_screen(self._screen, callback=self._done)

    def _done(self, result: ConfirmResult | None) -> None:
        self.answer = result


async def test_enter_alone_cancels() -> None:
    app = _Host(ConfirmScreen("Retry 3 dead letters", ["rows 1, 2, 3"]))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.answer == ConfirmResult(False)


async def test_y_confirms_an_untyped_confirmation() -> None:
    app = _Host(ConfirmScreen("Retry dead letter 7"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.answer == ConfirmResult(True)


async def test_typed_confirmation_needs_the_exact_text() -> None:
    app = _Host(ConfirmScreen("Purge 250 dead letters", typed="250"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("y", "enter")  # "y" goes into the field; "y" is not "250"
        await pilot.pause()
        assert app.answer is None
        await pilot.press("backspace", "2", "5", "0", "enter")
        await pilot.pause()
    assert app.answer == ConfirmResult(True)


async def test_reason_is_returned() -> None:
    app = _Host(ConfirmScreen("Reset breaker w1", ask_reason=True, warnings=["it is open"]))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(*"provider fixed")
        await pilot.press("enter")  # to the buttons, not a confirmation
        await pilot.pause()
        assert app.answer is None
        await pilot.press("escape")
        await pilot.pause()
    assert app.answer == ConfirmResult(False)
    app = _Host(ConfirmScreen("Reset breaker w1", ask_reason=True))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(*"provider fixed")
        await pilot.click("#confirm")
        await pilot.pause()
    assert app.answer == ConfirmResult(True, "provider fixed")
