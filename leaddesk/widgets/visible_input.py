"""Text being edited is drawn with its control characters made visible.

Textual's `Input` draws its value as it is: a pasted ESC sequence or bidi override would reach the terminal
while the text is being typed (once stored, every view shows it through `textsafe`). `draw_controls_visibly`
makes every Input of the process (the app's forms and Textual's own, such as the command palette's) draw each
control character as one visible character (`textsafe.visible_controls`: ␛ for ESC), so the cursor and the
selection still land on the right characters. The value itself is unchanged: what is saved is what was typed.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input

from leaddesk.textsafe import visible_controls

_DRAWN_VALUE: property = vars(Input)["_value"]  # Textual's "value rendered as text" (private: the tests hold it)


def _visible_value(self: Input) -> Text:
    value = self.value
    shown = visible_controls(value)
    if self.password or shown == value:
        return _DRAWN_VALUE.__get__(self)  # type: ignore[no-any-return]
    # Drawn from the value itself, as Textual does: a Text made of the value would drop BEL, BS, VT, FF and CR
    # (Rich strips them), and the cursor would then be drawn past the right character.
    text = Text(shown, no_wrap=True, overflow="ignore", end="")  # the same length: the cursor keeps its place
    return self.highlighter(text) if self.highlighter is not None else text


def draw_controls_visibly() -> None:
    """Make every `Input` draw control characters visibly (idempotent)."""
    Input._value = property(_visible_value, doc=_DRAWN_VALUE.__doc__)  # type: ignore[method-assign,assignment]
