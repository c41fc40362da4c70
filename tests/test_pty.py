"""The real desk in a pseudo-terminal at 80x24 with TERM=xterm-256color, as a rep gets it over SSH: the board
appears, keys work, and quitting exits 0 and gives the terminal back as it was (tty modes and escape modes)."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pyte_required import require_pyte
from seeding import one_lead_desk

pyte = require_pyte()

COLS, ROWS = 80, 24
# Private modes at their terminal defaults after the app left: autowrap (7) and cursor (25) on, the rest off.
DEFAULT_ON = {7, 25}


@pytest.fixture
def seeded(tmp_path: Path) -> dict[str, Any]:
    """A desk with one lead of ann's (LEADDESK_USER is ann in every test)."""
    path = tmp_path / "desk.db"
    return one_lead_desk(path)


class Terminal:
    """A pseudo-terminal running one process, its output emulated by pyte."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.modes_before = termios.tcgetattr(self.slave)
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                                     start_new_session=True)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def pump(self, seconds: float, until: Callable[[], bool] = lambda: False) -> bool:
        """Read output for up to `seconds`, or until `until()` holds."""
        deadline = time.monotonic() + seconds
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                data = os.read(self.master, 65536)
                self.raw.extend(data)
                self.stream.feed(data)
            if until():
                return True
            if time.monotonic() > deadline:
                return False

    def wait_for(self, what: str, check: Callable[[str], bool], seconds: float = 15) -> None:
        if not self.pump(seconds, lambda: check(self.text())):
            pytest.fail(f"the terminal never showed {what}; it shows:\n{self.text()}")
        self.pump(0.3)  # let the frame finish

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal(seeded: dict[str, Any]) -> Iterator[Terminal]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "TEXTUAL_DRIVER", "TEXTUAL_COLOR_SYSTEM", "COLORTERM", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    term = Terminal([sys.executable, "-m", "leaddesk", "--db", str(seeded["path"])], env)
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
def test_desk_in_a_pty_at_80x24(terminal: Terminal, seeded: dict[str, Any]) -> None:
    name, status, empty = seeded["name"], seeded["status"], seeded["empty"]

    def lines_with(*texts: str) -> Callable[[str], bool]:
        return lambda screen: any(all(t in line for t in texts) for line in screen.splitlines())

    terminal.wait_for("the board", lambda screen: all(t in screen for t in (name, status, empty)))
    assert not lines_with(name, status)(terminal.text())  # a card under its column, not a list row
    top, bottom = terminal.screen.display[0], terminal.screen.display[ROWS - 1]
    assert "leaddesk" in top and bottom.strip(), terminal.text()  # title on row 1, footer on row 24: sized 80x24
    terminal.press(b"2")
    terminal.wait_for("the list", lines_with(name, status))
    assert empty not in terminal.text()

    terminal.press(b"\x11")  # ctrl+q quits; it only arrives if the app turned off the tty's XON/XOFF flow control
    try:
        code = terminal.proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the desk did not quit; it shows:\n{terminal.text()}")
    terminal.pump(0.2)
    assert code == 0
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
def test_a_hostile_paste_through_the_terminal_is_shown_not_obeyed(terminal: Terminal, seeded: dict[str, Any]) -> None:
    """A bracketed paste (as a terminal sends it) of escape sequences and a bidi override into the list's search
    box: the text lands in order, each control drawn as a visible character; the screen is not cleared or
    recoloured, and the sequences never reach the terminal as they were pasted."""
    name = seeded["name"]
    terminal.wait_for("the board", lambda screen: name in screen)
    terminal.press(b"2")
    terminal.wait_for("the list", lambda screen: any(all(t in line for t in ("Contact", "Company", "Status"))
                                                     for line in screen.splitlines()))
    terminal.press(b"/")
    terminal.pump(0.3)
    pasted = "P\x1b[31mred\u202ert\x1b[2J\x07end"
    before = len(terminal.raw)
    terminal.press(b"\x1b[200~" + pasted.encode() + b"\x1b[201~")
    shown = "P␛[31mred�rt␛[2J␇end"
    terminal.wait_for("the pasted text, made visible", lambda screen: shown in screen)
    # nothing was cleared: the title and the list's header are still there (the search may have found none)
    assert "leaddesk" in terminal.screen.display[0] and "Company" in terminal.screen.display[2], terminal.text()
    row = next(y for y, line in enumerate(terminal.screen.display) if shown in line)
    x = terminal.screen.display[row].index(shown)
    colours = {terminal.screen.buffer[row][x + i].fg for i in range(len(shown))}
    assert "red" not in colours, colours
    written = bytes(terminal.raw[before:])
    assert b"\x1b[31mred" not in written and b"\x1b[2Jend" not in written and b"\x07" not in written
