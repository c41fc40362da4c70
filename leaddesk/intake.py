"""`leaddesk intake`: a small HTTP endpoint that turns web-form posts into leads.

aiohttp's server speaks the HTTP (parsing, keep-alive, chunked bodies, the body
size limit, multipart forms); form-encoded and JSON bodies are read whole (at most
`max_body` bytes) and parsed with `urllib.parse.parse_qs` or `json`. Every lead goes
through `Desk.intake_lead`, so the same rules apply as to a lead typed by hand; the
store runs in one worker thread, never on the event loop. aiohttp is imported only
when a server is made: the quick CLI path never loads it.

    POST    /leads  form-encoded, multipart/form-data or JSON, token in `Authorization: Bearer T` or
                    `X-Leaddesk-Token: T` · 201 {"number": N} · 200 {"number": N, "existing": true} (posted
                    again by an open lead) · 400 {"errors": [...], "fields": {...}} · 401 · 408 · 413 · 415 · 429
    OPTIONS /leads  the CORS preflight of a browser page: 204 for an allowed origin, else 403
    GET     /health 200 {"status": "ok"}

Browsers: responses carry `Access-Control-Allow-Origin` only for the origins listed in
settings ([intake] allow_origins) or with --allow-origin; none by default.

One line per request goes to the log (stderr): time, client, method, path, status,
milliseconds; never a body or a token. There is no TLS here: keep the default
loopback address and put a TLS reverse proxy in front when the site posts from afar.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any

from leaddesk import clock
from leaddesk.store.errors import LeadDeskError, RuleError
from leaddesk.textsafe import safe_line, truncate

if TYPE_CHECKING:
    from aiohttp import web

MAX_BODY = 64 * 1024
"""Largest request body read (bytes); a larger announced body gets 413 before any of it is read."""
RATE_PER_MINUTE = 30
"""Requests per minute per client address (a token bucket with as many in reserve); 0 turns the limit off."""
MIN_TOKEN = 16
MAX_FIELDS = 100
BODY_TIMEOUT_S = 10.0
"""Seconds a client has to send its body once the headers are in (408 after that)."""
KEEPALIVE_S = 15.0
SHUTDOWN_S = 10.0
"""Seconds Ctrl+C waits for requests in flight."""
GRACE_S = 1.0
"""Seconds Ctrl+C gives bodies on their way to arrive; those still short then get 503 (try again)."""
LINGER_S = 2.0
"""Seconds spent reading away a body that was refused unread, so the client sees the answer, not a reset."""
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data"
SERVER = "leaddesk-intake"
CORS_HEADERS = "Authorization, Content-Type, X-Leaddesk-Token"
PREFLIGHT_MAX_AGE = 600


class RateLimiter:
    """A token bucket per client address: `per_minute` requests a minute, bursts of as many."""

    def __init__(self, per_minute: int, *, now: Callable[[], float] = time.monotonic, max_clients: int = 10_000):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.now = now
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        if self.capacity <= 0:
            return 0.0
        with self._lock:
            moment = self.now()
            tokens, last = self._buckets.get(client, (self.capacity, moment))
            tokens = min(self.capacity, tokens + (moment - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, moment)
                if len(self._buckets) > self.max_clients:
                    self._forget_idle(moment)
                return 0.0
            self._buckets[client] = (tokens, moment)
            return (1 - tokens) / self.rate

    def _forget_idle(self, moment: float) -> None:
        full = [c for c, (t, last) in self._buckets.items() if t + (moment - last) * self.rate >= self.capacity]
        for client in full:
            del self._buckets[client]


class BodyError(Exception):
    """A request body that cannot be read: the status and the reason to answer."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{field: text}: keys stripped (blank ones dropped), repeated fields joined with ", " (blank values left out)."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        if key.strip():
            values.setdefault(key.strip(), []).append(value)
    return {key: ", ".join(v for v in texts if v.strip()) for key, texts in values.items()}


