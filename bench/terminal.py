"""Bytes the desk writes to its terminal: what an SSH link carries, per action.

    .venv/bin/python bench/terminal.py DB [--runs 5] [--size 120x40] [--colors truecolor|256] [--json]

Runs the installed `leaddesk` script (the real entry point and Textual's real Linux driver) on a
pseudo-terminal of the given size and counts the bytes read from the master side: exactly what sshd reads
from the session's pty and sends (before SSH's optional compression). Keys are written to the master as a
terminal sends them. After each key the bench waits until the desk has been quiet for QUIET seconds and
counts everything written since the key. A run: start-up until quiet (every frame of the first screen up to
the filled board, and how many frames that took), cursor moves on the board, the switch to the list (a full
repaint of another screen), cursor moves and pages on the list, then IDLE seconds of nothing (a desk that
redraws when nothing changes costs bandwidth all day). The figures are medians over the keys of all runs;
every run is a fresh process. The bench answers Textual's one terminal query (synchronized output) as a
modern terminal does, so Textual wraps every frame in it, as it would for a user; the wraps also count frames.

--colors truecolor (default) sets COLORTERM=truecolor, the larger escape codes: OpenSSH forwards TERM but
not COLORTERM unless configured to, so a plain SSH session usually gets 256 colours and fewer bytes.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

QUIET = 0.4
"""Seconds without output after which an action is over."""
FIRST = 3.0
"""Seconds to wait for the first byte after a key: every key of a run changes the screen."""
IDLE = 3.0
"""Seconds of doing nothing measured at the end of a run."""
SYNC_QUERY, SYNC_SUPPORTED = b"\x1b[?2026$p", b"\x1b[?2026;2$y"
"""Textual asks whether the terminal has synchronized output (DECRQM 2026); kitty, WezTerm, iTerm2, foot,
Windows Terminal, recent VTE and xterm answer that they do."""
SYNC_START = b"\x1b[?2026h"
"""Textual begins every frame with this (synchronized output), so counting it counts frames."""
KEYS = {"down": b"\x1b[B", "pagedown": b"\x1b[6~", "list": b"2", "quit": b"q"}
TARGETS_KB = {"start-up": 64, "switch": 64, "cursor": 2, "page": 20}


def leaddesk_command() -> list[str]:
    """The installed console script next to this interpreter (as users run it)."""
    script = Path(sys.executable).with_name("leaddesk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "leaddesk"]


class Session:
    """The desk on a pseudo-terminal; counts what it writes."""

    def __init__(self, db: Path, size: tuple[int, int], env: dict[str, str], quiet: float = QUIET) -> None:
        self.quiet = quiet
        self.frames = 0  # synchronized-update blocks seen (Textual wraps each frame in one)
        self.kept: list[bytes] = []  # what was written, while `keep` is on
        self.keep = False
        self.master, slave = pty.openpty()
        width, height = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self.proc = subprocess.Popen(leaddesk_command(), stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.total = 0

    def read_until_quiet(self, quiet: float | None = None, limit: float = 30.0, first: float = FIRST) -> int:
        """Bytes written until `quiet` seconds pass without output (at most `limit` seconds), waiting up to
        `first` seconds for the first byte (a busy machine may take a while to start answering a key)."""
        quiet = self.quiet if quiet is None else quiet
        got, deadline = 0, time.monotonic() + limit
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], quiet if got else max(first, quiet))
            if not ready:
                break
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the desk exited (EIO on Linux)
                break
            if not chunk:
                break
            got += len(chunk)
            self.frames += chunk.count(SYNC_START)
            if self.keep:
                self.kept.append(chunk)
            if SYNC_QUERY in chunk:  # answer as modern terminals do: supported (then every frame is wrapped)
                os.write(self.master, SYNC_SUPPORTED)
        self.total += got
        return got

    def read_for(self, seconds: float) -> int:
        """Bytes written during the next `seconds`, however busy."""
        got, deadline = 0, time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    got += len(os.read(self.master, 65536))
                except OSError:
                    break
        self.total += got
        return got

    def press(self, key: str) -> int:
        os.write(self.master, KEYS[key])
        return self.read_until_quiet()

    def close(self) -> None:
        try:
            os.write(self.master, KEYS["quit"])
            self.read_until_quiet(limit=5)
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        finally:
            os.close(self.master)


def one_run(db: Path, size: tuple[int, int], env: dict[str, str], presses: int, *, quiet: float = QUIET,
            idle: float = IDLE, settle: float = 1.0) -> dict[str, Any]:
    """One fresh desk: the bytes of each action."""
    session = Session(db, size, env, quiet)
    try:
        session.keep = True
        startup = session.read_until_quiet(quiet=settle, limit=60)  # the first frame, then the filled board
        startup += session.read_until_quiet(limit=60, first=0)  # the views built in the background, if they draw
        session.keep = False
        frames = session.frames
        largest = max(len(frame) for frame in b"".join(session.kept).split(SYNC_START))
        board = [session.press("down") for _ in range(presses)]
        switch = session.press("list")
        cursor = [session.press("down") for _ in range(presses)]
        page = [session.press("pagedown") for _ in range(max(presses // 2, 1))]
        idle_bytes = session.read_for(idle)
    finally:
        session.close()
    return {"startup": startup, "startup_frames": frames, "largest_frame": largest, "board_cursor": board,
            "switch": switch, "list_cursor": cursor, "list_page": page, "idle_per_s": idle_bytes / idle,
            "exit_code": session.proc.returncode}


def environment(db: Path, colors: str, scratch: Path) -> dict[str, str]:
    """The desk's environment: the bench database and user, no settings file, a terminal's TERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "LEADDESK_", "COLORTERM"))}
    env.update(LEADDESK_DB=str(db), LEADDESK_USER="bench", LEADDESK_CONFIG=str(scratch / "missing.toml"),
               LEADDESK_CONFIG_DIR=str(scratch / "config"), LEADDESK_DATA_DIR=str(scratch / "data"),
               TERM="xterm-256color", LANG=env.get("LANG", "C.UTF-8") or "C.UTF-8")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if colors == "truecolor":
        env["COLORTERM"] = "truecolor"
    return env


