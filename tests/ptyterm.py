"""A real program in a pseudo-terminal, its output read as it comes and emulated by pyte (tests/test_pty.py,
tests/test_soak.py): what a rep's terminal would show."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable

import pytest
from pyte_required import require_pyte

pyte = require_pyte()

COLS, ROWS = 80, 24
HIDDEN_VARIABLES = ("COLUMNS", "LINES", "TEXTUAL_DRIVER", "TEXTUAL_COLOR_SYSTEM", "COLORTERM", "NO_COLOR")


def terminal_env() -> dict[str, str]:
    """This process's environment as an xterm-256color terminal gives it: none of the test runner's size, driver
    or colour overrides."""
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_VARIABLES}
    env["TERM"] = "xterm-256color"
    return env


class PtyTerminal:
    """One process on a COLS x ROWS pseudo-terminal. `wait` is how long `wait_for` waits by default, `settle`
    how long it reads on once the check holds (the rest of the frame), `pace` how long `press` reads after the
    keys by default; `keep_output` keeps every byte written (`raw`), for tests of the escape sequences."""

    def __init__(self, argv: list[str], env: dict[str, str], *, wait: float = 15.0, settle: float = 0.0,
                 pace: float = 0.0, keep_output: bool = False) -> None:
        self.wait, self.settle, self.pace = wait, settle, pace
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.modes_before = termios.tcgetattr(self.slave)
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw: bytearray | None = bytearray() if keep_output else None
        self.tail = b""  # the end of the output so far, to find a traceback split across two reads
        self.traceback = False
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                                     start_new_session=True, close_fds=True)

    def text(self) -> str:
        """The screen, a line per row, trailing blanks trimmed."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    def line(self, row: int) -> str:
        return str(self.screen.display[row])

    def shows(self, *texts: str) -> bool:
        """Some line of the screen holds every one of `texts`."""
        return any(all(t in line for t in texts) for line in self.screen.display)

    def pump(self, seconds: float, until: Callable[[], bool] = lambda: False) -> bool:
        """Read output for up to `seconds`, or until `until()` holds."""
        deadline = time.monotonic() + seconds
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: nothing has the terminal open any more
                    data = b""
                if data:
                    self.traceback = self.traceback or b"Traceback" in self.tail + data
                    self.tail = data[-16:]
                    if self.raw is not None:
                        self.raw.extend(data)
                    self.stream.feed(data)
            if until():
                return True
            if time.monotonic() > deadline:
                return False

    def wait_for(self, what: str, check: Callable[[], bool], seconds: float | None = None) -> None:
        """Read until `check()` holds (then `settle` seconds more); fail, with the screen, if it never does."""
        if self.proc.poll() is not None:
            pytest.fail(f"the program exited ({self.proc.returncode}) before it showed {what}; it shows:\n"
                        f"{self.text()}")
        if not self.pump(self.wait if seconds is None else seconds, check):
            pytest.fail(f"the terminal never showed {what}; it shows:\n{self.text()}")
        if self.settle:
            self.pump(self.settle)

    def press(self, keys: bytes, settle: float | None = None) -> None:
        """Type `keys`, then read for `settle` seconds (`pace` by default)."""
        os.write(self.master, keys)
        self.pump(self.pace if settle is None else settle)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        os.close(self.master)
        os.close(self.slave)