def parse_body(content_type: str, charset: str | None, body: bytes) -> dict[str, str]:
    """A form-encoded or JSON body as {field: text}; repeated fields and JSON lists are joined with ", "."""
    from urllib.parse import parse_qsl

    if content_type == FORM:
        try:
            text = body.decode(charset or "utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                              max_num_fields=MAX_FIELDS)
        except LookupError:
            raise BodyError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unknown charset '{safe_line(charset)}'") from None
        except UnicodeDecodeError:
            raise BodyError(HTTPStatus.BAD_REQUEST, f"the body is not valid {charset or 'UTF-8'}") from None
        except ValueError as exc:
            raise BodyError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        return _joined(pairs)
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BodyError(HTTPStatus.BAD_REQUEST, "the body is not valid UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise BodyError(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BodyError(HTTPStatus.BAD_REQUEST, "the JSON body must be an object of fields")
    if len(data) > MAX_FIELDS:
        raise BodyError(HTTPStatus.BAD_REQUEST, f"too many fields ({len(data)}; the limit is {MAX_FIELDS})")
    record: dict[str, str] = {}
    for key, value in data.items():
        if not key.strip() or value is None:
            continue
        items = value if isinstance(value, list) else [value]
        texts = []
        for item in items:
            if isinstance(item, dict | list):
                raise BodyError(HTTPStatus.BAD_REQUEST, f"field '{safe_line(key)}' must be text, a number or a"
                                                        " list of them")
            if item is not None:
                texts.append(("true" if item else "false") if isinstance(item, bool) else str(item))
        record[key.strip()] = ", ".join(t for t in texts if t.strip())
    return record


async def read_multipart(request: web.Request, max_body: int) -> dict[str, str]:
    """A multipart/form-data body (parsed by aiohttp, at most `max_body` bytes and MAX_FIELDS fields) as
    {field: text}. A file field is refused unless it is empty (a form's file input left blank)."""
    from aiohttp import web
    from aiohttp.http_exceptions import BadHttpMessage
    from aiohttp.web_request import FileField

    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        if request.content.total_bytes > max_body:
            raise
        raise BodyError(HTTPStatus.BAD_REQUEST, f"too many fields (the limit is {MAX_FIELDS})") from None
    except LookupError:
        raise BodyError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "a part names an unknown charset") from None
    except UnicodeDecodeError:
        raise BodyError(HTTPStatus.BAD_REQUEST, "a part is not valid text in its charset") from None
    except ValueError as exc:
        raise BodyError(HTTPStatus.BAD_REQUEST, f"the multipart body is not valid: {safe_line(str(exc))}") from None
    except BadHttpMessage:  # a part's header aiohttp cannot parse (a control character in a field's name)
        raise BodyError(HTTPStatus.BAD_REQUEST, "the multipart body is not valid: a part's headers are not"
                                                " valid HTTP") from None
    pairs: list[tuple[str, str]] = []
    files = [value for value in form.values() if isinstance(value, FileField)]
    try:
        for key, value in form.items():
            if isinstance(value, FileField):
                if value.file.seek(0, 2):
                    raise BodyError(HTTPStatus.BAD_REQUEST, f"field '{safe_line(key)}' is a file"
                                                            f" ({safe_line(value.filename)}): send text fields only")
                continue
            if not isinstance(value, str):  # a part with a non-text content type: aiohttp leaves it as bytes
                try:
                    value = bytes(value).decode("utf-8")
                except UnicodeDecodeError:
                    raise BodyError(HTTPStatus.BAD_REQUEST, f"field '{safe_line(key)}' is not UTF-8 text") from None
            pairs.append((key, value))
    finally:
        for upload in files:
            upload.file.close()
    return _joined(pairs)


class IntakeServer:
    """The intake endpoint: a desk, a token, limits and a log, on a listening socket.

    Bound when made (so the port is known and a taken port fails at once); `serve_forever()` runs the aiohttp
    server on an event loop of its own in the calling thread until `shutdown()` (from another thread), Ctrl+C
    or SIGTERM (when serving in the main thread), then waits for the requests in flight; `server_close()`
    releases the socket. The same shape as the standard library's socketserver.
    """

    def __init__(self, address: tuple[str, int], desk: Any, token: str, *, rate: int = RATE_PER_MINUTE,
                 max_body: int = MAX_BODY, log: IO[str] | None = None, allow_origins: Iterable[str] = ()) -> None:
        host, port = address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=128)
        self.server_address = self.socket.getsockname()
        self.desk = desk
        self.token = token.strip().encode()
        self.limiter = RateLimiter(rate)
        self.max_body = max_body
        self.log = log
        self.allow_origins = frozenset(allow_origins)
        self._log_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._executor: Any = None
        self._reading: set[asyncio.Timeout] = set()  # the deadlines of the bodies being read
        self._grace: float | None = None  # when stopping: the loop time by which bodies must be in

    @property
    def port(self) -> int:
        """The port it listens on (useful after binding port 0)."""
        return int(self.server_address[1])

    def write_log(self, line: str) -> None:
        """One line to the log (stderr unless another stream was given)."""
        with self._log_lock:
            stream = self.log or sys.stderr
            stream.write(line + "\n")
            stream.flush()

    # -- running ---------------------------------------------------------------------------------
    on_ready: Callable[[], None] | None = None
    """Called once the server answers and Ctrl+C stops it gracefully (the CLI says "listening" then)."""

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until `shutdown()`, Ctrl+C or SIGTERM; return once the requests in flight are answered.
        (`poll_interval` is accepted for socketserver's signature; nothing polls.)"""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._done.set()

    def shutdown(self) -> None:
        """Stop `serve_forever()` (from another thread) and wait until it has finished."""
        self._stopping.set()
        loop, stop = self._loop, self._stop
        if loop is None or stop is None:
            return  # not serving (yet): serve_forever sees the flag and returns at once
        try:
            loop.call_soon_threadsafe(stop.set)
        except RuntimeError:  # the loop is already closed
            return
        self._done.wait()

    def server_close(self) -> None:
        """Release the listening socket."""
        self.socket.close()

    async def _serve(self) -> None:
        import logging
        import signal
        from concurrent.futures import ThreadPoolExecutor

        from aiohttp import web

        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._loop = loop
        if self._stopping.is_set():
            return
        # The store runs in one thread: the desk's connection is used by one request at a time (as the desk's
        # own lock would have it anyway), and a slow write (SQLite waiting for another writer) never holds up
        # the event loop, which goes on answering health checks and refusals.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="intake-desk")
        quiet = logging.getLogger("leaddesk.intake.aiohttp")
        quiet.propagate = False  # aiohttp's own complaints (a malformed request) are in the request's log line
        quiet.addHandler(logging.NullHandler())
        runner = web.AppRunner(self._app(), handle_signals=False, shutdown_timeout=SHUTDOWN_S,
                               access_log_class=_access_log_for(self), access_log=quiet, logger=quiet,
                               keepalive_timeout=KEEPALIVE_S, lingering_time=LINGER_S)
        handled: dict[int, Any] = {}

        def on_signal() -> None:  # the first Ctrl+C stops gracefully; a second one interrupts
            assert self._stop is not None
            self._stop.set()
            for signum, previous in handled.items():
                loop.remove_signal_handler(signum)
                signal.signal(signum, previous)
            handled.clear()

        try:
            await runner.setup()
            site = web.SockSite(runner, self.socket)
            await site.start()
            if threading.current_thread() is threading.main_thread():
                for signum in (signal.SIGINT, signal.SIGTERM):
                    handled[signum] = signal.getsignal(signum)
                    loop.add_signal_handler(signum, on_signal)
            if self.on_ready is not None:
                self.on_ready()
            await self._stop.wait()
            await site.stop()  # no new connections
            # Once the runner shuts down, aiohttp reads nothing more from a connection: first give the bodies
            # on their way a moment to arrive, and answer the rest (503) rather than wait for them in vain.
            self._grace = loop.time() + GRACE_S
            for deadline in self._reading:
                deadline.reschedule(min(deadline.when() or self._grace, self._grace))
            while self._reading and loop.time() < self._grace:
                await asyncio.sleep(0.02)
        finally:
            for number, previous in handled.items():
                loop.remove_signal_handler(number)
                signal.signal(number, previous)
            await runner.cleanup()  # stops listening, waits for requests in flight (up to SHUTDOWN_S)
            await loop.run_in_executor(None, self._executor.shutdown, True)

    # -- the web app -----------------------------------------------------------------------------
    def _app(self) -> web.Application:
        from aiohttp import web

        @web.middleware
        async def guard(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
            return await self._guard(request, handler)

        app = web.Application(client_max_size=self.max_body, client_max_fields=MAX_FIELDS, middlewares=[guard])
        for path in ("/leads", "/leads/"):
            app.router.add_post(path, self._post_lead)
            app.router.add_route("OPTIONS", path, self._preflight)
        for path in ("/health", "/health/"):
            app.router.add_get(path, self._health)  # and HEAD
        app.on_response_prepare.append(self._prepare)
        return app

    @staticmethod
    def _answer(status: HTTPStatus, payload: dict[str, Any] | None,
                headers: dict[str, str] | None = None) -> web.Response:
        from aiohttp import web

        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, body=json.dumps(payload, ensure_ascii=False).encode(),
                            content_type=JSON, charset="utf-8", headers=headers)

    def _refuse(self, status: HTTPStatus, reason: str, headers: dict[str, str] | None = None) -> web.Response:
        return self._answer(status, {"errors": [reason]}, headers)

    async def _prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every answer: our Server header (no versions), never cached, CORS for allowed origins."""
        response.headers["Server"] = SERVER
        response.headers.setdefault("Cache-Control", "no-store")
        if self.allow_origins:
            response.headers["Vary"] = "Origin"
            origin = request.headers.get("Origin")
            if origin in self.allow_origins:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Expose-Headers"] = "Retry-After"

    async def _guard(self, request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
        """aiohttp's own refusals (no such route, a wrong method, a malformed body) and any failure as JSON."""
        from aiohttp import web

        try:
            response: web.StreamResponse = await handler(request)
            return response
        except web.HTTPMethodNotAllowed as exc:
            allowed = sorted(exc.allowed_methods)
            return self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "use POST" if "POST" in allowed else "use GET",
                                {"Allow": ", ".join(allowed)})
        except web.HTTPNotFound:
            return self._refuse(HTTPStatus.NOT_FOUND, "not found")
        except web.HTTPException as exc:
            try:
                status = HTTPStatus(exc.status)
            except ValueError:
                status = HTTPStatus.BAD_REQUEST
            return self._refuse(status, status.phrase.lower())
        except Exception as exc:  # a bug: answered and logged (not its text: it may hold posted data)
            self.write_log(f"{clock.stamp()}Z error: {type(exc).__name__}")
            return self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    async def _health(self, request: web.Request) -> web.Response:
        return self._answer(HTTPStatus.OK, {"status": "ok"})

    async def _preflight(self, request: web.Request) -> web.Response:
        """A browser asks whether a page of `Origin` may post here (CORS): yes for the listed origins only."""
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser's preflight: say what the path takes
            return self._answer(HTTPStatus.NO_CONTENT, None, {"Allow": "OPTIONS, POST"})
        if origin not in self.allow_origins:
            return self._refuse(HTTPStatus.FORBIDDEN, f"pages of {truncate(safe_line(origin), 100)} may not post"
                                                      " here: list the origin in [intake] allow_origins or with"
                                                      " --allow-origin")
        return self._answer(HTTPStatus.NO_CONTENT, None, {
            "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": CORS_HEADERS,
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE)})

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("X-Leaddesk-Token")
        if given is None:
            scheme, _, credentials = (request.headers.get("Authorization") or "").strip().partition(" ")
            given = credentials.strip() if scheme.casefold() == "bearer" else ""
        try:  # aiohttp reads header bytes that are not UTF-8 as lone surrogates: give those bytes back
            sent = given.strip().encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate no byte stands for
            return False
        return hmac.compare_digest(sent, self.token)

    async def _post_lead(self, request: web.Request) -> web.Response:
        from aiohttp import web

        wait = self.limiter.allow(request.remote or "-")
        if wait:
            seconds = max(1, int(wait + 0.999))
            return self._refuse(HTTPStatus.TOO_MANY_REQUESTS, f"too many requests: try again in {seconds} s",
                                {"Retry-After": str(seconds)})
        if not self._authorised(request):
            return self._refuse(HTTPStatus.UNAUTHORIZED, "a valid token is needed (Authorization: Bearer TOKEN)",
                                {"WWW-Authenticate": 'Bearer realm="leaddesk"'})
        content_type = request.content_type
        if content_type not in (FORM, JSON, MULTIPART):
            return self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                                f"send {FORM}, {MULTIPART} or {JSON}, not {truncate(safe_line(content_type), 100)}")
        length = request.content_length
        if length is not None and length > self.max_body:  # refused before a byte of it is read
            return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                f"the body is too large ({length} bytes; the limit is {self.max_body})")
        try:
            async with asyncio.timeout(BODY_TIMEOUT_S) as deadline:
                if self._grace is not None:  # stopping
                    deadline.reschedule(self._grace)
                self._reading.add(deadline)
                try:
                    if content_type == MULTIPART:
                        record = await read_multipart(request, self.max_body)
                    else:
                        record = parse_body(content_type, request.charset, await request.read())
                finally:
                    self._reading.discard(deadline)
        except TimeoutError:
            if self._grace is not None:
                return self._refuse(HTTPStatus.SERVICE_UNAVAILABLE, "the endpoint is stopping: try again shortly",
                                    {"Retry-After": "5"})
            return self._refuse(HTTPStatus.REQUEST_TIMEOUT, f"the body did not arrive within {BODY_TIMEOUT_S:g} s")
        except web.HTTPRequestEntityTooLarge:  # a chunked body that outgrew the limit
            return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                f"the body is too large (the limit is {self.max_body} bytes)")
        except BodyError as exc:
            return self._refuse(exc.status, exc.reason)
        return await self._create(record)

    async def _create(self, record: dict[str, str]) -> web.Response:
        from leaddesk.store.capture import FormRejected

        try:
            lead = await asyncio.get_running_loop().run_in_executor(self._executor, self.desk.intake_lead, record)
        except FormRejected as exc:
            return self._answer(HTTPStatus.BAD_REQUEST, {"errors": exc.errors, "fields": exc.fields})
        except LeadDeskError as exc:
            return self._answer(HTTPStatus.BAD_REQUEST, {"errors": [str(exc)]})
        except Exception as exc:  # a database that stays locked, a bug: answered, logged, the server goes on
            busy = "locked" in str(exc) or "busy" in str(exc)
            self.write_log(f"{clock.stamp()}Z error: {type(exc).__name__}")
            status = HTTPStatus.SERVICE_UNAVAILABLE if busy else HTTPStatus.INTERNAL_SERVER_ERROR
            return self._refuse(status, "the desk is busy, try again" if busy else "internal error",
                                {"Retry-After": "5"} if busy else None)
        if lead.get("intake") == "added":  # the sender's open lead: the post went on its timeline
            return self._answer(HTTPStatus.OK, {"number": lead["number"], "existing": True})
        return self._answer(HTTPStatus.CREATED, {"number": lead["number"]})