def run(db: Path, runs: int = 5, *, size: str = "120x40", colors: str = "truecolor", quick: bool = False,
        ) -> list[dict[str, Any]]:
    """The bytes figures as table rows (value in KB, medians over every key of every run)."""
    width, height = (int(x) for x in size.split("x"))
    presses, quiet, idle, settle = (2, 0.25, 0.5, 0.5) if quick else (10, QUIET, IDLE, 1.0)
    with tempfile.TemporaryDirectory(prefix="leaddesk-tty-bench-") as scratch:
        env = environment(db, colors, Path(scratch))
        results = [one_run(db, (width, height), env, presses, quiet=quiet, idle=idle, settle=settle)
                   for _ in range(runs)]

    def kb(values: list[float]) -> float:
        return statistics.median(values) / 1024

    rows: list[dict[str, Any]] = []

    def row(figure: str, value: float, target: float | None, note: str = "") -> None:
        rows.append({"figure": f"{size} bytes: {figure}", "value": value, "unit": "KB",
                     "target": None if target is None else f"<= {target:g} KB",
                     "ok": None if target is None else value <= target, "note": note})

    frames = statistics.median(r["startup_frames"] for r in results)
    row("start-up to the filled board (all frames)", kb([r["startup"] for r in results]), TARGETS_KB["start-up"],
        f"{frames:g} frames")
    row("largest frame of the start-up", kb([r["largest_frame"] for r in results]), None, "info: one full screen")
    row("switch board -> list (full repaint)", kb([r["switch"] for r in results]), TARGETS_KB["switch"])
    row("cursor move on the board", kb([b for r in results for b in r["board_cursor"]]), TARGETS_KB["cursor"])
    row("cursor move on the list", kb([b for r in results for b in r["list_cursor"]]), TARGETS_KB["cursor"])
    row("page down on the list", kb([b for r in results for b in r["list_page"]]), TARGETS_KB["page"])
    row("idle, per second", kb([r["idle_per_s"] for r in results]), None, "info: nothing pressed")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="an existing desk database (bench/make_leads.py builds one)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--colors", choices=("truecolor", "256"), default="truecolor")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = run(args.db, args.runs, size=args.size, colors=args.colors)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        verdict = "" if r["ok"] is None else ("pass" if r["ok"] else "FAIL")
        print(f"{r['figure']:<58} {r['value']:>8.2f} KB  {r['target'] or '':<10} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
