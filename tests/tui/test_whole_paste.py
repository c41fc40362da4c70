"""A bracketed paste reaches the app whole, as one Paste event, whatever it holds and however the reads split it
(leaddesk/widgets/whole_paste.py; Textual's parser sent an ESC sequence inside a paste as key presses)."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from textual import events
from textual._xterm_parser import XTermParser

from leaddesk.widgets.whole_paste import PASTE_END, PASTE_START, paste_whole

paste_whole()

PASTED = "P\x1b[31mred\u202ert\x1b[2J\x07 \x1b[B\x1b[201end"  # an arrow's sequence and a cut end marker too
INPUT = "a" + PASTE_START + PASTED + "\x00" + PASTE_END + "\x1b[Bb"


def events_of(*reads: str) -> list[Any]:
    parser = XTermParser()
    found: list[Any] = []
    for data in reads:
        found += list(parser.feed(data))
    return found


def shape(found: list[Any]) -> list[tuple[str, str | None]]:
    return [(type(e).__name__, e.text if isinstance(e, events.Paste) else e.key) for e in found]


EXPECTED = [("Key", "a"), ("Paste", PASTED), ("Key", "down"), ("Key", "b")]


def test_a_paste_in_one_read_is_one_paste_event_with_exactly_what_was_pasted() -> None:
    assert shape(events_of(INPUT)) == EXPECTED  # NUL removed, as Textual does


def test_a_paste_split_over_reads_anywhere_is_still_one_paste_event() -> None:
    for cut in range(1, len(INPUT)):
        assert shape(events_of(INPUT[:cut], INPUT[cut:])) == EXPECTED, cut
    for first, second in combinations(range(1, len(INPUT)), 2):
        if first < 12 or second > len(INPUT) - 14 or second - first < 4:  # around both markers
            reads = (INPUT[:first], INPUT[first:second], INPUT[second:])
            assert shape(events_of(*reads)) == EXPECTED, (first, second)


def test_keys_outside_a_paste_are_parsed_as_before() -> None:
    assert shape(events_of("\x1b[A", "x\x1b[1;5C")) == [("Key", "up"), ("Key", "x"), ("Key", "ctrl+right")]
    assert shape(events_of("x\x1b", "[Ay")) == [("Key", "x"), ("Key", "up"), ("Key", "y")]
