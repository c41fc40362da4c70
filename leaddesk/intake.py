"""`leaddesk intake`: a small HTTP endpoint that turns web-form posts into leads.

The standard library's `http.server.ThreadingHTTPServer` parses the HTTP (request
line, headers); bodies are read from `Content-Length` only (capped before reading)
and parsed with `urllib.parse.parse_qs` or `json`. Every lead goes through
`Desk.intake_lead`, so the same rules apply as to a lead typed by hand.

    POST /leads    form-encoded or JSON, token in `Authorization: Bearer T` or `X-Leaddesk-Token: T`
                   201 {"number": N} · 200 {"number": N, "existing": true} (posted again by an open lead)
                   · 400 {"errors": [...], "fields": {...}} · 401 · 411 · 413 · 415 · 429
    GET  /health   200 {"status": "ok"}

One line per request goes to the log (stderr): time, client, method, path, status,
milliseconds; never a body or a token. There is no TLS here: keep the default
loopback address and put a TLS reverse proxy in front when the site posts from afar.
"""

from __future__ import annotations

import hmac
import json
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from leaddesk import clock
from leaddesk.store.errors import LeadDeskError, RuleError
from leaddesk.textsafe import safe_line, truncate

MAX_BODY = 64 * 1024
"""Largest request body read (bytes); larger posts get 413 before any of it is read."""
RATE_PER_MINUTE = 30
"""Requests per minute per client address (a token bucket with as many in reserve); 0 turns the limit off."""
MIN_TOKEN = 16
MAX_FIELDS = 100
SOCKET_TIMEOUT_S = 10.0
DRAIN_LIMIT = 1024 * 1024
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


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


def parse_body(content_type: str, charset: str | None, body: bytes) -> dict[str, str]:
    """A form-encoded or JSON body as {field: text}; repeated fields and JSON lists are joined with ", "."""
    from urllib.parse import parse_qs

    if content_type == FORM:
        try:
            text = body.decode(charset or "utf-8")
            pairs = parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                             max_num_fields=MAX_FIELDS)
        except LookupError:
            raise BodyError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unknown charset '{charset}'") from None
        except UnicodeDecodeError:
            raise BodyError(HTTPStatus.BAD_REQUEST, f"the body is not valid {charset or 'UTF-8'}") from None
        except ValueError as exc:
            raise BodyError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        return {key.strip(): ", ".join(v for v in values if v.strip()) for key, values in pairs.items()
                if key.strip()}
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


class IntakeServer(ThreadingHTTPServer):
    """The intake endpoint: a desk, a token, limits and a log."""

    daemon_threads = False
    request_queue_size = 128  # the default 5 drops bursts of connections (the client retries a second later)
    block_on_close = True  # Ctrl+C waits for requests in flight (each bounded by the socket timeout)

    def __init__(self, address: tuple[str, int], desk: Any, token: str, *, rate: int = RATE_PER_MINUTE,
                 max_body: int = MAX_BODY, log: IO[str] | None = None) -> None:
        super().__init__(address, IntakeHandler)
        self.desk = desk
        self.token = token.strip().encode()
        self.limiter = RateLimiter(rate)
        self.max_body = max_body
        self.log = log
        self._log_lock = threading.Lock()

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


