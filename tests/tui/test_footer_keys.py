"""A Footer's keys mount in their final style (leaddesk/widgets/footer_keys.py): rebuilding the footer, which
Textual does on every focus change, restyles none of them a second time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from leaddesk.app import LeadDeskApp

from .conftest import assert_no_internal_error, calm


def test_a_footer_rebuilt_restyles_none_of_its_keys(app: LeadDeskApp, monkeypatch: pytest.MonkeyPatch) -> None:
    restyled: list[Any] = []
    update_styles = App.update_styles

    def recording(self: App[Any], node: Any, *args: Any, **kwargs: Any) -> None:
        restyled.append(node)
        update_styles(self, node, *args, **kwargs)

    monkeypatch.setattr(App, "update_styles", recording)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await calm(pilot)
            footer = app.screen.query_one(Footer)
            before = set(footer.query(FooterKey))
            restyled.clear()
            app.screen.refresh_bindings()  # as a focus change does: Textual rebuilds the footer
            await pilot.pause(0.1)
            await calm(pilot)
            keys = list(footer.query(FooterKey))
            assert not before & set(keys)  # new keys
            assert len(keys) >= 5
            assert [node for node in restyled if isinstance(node, FooterKey)] == []
            assert_no_internal_error(app)

    asyncio.run(main())


def test_footer_keys_start_as_their_footer() -> None:
    """The patch reaches Textual's FooterKey (private module): an upgrade that moves it fails here."""
    from leaddesk.widgets.footer_keys import _data_bind_starting_as_the_footer, plain_footer_keys

    plain_footer_keys()
    assert FooterKey.data_bind is _data_bind_starting_as_the_footer
    assert FooterKey._default_compact is True and Footer.compact._default is False  # type: ignore[attr-defined]
