"""The real desk in a pseudo-terminal at 80x24 with TERM=xterm-256color, as a rep gets it over SSH: the board
appears, keys work, and quitting exits 0 and gives the terminal back as it was (tty modes and escape modes)."""

from __future__ import annotations

import re
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ptyterm import ROWS, PtyTerminal, terminal_env
from seeding import one_lead_desk

# Private modes at their terminal defaults after the app left: autowrap (7) and cursor (25) on, the rest off.
DEFAULT_ON = {7, 25}


@pytest.fixture
def seeded(tmp_path: Path) -> dict[str, Any]:
    """A desk with one lead of ann's (LEADDESK_USER is ann in every test)."""
    path = tmp_path / "desk.db"
    return one_lead_desk(path)


@pytest.fixture
def terminal(seeded: dict[str, Any]) -> Iterator[PtyTerminal]:
    term = PtyTerminal([sys.executable, "-m", "leaddesk", "--db", str(seeded["path"])], terminal_env(), settle=0.3,
                       keep_output=True)
    try:
        yield term
    finally:
        term.close()


def final_private_modes(raw: bytes) -> dict[int, bool]:
    """Each DEC private mode the output touched (`ESC [ ? n h/l`), and whether it was left on."""
    modes: dict[int, bool] = {}
    for match in re.finditer(rb"\x1b\[\?([\d;]+)([hl])", raw):
        for number in match.group(1).split(b";"):
            modes[int(number)] = match.group(2) == b"h"
    return modes


@pytest.mark.timeout(60)
def test_desk_in_a_pty_at_80x24(terminal: PtyTerminal, seeded: dict[str, Any]) -> None:
    name, status, empty = seeded["name"], seeded["status"], seeded["empty"]

    terminal.wait_for("the board", lambda: all(t in terminal.text() for t in (name, status, empty)))
    assert not terminal.shows(name, status)  # a card under its column, not a list row
    top, bottom = terminal.screen.display[0], terminal.screen.display[ROWS - 1]
    assert "leaddesk" in top and bottom.strip(), terminal.text()  # title on row 1, footer on row 24: sized 80x24
    terminal.press(b"2")
    terminal.wait_for("the list", lambda: terminal.shows(name, status))
    assert empty not in terminal.text()

    terminal.press(b"\x11")  # ctrl+q quits; it only arrives if the app turned off the tty's XON/XOFF flow control
    try:
        code = terminal.proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the desk did not quit; it shows:\n{terminal.text()}")
    terminal.pump(0.2)
    assert code == 0
    assert terminal.raw is not None
    raw = bytes(terminal.raw)
    assert b"Traceback" not in raw
    assert re.search(rb"\x1b\[[\d;]*38;5;\d+", raw) and b"38;2;" not in raw  # TERM=*-256color: 256 colours
    assert termios.tcgetattr(terminal.slave) == terminal.modes_before  # echo, line mode, flow control back
    modes = final_private_modes(raw)
    assert 1049 in modes  # it did use the alternate screen...
    left = {mode for mode, on in modes.items() if on != (mode in DEFAULT_ON)}
    assert not left, f"private modes left changed: {sorted(left)}"  # ...and left it, mouse and paste modes off
    assert len(re.findall(rb"\x1b\[>\d*u", raw)) == raw.count(b"\x1b[<u")  # every kitty keyboard mode pushed is popped
    assert not terminal.screen.cursor.hidden


@pytest.mark.timeout(60)
def test_a_hostile_paste_through_the_terminal_is_shown_not_obeyed(terminal: PtyTerminal,
                                                                 seeded: dict[str, Any]) -> None:
    """A bracketed paste (as a terminal sends it) of escape sequences and a bidi override into the list's search
    box: the text lands in order, each control drawn as a visible character; the screen is not cleared or
    recoloured, and the sequences never reach the terminal as they were pasted."""
    name = seeded["name"]
    terminal.wait_for("the board", lambda: name in terminal.text())
    terminal.press(b"2")
    terminal.wait_for("the list", lambda: terminal.shows("Contact", "Company", "Status"))
    terminal.press(b"/")
    terminal.pump(0.3)
    pasted = "P\x1b[31mred\u202ert\x1b[2J\x07end"
    assert terminal.raw is not None
    before = len(terminal.raw)
    terminal.press(b"\x1b[200~" + pasted.encode() + b"\x1b[201~")
    shown = "P␛[31mred�rt␛[2J␇end"
    terminal.wait_for("the pasted text, made visible", lambda: shown in terminal.text())
    # nothing was cleared: the title and the list's header are still there (the search may have found none)
    assert "leaddesk" in terminal.screen.display[0] and "Company" in terminal.screen.display[2], terminal.text()
    row = next(y for y, line in enumerate(terminal.screen.display) if shown in line)
    x = terminal.screen.display[row].index(shown)
    colours = {terminal.screen.buffer[row][x + i].fg for i in range(len(shown))}
    assert "red" not in colours, colours
    written = bytes(terminal.raw[before:])
    assert b"\x1b[31mred" not in written and b"\x1b[2Jend" not in written and b"\x07" not in written
