"""A bracketed paste arrives whole, as one Paste event, whatever escape sequences it holds.

A terminal sends pasted text between `ESC [200~` and `ESC [201~`. Textual's parser (8.2.8) collects it, but an
ESC inside the paste starts an escape sequence that swallows the characters after it; the sequence is then sent
as *key presses*, and only the rest of the paste as text, after them. So pasting `P ESC[31mred` (a name copied
from a coloured log, an email, a hostile file) typed `^[31mred` as keys and pasted `P` last; with an arrow's
sequence in the paste the keys left the search box and the rest of the paste ran as commands.

`paste_whole` wraps the parser's `feed` for every parser of the process: the text between the markers, split
over any number of reads, goes out as one `events.Paste` with exactly what was pasted (NUL removed, as Textual
does); everything else goes through Textual's parser unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual import events
from textual._xterm_parser import XTermParser

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
_FEED: Callable[[XTermParser, str], Iterable[Any]] = vars(XTermParser)["feed"]
_CARRY, _PASTING, _FED = "_leaddesk_carry", "_leaddesk_pasting", "_leaddesk_fed"


def _tail_begun(text: str, marker: str, shortest: int) -> int:
    """How many characters at the end of `text` begin `marker` (at least `shortest`, else 0)."""
    for size in range(min(len(marker) - 1, len(text)), shortest - 1, -1):
        if text.endswith(marker[:size]):
            return size
    return 0


def _feed(parser: XTermParser, data: str) -> Iterable[Any]:
    """Textual's `feed`, with each bracketed paste taken out whole (see the module)."""
    text = getattr(parser, _CARRY, "") + data
    pasting: str | None = getattr(parser, _PASTING, None)
    fed: int = getattr(parser, _FED, 0)  # how much of a start marker the parser got at the end of the last read
    setattr(parser, _CARRY, "")
    while text:
        if pasting is None and fed and data:  # the last read ended in "ESC" or "ESC [", now in Textual's parser
            rest = PASTE_START[fed:]
            if text.startswith(rest):  # it began a paste: the parser takes the start marker and an empty paste
                for event in _FEED(parser, rest + PASTE_END):
                    if not isinstance(event, events.Paste):
                        yield event
                pasting, text, fed = "", text[len(rest):], 0
                continue
            if rest.startswith(text):  # perhaps one still coming
                setattr(parser, _CARRY, text)
                break
            fed = 0
        if pasting is None:
            start = text.find(PASTE_START)
            if start < 0:
                # A read may end inside the start marker: hold back its beginning ("ESC [2"...), never a lone
                # ESC or "ESC [" (an Escape or alt+[ key press must not wait for the next read; see `fed`).
                held = _tail_begun(text, PASTE_START, 3) if data else 0
                given, text = text[:len(text) - held], text[len(text) - held:]
                setattr(parser, _CARRY, text)
                text = ""
            else:
                given, text = text[:start], text[start + len(PASTE_START):]
                pasting = ""
            if given:
                yield from _FEED(parser, given)
                fed = _tail_begun(given, PASTE_START, 1)
        else:
            end = text.find(PASTE_END)
            if end < 0:
                held = _tail_begun(text, PASTE_END, 1)
                pasting += text[:len(text) - held]
                setattr(parser, _CARRY, text[len(text) - held:])
                text = ""
            else:
                yield events.Paste((pasting + text[:end]).replace("\x00", ""))
                pasting, text = None, text[end + len(PASTE_END):]
    setattr(parser, _PASTING, pasting)
    setattr(parser, _FED, fed)
    if not data:  # the end of input: Textual's parser finishes too
        yield from _FEED(parser, "")


def paste_whole() -> None:
    """Make every XTermParser of the process deliver a bracketed paste whole (idempotent)."""
    XTermParser.feed = _feed  # type: ignore[assignment,method-assign]
