"""`leaddesk web` served to headless Chromium: the browser shows the board of the chosen desk, and keys reach it.

Needs the playwright package and Debian's chromium (/usr/bin/chromium; playwright's own browsers are never
downloaded). Without them the browser test is skipped, except under CI (env CI set), where it fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from seeding import one_lead_desk

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 15_000
# xterm.js draws the terminal on a canvas (WebGL or 2D addon); with no canvas context it falls back to its DOM
# renderer, whose `.xterm-rows` hold the screen as text the test can read.
NO_CANVAS = "HTMLCanvasElement.prototype.getContext = function () { return null; };"
SCREEN_TEXT = "() => { const rows = document.querySelector('.xterm-rows'); return rows ? rows.innerText : ''; }"


def _cannot(reason: str) -> None:
    """Skip for `reason`; under CI (env CI set) fail instead."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI must run the web tests: {reason}")
    pytest.skip(reason)


@pytest.fixture
def browser_ready() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _cannot("the playwright package is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        _cannot(f"{CHROMIUM} is missing (apt-get install chromium)")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A desk in a folder whose name needs shell quoting, with one lead of ann's."""
    path = tmp_path_factory.mktemp("web") / "team desk" / "desk.db"
    return one_lead_desk(path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(seeded: dict[str, Any]) -> Iterator[str]:
    """`leaddesk web` on a free loopback port, as ann; killed with all its sessions after the module."""
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        _cannot("the textual-serve package is not installed")
    home = seeded["path"].parent.parent
    env = {**os.environ, "LEADDESK_USER": "ann", "LEADDESK_DATA_DIR": str(home / "data"),
           "LEADDESK_CONFIG": str(home / "config.toml")}
    env.pop("LEADDESK_DB", None)
    port = _free_port()
    log = home / "web.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "leaddesk", "--db", str(seeded["path"]), "web",
                                   "--port", str(port)], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                  env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            if server.poll() is not None:
                pytest.fail(f"leaddesk web exited with {server.returncode}: {log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"leaddesk web did not listen on port {port}: {log.read_text(errors='replace')}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        # The server and the desks it runs for each page share its process group.
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
            try:
                server.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # sessions still closing after the server left


@pytest.mark.timeout(90)
def test_browser_shows_the_board_and_takes_keys(browser_ready: None, served: str, seeded: dict[str, Any],
                                                 tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shot = tmp_path / "web.png"
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1000, "height": 600})
        try:
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            page.add_init_script(NO_CANVAS)
            page.route("**/fonts.googleapis.com/**", lambda route: route.abort())  # offline: no web font
            page.goto(served)

            def screen_shows(*texts: str) -> None:
                try:
                    page.wait_for_function(f"texts => {{ const t = ({SCREEN_TEXT})(); "
                                           "return texts.every(x => t.includes(x)); }", arg=list(texts))
                except Exception:
                    page.screenshot(path=str(shot))
                    text = "\n".join(line.rstrip() for line in page.evaluate(SCREEN_TEXT).splitlines()).strip()
                    pytest.fail(f"the page never showed {texts} (screenshot {shot}):\n{text}")

            screen_shows(seeded["name"], seeded["status"], seeded["empty"])  # the board: a card, two columns
            page.screenshot(path=str(shot))
            board = page.evaluate(SCREEN_TEXT).splitlines()
            assert not any(seeded["name"] in line and seeded["status"] in line for line in board)

            page.locator(".xterm-helper-textarea").focus()
            page.keyboard.press("2")  # the lead list: the lead and its status on one row
            page.wait_for_function(f"([name, status]) => ({SCREEN_TEXT})().split('\\n')"
                                   ".some(line => line.includes(name) && line.includes(status))",
                                   arg=[seeded["name"], seeded["status"]])
            assert seeded["empty"] not in page.evaluate(SCREEN_TEXT)
        finally:
            context.close()


def _websocket_status(url: str, origin: str) -> str:
    """The status line the server answers a WebSocket handshake with, sent as a page from `origin` would."""
    host = url.split("/")[2]
    name, port = host.rsplit(":", 1)
    with socket.create_connection((name, int(port)), timeout=10) as sock:
        sock.sendall((f"GET /ws?width=80&height=24 HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
        return sock.makefile("rb").readline().decode().strip()


@pytest.mark.timeout(60)
def test_a_page_from_another_site_cannot_open_the_desk(served: str) -> None:
    """Browsers let any page open ws://127.0.0.1:PORT; the server refuses those of other sites."""
    for origin in ("http://evil.example", "null", served.rstrip("/") + ".evil.example"):
        assert _websocket_status(served, origin).split()[1] == "403", origin
    assert _websocket_status(served, served.rstrip("/")).split()[1] == "101"  # the page it served itself
