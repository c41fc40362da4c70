"""`leaddesk web`: serve the desk to a browser with textual-serve (loopback unless told otherwise)."""

import os
import shlex
import sys
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import app, reader
from leaddesk.store.errors import LeadDeskError


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def same_site(origin: str, host: str, public_url: str | None) -> bool:
    """Whether a browser's `Origin` is the page this server handed out: the address it was reached at (`Host`)
    or the public URL it announces."""
    from urllib.parse import urlsplit

    netloc = urlsplit(origin).netloc.lower()
    return bool(netloc) and (netloc == host.lower()
                             or (public_url is not None and netloc == urlsplit(public_url).netloc.lower()))


def desk_server_class() -> Any:
    """textual-serve's Server, made safe for a desk (textual-serve is imported only here, when serving)."""
    import asyncio

    from aiohttp import web as aiohttp_web
    from textual_serve.server import Server

    class DeskServer(Server):
        """Refuses a WebSocket opened by a page of another site (browsers let any page connect to ws://127.0.0.1
        and textual-serve does not check, so a page you visit could drive your desk), and on Ctrl+C quits every
        page's desk at once instead of waiting for the browsers to leave."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.sessions: set[asyncio.Task[Any]] = set()

        async def handle_websocket(self, request: Any) -> Any:
            origin = request.headers.get("Origin")
            if origin is not None and not same_site(origin, request.host, self.public_url):
                raise aiohttp_web.HTTPForbidden(text="leaddesk: this page is not from this server")
            task = asyncio.current_task()
            assert task is not None
            self.sessions.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions.discard(task)

        async def on_shutdown(self, app: Any) -> None:
            for task in self.sessions:
                task.cancel()  # textual-serve then tells the page's desk to quit and waits for it
            await asyncio.gather(*self.sessions, return_exceptions=True)

    return DeskServer


@app.command("web")
def web(
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    public_url: Annotated[str | None, typer.Option(
        "--public-url", help="The address browsers use, when it is not http://HOST:PORT (a proxy, 0.0.0.0).")
    ] = None,
) -> None:
    """Serve the desk to a browser (textual-serve): each page opens its own desk on this database as this user.

    There is no login page: whoever can reach the address works as the acting user. On a machine shared with
    others, loopback is reachable by every account on it.
    """
    d = reader()  # a missing database or a refused user fails here, once, instead of in every browser page
    try:
        d.statuses()
        login = d.login
        command = [sys.executable, "-m", "leaddesk", "--user", login]
        if d.db.path is not None:
            command += ["--db", str(d.db.path.resolve())]
        else:
            # A server URL may hold a password: hand it down in the environment (which only this account can
            # read), not on the command line that `ps` shows to everyone.
            os.environ["LEADDESK_DB"] = d.db.target
    finally:
        d.close()
    try:
        server_class = desk_server_class()
    except ImportError:
        raise LeadDeskError("leaddesk web needs the textual-serve package: pip install textual-serve") from None
    if not is_loopback(host):
        output.note(f"warning: serving on {host}: anyone who can reach it gets the desk as '{login}', "
                    "with no password")
    server = server_class(shlex.join(command), host=host, port=port, title="leaddesk", public_url=public_url)
    try:
        server.serve()
    except OSError as exc:
        raise LeadDeskError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