def make_server(desk: Any, host: str = "127.0.0.1", port: int = 8080, token: str | None = None, *,
                rate: int = RATE_PER_MINUTE, max_body: int = MAX_BODY, log: IO[str] | None = None) -> IntakeServer:
    """An intake server bound to host:port (0 picks a free port), not yet serving: call `serve_forever()`.

    `desk` is a Desk or a function returning one (called once). Refused without a token of at
    least MIN_TOKEN characters, and when the desk's acting user may not act (unknown, deactivated).
    """
    if not token or not token.strip():
        raise RuleError("intake needs a token: --token T or LEADDESK_INTAKE_TOKEN (e.g. from"
                        " `python -c 'import secrets; print(secrets.token_urlsafe())'`)")
    if len(token) < MIN_TOKEN:
        raise RuleError(f"the intake token is too short ({len(token)} characters; use at least {MIN_TOKEN})")
    if rate < 0 or max_body < 1:
        raise RuleError("the rate limit must be 0 or more and the body limit at least 1 byte")
    from leaddesk.store.desk import Desk

    the_desk = desk if isinstance(desk, Desk) or not callable(desk) else desk()
    if isinstance(the_desk, Desk):
        the_desk.whoami()  # refused before listening, not on every post
    try:
        return IntakeServer((host, port), the_desk, token, rate=rate, max_body=max_body, log=log)
    except OSError as exc:
        raise LeadDeskError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class IntakeHandler(BaseHTTPRequestHandler):
    """One request; HTTP/1.0, so one request per connection."""

    server: IntakeServer
    server_version = "leaddesk-intake"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_S

    def version_string(self) -> str:
        """The Server header: no Python version."""
        return self.server_version

    def setup(self) -> None:
        self._started = time.monotonic()
        super().setup()

    # -- answering -------------------------------------------------------------------------------
    def _answer(self, status: HTTPStatus, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _refuse(self, status: HTTPStatus, reason: str, headers: dict[str, str] | None = None) -> None:
        self._discard_body()
        self._answer(status, {"errors": [reason]}, headers)

    def _discard_body(self) -> None:
        """Read an unread body away (bounded) so that closing the connection does not reset it under the answer."""
        if getattr(self, "_body_read", False):
            return
        self._body_read = True
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return
        if 0 < length <= DRAIN_LIMIT:
            try:
                while length > 0:
                    chunk = self.rfile.read(min(length, 65536))
                    if not chunk:
                        break
                    length -= len(chunk)
            except OSError:
                pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The library's own refusals (bad request line, unknown method) as JSON too."""
        try:
            status = HTTPStatus(code)
        except ValueError:
            status = HTTPStatus.BAD_REQUEST
        self.close_connection = True
        if getattr(self, "command", None) is None or getattr(self, "headers", None) is None:
            body = json.dumps({"errors": [status.phrase.lower()]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self._refuse(status, status.phrase.lower())

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request: when, who, what, the status, how long. No body, no token."""
        status = code.value if isinstance(code, HTTPStatus) else code
        method = safe_line(getattr(self, "command", None) or "-")
        path = truncate(safe_line((getattr(self, "path", None) or "-").split("?")[0]), 200)
        millis = (time.monotonic() - getattr(self, "_started", time.monotonic())) * 1000
        self.server.write_log(f"{clock.stamp()}Z {self.client_address[0]} {method} {path} {status} {millis:.0f}ms")

    def log_error(self, format: str, *args: Any) -> None:
        """Errors are already in the request's log line."""

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing else is logged (the library would log request lines with their query strings)."""

    # -- routes ----------------------------------------------------------------------------------
    def _route(self) -> str:
        return self.path.split("?")[0].rstrip("/") or "/"

    def do_GET(self) -> None:
        route = self._route()
        if route == "/health":
            self._answer(HTTPStatus.OK, {"status": "ok"})
        elif route == "/leads":
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "use POST", {"Allow": "POST"})
        else:
            self._refuse(HTTPStatus.NOT_FOUND, "not found")

    def do_HEAD(self) -> None:
        self.do_GET()

    def _not_allowed(self) -> None:
        route = self._route()
        if route == "/leads":
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "use POST", {"Allow": "POST"})
        elif route == "/health":
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "use GET", {"Allow": "GET, HEAD"})
        else:
            self._refuse(HTTPStatus.NOT_FOUND, "not found")

    do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _not_allowed

    def _authorised(self) -> bool:
        given = self.headers.get("X-Leaddesk-Token")
        if given is None:
            scheme, _, credentials = (self.headers.get("Authorization") or "").strip().partition(" ")
            given = credentials.strip() if scheme.casefold() == "bearer" else ""
        return hmac.compare_digest(given.strip().encode(), self.server.token)

    def do_POST(self) -> None:
        if self._route() != "/leads":
            self._not_allowed()
            return
        wait = self.server.limiter.allow(self.client_address[0])
        if wait:
            seconds = max(1, int(wait + 0.999))
            self._refuse(HTTPStatus.TOO_MANY_REQUESTS, f"too many requests: try again in {seconds} s",
                         {"Retry-After": str(seconds)})
            return
        if not self._authorised():
            self._refuse(HTTPStatus.UNAUTHORIZED, "a valid token is needed (Authorization: Bearer TOKEN)",
                         {"WWW-Authenticate": 'Bearer realm="leaddesk"'})
            return
        content_type = self.headers.get_content_type()
        if content_type not in (FORM, JSON):
            self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"send {FORM} or {JSON}, not {content_type}")
            return
        if self.headers.get("Transfer-Encoding"):
            self._refuse(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length (no chunked encoding)")
            return
        raw_length = self.headers.get("Content-Length")
        try:
            length = int(raw_length or "")
        except ValueError:
            self._refuse(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is needed")
            return
        if length < 0:
            self._refuse(HTTPStatus.BAD_REQUEST, "the Content-Length is negative")
            return
        if length > self.server.max_body:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                         f"the body is too large ({length} bytes; the limit is {self.server.max_body})")
            return
        self._body_read = True
        body = self.rfile.read(length)
        if len(body) < length:
            self._answer(HTTPStatus.BAD_REQUEST, {"errors": ["the body ended before its Content-Length"]})
            return
        try:
            record = parse_body(content_type, self.headers.get_content_charset(), body)
        except BodyError as exc:
            self._answer(exc.status, {"errors": [exc.reason]})
            return
        self._create(record)

    def _create(self, record: dict[str, str]) -> None:
        from leaddesk.store.capture import FormRejected

        try:
            lead = self.server.desk.intake_lead(record)
        except FormRejected as exc:
            self._answer(HTTPStatus.BAD_REQUEST, {"errors": exc.errors, "fields": exc.fields})
            return
        except LeadDeskError as exc:
            self._answer(HTTPStatus.BAD_REQUEST, {"errors": [str(exc)]})
            return
        except Exception as exc:  # a database that stays locked, a bug: answered, logged, the server goes on
            busy = "locked" in str(exc) or "busy" in str(exc)
            self.server.write_log(f"{clock.stamp()}Z error: {type(exc).__name__}")
            status = HTTPStatus.SERVICE_UNAVAILABLE if busy else HTTPStatus.INTERNAL_SERVER_ERROR
            self._answer(status, {"errors": ["the desk is busy, try again" if busy else "internal error"]},
                         {"Retry-After": "5"} if busy else None)
            return
        if lead.get("intake") == "added":  # the sender's open lead: the post went on its timeline
            self._answer(HTTPStatus.OK, {"number": lead["number"], "existing": True})
            return
        self._answer(HTTPStatus.CREATED, {"number": lead["number"]})


def serve(server: IntakeServer) -> None:
    """Serve until Ctrl+C, SIGTERM (from the main thread) or `server.shutdown()`; then close, waiting for
    requests in flight."""
    import signal

    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
