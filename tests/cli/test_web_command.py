"""`leaddesk web` without a browser: what it hands textual-serve, its refusals, and the desk over textual-serve's
pipes (tests/test_web.py opens it in Chromium)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from typing import Any

import pytest
from clisupport import Cli

WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve puts in TEXTUAL_DRIVER


class FakeServer:
    """Stands in for textual_serve.server.Server: records what it was given instead of listening."""

    made: list[FakeServer] = []
    fail: OSError | None = None

    def __init__(self, command: str, host: str, port: int, title: str, public_url: str | None) -> None:
        self.command, self.host, self.port, self.title, self.public_url = command, host, port, title, public_url
        self.served = False
        FakeServer.made.append(self)

    def serve(self) -> None:
        if FakeServer.fail is not None:
            raise FakeServer.fail
        self.served = True


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> type[FakeServer]:
    import textual_serve.server

    FakeServer.made, FakeServer.fail = [], None
    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    return FakeServer


def test_web_serves_this_desk_as_this_user_on_loopback(cli: Cli, fake_server: type[FakeServer]) -> None:
    result = cli.ok("web")
    [server] = fake_server.made
    assert server.served
    assert (server.host, server.port, server.public_url) == ("127.0.0.1", 8000, None)
    assert shlex.split(server.command) == [sys.executable, "-m", "leaddesk", "--user", "ann",
                                           "--db", str(cli.db.resolve())]
    assert result.out == ""


def test_web_takes_the_acting_user_and_quotes_the_path(cli: Cli, fake_server: type[FakeServer],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    odd = cli.db.with_name("a desk; $(touch x) 'q'.db")
    for command in (["init"], ["user", "add", "o'neil", "--role", "manager"]):
        assert cli.raw("--db", str(odd), *command).code == 0
    monkeypatch.chdir(odd.parent)
    result = cli.raw("--user", "o'neil", "--db", odd.name, "web", "--port", "8123")
    assert result.code == 0, str(result)
    [server] = fake_server.made
    assert server.port == 8123
    assert shlex.split(server.command)[3:] == ["--user", "o'neil", "--db", str(odd)]  # absolute, one word


def test_web_hands_a_server_url_down_in_the_environment(cli: Cli, fake_server: type[FakeServer],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL URL may hold a password: not on the served command line (`ps` shows it to every account)."""
    import leaddesk.cli.web

    url = "postgresql+psycopg://ann:s3cret@db.example/sales"

    class FakeDesk:
        login = "ann"
        db = type("FakeDb", (), {"path": None, "target": url})()

        def statuses(self) -> list[Any]:
            return []

        def close(self) -> None:
            pass

    monkeypatch.setenv("LEADDESK_DB", "restored after the test")
    monkeypatch.setattr(leaddesk.cli.web, "reader", FakeDesk)
    cli.ok("web")
    [server] = fake_server.made
    assert "s3cret" not in server.command and "--db" not in shlex.split(server.command)
    assert os.environ["LEADDESK_DB"] == url  # what each page's desk inherits


def test_web_on_another_address_warns_once(cli: Cli, fake_server: type[FakeServer]) -> None:
    result = cli("web", "--host", "0.0.0.0", "--public-url", "http://desk.example:8000")
    assert result.code == 0, str(result)
    [server] = fake_server.made
    assert (server.host, server.public_url) == ("0.0.0.0", "http://desk.example:8000")
    [warning] = result.err.splitlines()
    assert "0.0.0.0" in warning and "'ann'" in warning


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "::1"])
def test_web_on_loopback_does_not_warn(cli: Cli, fake_server: type[FakeServer], host: str) -> None:
    cli.ok("web", "--host", host)
    assert fake_server.made[0].host == host


def test_web_refuses_a_missing_desk_before_serving(cli: Cli, fake_server: type[FakeServer]) -> None:
    line = cli.refused("--db", str(cli.db.with_name("none.db")), "web")  # the later --db wins
    assert "none.db" in str(line)
    assert not fake_server.made
    assert not cli.db.with_name("none.db").exists()


def test_web_refuses_an_unknown_user_before_serving(cli: Cli, fake_server: type[FakeServer]) -> None:
    result = cli("--user", "mallory", "web")
    assert result.code != 0 and "mallory" in result.err, str(result)
    assert not fake_server.made


def test_web_port_in_use_is_one_line(cli: Cli, fake_server: type[FakeServer]) -> None:
    fake_server.fail = OSError(98, "Address already in use")
    result = cli.refused("web", "--port", "8001")
    assert "127.0.0.1:8001: Address already in use" in result.err


@pytest.mark.parametrize(("origin", "host", "public_url", "same"), [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", None, True),
    ("http://LOCALHOST:8000", "localhost:8000", None, True),
    ("https://desk.example", "127.0.0.1:8000", "https://desk.example", True),
    ("http://127.0.0.1:8001", "127.0.0.1:8000", None, False),
    ("http://evil.example", "127.0.0.1:8000", "https://desk.example", False),
    ("null", "127.0.0.1:8000", None, False),
    ("", "", None, False),
])
def test_same_site(origin: str, host: str, public_url: str | None, same: bool) -> None:
    from leaddesk.cli.web import same_site

    assert same_site(origin, host, public_url) is same


def _packet(kind: bytes, payload: bytes) -> bytes:
    return kind + len(payload).to_bytes(4, "big") + payload


def test_the_desk_opens_over_textual_serve_pipes(cli: Cli, fake_server: type[FakeServer]) -> None:
    """The command `leaddesk web` serves, run as textual-serve runs it (a shell, pipes, the web driver), opens
    the full desk (not the plain list a pipe gets), draws the lead, and quits cleanly when the page goes."""
    cli.ok("add", "--name", "Zelda Quarry")
    cli.ok("web")
    command = fake_server.made[0].command
    env = {**os.environ, "TEXTUAL_DRIVER": WEB_DRIVER, "COLUMNS": "100", "ROWS": "30"}
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == b"__GANGLION__\n"  # the web driver's hello
        screen = b""
        packets: list[Any] = []
        while b"Zelda Quarry" not in screen and len(packets) < 200:
            kind = proc.stdout.read(1)
            assert kind, proc.stderr.read() if proc.stderr else ""
            payload = proc.stdout.read(int.from_bytes(proc.stdout.read(4), "big"))
            packets.append(kind)
            if kind == b"D":
                screen += payload
        assert b"Zelda Quarry" in screen
        proc.stdin.write(_packet(b"M", json.dumps({"type": "quit"}).encode()))
        proc.stdin.flush()
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