def _access_log_for(server: IntakeServer) -> type:
    """aiohttp's access log, as one line per request in the server's log: when, who, what, the status, how
    long. No body, no query string, no token."""
    from aiohttp.abc import AbstractAccessLogger

    class AccessLog(AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            method = safe_line(request.method or "-")
            path = truncate(safe_line((request.raw_path or "-").split("?")[0]), 200)
            server.write_log(f"{clock.stamp()}Z {request.remote or '-'} {method} {path} {response.status}"
                             f" {time * 1000:.0f}ms")

    return AccessLog


def make_server(desk: Any, host: str = "127.0.0.1", port: int = 8080, token: str | None = None, *,
                rate: int = RATE_PER_MINUTE, max_body: int = MAX_BODY, log: IO[str] | None = None,
                allow_origins: Iterable[str] = ()) -> IntakeServer:
    """An intake server bound to host:port (0 picks a free port), not yet serving: call `serve_forever()`.

    `desk` is a Desk or a function returning one (called once). Refused without a token of at
    least MIN_TOKEN characters, and when the desk's acting user may not act (unknown, deactivated).
    `allow_origins` are browser origins (normalised by `settings.web_origin`) whose pages may post (CORS).
    """
    if not token or not token.strip():
        raise RuleError("intake needs a token: --token T or LEADDESK_INTAKE_TOKEN (e.g. from"
                        " `python -c 'import secrets; print(secrets.token_urlsafe())'`)")
    if len(token) < MIN_TOKEN:
        raise RuleError(f"the intake token is too short ({len(token)} characters; use at least {MIN_TOKEN})")
    if rate < 0 or max_body < 1:
        raise RuleError("the rate limit must be 0 or more and the body limit at least 1 byte")
    from leaddesk.settings import web_origin
    from leaddesk.store.desk import Desk

    try:
        origins = tuple(web_origin(origin) for origin in allow_origins)
    except ValueError as exc:
        raise RuleError(f"--allow-origin: {exc}") from None
    the_desk = desk if isinstance(desk, Desk) or not callable(desk) else desk()
    if isinstance(the_desk, Desk):
        the_desk.whoami()  # refused before listening, not on every post
    try:
        return IntakeServer((host, port), the_desk, token, rate=rate, max_body=max_body, log=log,
                            allow_origins=origins)
    except OSError as exc:
        raise LeadDeskError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(server: IntakeServer, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until Ctrl+C, SIGTERM (when in the main thread) or `server.shutdown()`, waiting for requests in
    flight; then release the socket. `on_ready` is called once it answers (aiohttp's import and set-up take a
    moment after the port is bound)."""
    server.on_ready = on_ready
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # a second Ctrl+C while stopping, or one before the server was up
        pass
    finally:
        server.server_close()
