"""The intake endpoint's limits as properties (issue 9, "access"): hypothesis sends arbitrary requests to a real
server on a socket (tests/test_intake.py's `server` and `desk` fixtures, and its `Running` for servers with
other limits), written byte for byte so that nothing in the client tidies them up.

For every request, whatever its body (bytes, JSON of any shape, form-encoded, multipart, near the size limit),
content type, token or headers:

- the answer is 2xx or 4xx, never 5xx; the endpoint's own answers are JSON with the reasons of a refusal;
- 201 stores exactly one new lead (the one the answer names, from the website form), 200 names an open lead
  the post went to (no new lead), and any other answer stores nothing (no lead, history, activity or
  customer row);
- the token is accepted only when it is the token (after trimming), in `Authorization: Bearer` or
  `X-Leaddesk-Token`;
- a body over the limit gets 413 and one at the limit or under is read (announced or chunked);
- in a burst, a client gets exactly its rate's worth of non-429 answers (plus what refills meanwhile); every
  429 says when to come back and stores nothing; health checks are never limited.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from test_intake import TOKEN, Running, desk, multipart, server  # the module's desk and server fixtures

from leaddesk.store.desk import Desk

__all__ = ["desk", "server"]  # fixtures used by name

QUICK = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMIT = 2048
"""The body limit of the server made for the size tests."""
TABLES = ("lead", "history", "activity", "customer")


# -- talking to the server byte for byte --------------------------------------------------------------------
class Answer:
    """A parsed HTTP response."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1."), raw[:200]
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        ours = self.headers.get("server") == "leaddesk-intake"
        self.data: Any = json.loads(self.body) if ours and self.body else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.headers} {self.body[:300]!r}>"


def send(port: int, head: list[bytes], body: bytes = b"", *, chunked: bool = False,
         method: bytes = b"POST", path: bytes = b"/leads") -> Answer:
    """One request on its own connection: the request line, `head` (header lines), the body with its
    Content-Length (or chunked); the whole answer (the server closes the connection)."""
    framing = [b"Transfer-Encoding: chunked"] if chunked else [b"Content-Length: %d" % len(body)]
    if chunked:
        pieces = [body[i:i + 700] for i in range(0, len(body), 700)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    request = b"\r\n".join([method + b" " + path + b" HTTP/1.1", b"Host: intake.test", b"Connection: close",
                            *head, *framing, b"", b""]) + body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request)
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    return Answer(raw)


def bearer(token: str = TOKEN) -> bytes:
    return b"Authorization: Bearer " + token.encode()


def content_type(value: str) -> bytes:
    return b"Content-Type: " + value.encode("latin-1")


def stored(desk: Desk) -> dict[str, int]:
    """How many rows the tables a post could write hold."""
    with desk.db.read() as tx:
        return {table: int(tx.scalar(f'SELECT count(*) FROM "{table}"')) for table in TABLES}


def check(desk: Desk, before: dict[str, int], answer: Answer) -> None:
    """2xx or 4xx; a new lead for 201, an open lead's number for 200, nothing stored for anything else."""
    assert 200 <= answer.status < 500, answer
    event(f"answered {answer.status}")
    after = stored(desk)
    if answer.data is not None and answer.status >= 400:
        assert answer.data["errors"] and all(isinstance(e, str) and e for e in answer.data["errors"]), answer
    if answer.status == 201:
        assert after["lead"] == before["lead"] + 1, (before, after, answer)
        lead = desk.show(str(answer.data["number"]))
        assert lead["source"] == "Website Form" and lead["number"] == answer.data["number"]
        assert after["history"] > before["history"]
    elif answer.status == 200:
        assert answer.data["existing"] is True, answer
        assert after["lead"] == before["lead"], (before, after, answer)
        assert desk.show(str(answer.data["number"]))["number"] == answer.data["number"]
    else:
        assert after == before, (before, after, answer)


# -- what hypothesis sends ------------------------------------------------------------------------------------
FIELD_NAMES = ["name", "Your Name", "first_name", "last_name", "email", "Email", "phone", "company", "Message",
               "source", "owner", "status", "number", "id", "utm_source", "", " "]
field_name = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12))
field_text = st.one_of(st.text(max_size=40), st.emails().map(lambda e: e[:200]), st.sampled_from(
    ["Gina Holt", "Acme", "+1 212 555 0142", "x\x00y", "\x1b[2J", "\ud800", "", " ", "a" * 1500]))
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | field_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(field_name, inner, max_size=4), max_leaves=10)
fields = st.dictionaries(field_name, field_text, max_size=6)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """(what it is, the body, its content type): each kind of body, under its own or a wrong content type."""
    kind = draw(st.sampled_from(["json", "json-any", "form", "form-raw", "multipart", "bytes"]))
    if kind == "json":
        body, ctype = json.dumps(draw(fields)).encode(), "application/json"
    elif kind == "json-any":
        body, ctype = json.dumps(draw(json_value)).encode(), "application/json"
    elif kind == "form":
        body = urlencode(list(draw(fields).items()), errors="surrogatepass").encode()  # a surrogate: bytes not UTF-8
        ctype = "application/x-www-form-urlencoded"
    elif kind == "form-raw":  # percent-escapes of any bytes, & and = anywhere
        raw = draw(st.lists(st.binary(max_size=12), max_size=6))
        body, ctype = b"&".join(quote_from_bytes(part, safe="=").encode() for part in raw), \
            "application/x-www-form-urlencoded"
    elif kind == "multipart":
        parts = [(k, v) for k, v in draw(fields).items() if "\ud800" not in k + v and '"' not in k]
        body, ctype = multipart([(k.replace("\r", "").replace("\n", ""), v) for k, v in parts])
    else:
        body, ctype = draw(st.binary(max_size=300)), "application/octet-stream"
    if draw(st.integers(0, 4)) == 0:  # now and then the wrong one, or a strange one
        ctype = draw(st.sampled_from([
            "application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "",
            "application/json; charset=latin-1", "application/x-www-form-urlencoded; charset=utf-16",
            "application/x-www-form-urlencoded; charset=nonsense", "multipart/form-data; boundary=",
            "Application/JSON", "application/xml", "*/*",
        ]) | st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=40))
    return kind, body, ctype


# -- the properties --------------------------------------------------------------------------------------------
@QUICK
@given(request=bodies(), with_token=st.integers(0, 5))
@example(request=("json", b'{"name": "Ann Example", "email": "ann@example.com"}', "application/json"), with_token=1)
@example(request=("json-any", b"[1, 2]", "application/json"), with_token=1)
@example(request=("bytes", b"\xff\xfe{", "application/json"), with_token=1)
@example(request=("form", b"name=%FF", "application/x-www-form-urlencoded; charset=utf-16"), with_token=1)
@example(request=("json", b'{"name": "x"}', "multipart/form-data; boundary=\xff"), with_token=1)
@example(request=("multipart", b'--b\r\nContent-Disposition: form-data; name="\x1f"\r\n\r\nAnn\r\n--b--\r\n',
                  "multipart/form-data; boundary=b"), with_token=1)  # was a 500: aiohttp's InvalidHeader
def test_any_body_is_answered_2xx_or_4xx_and_stored_whole_or_not_at_all(server: Running, desk: Desk,
                                                                        request: tuple[str, bytes, str],
                                                                        with_token: int) -> None:
    kind, body, ctype = request
    event(kind)
    before = stored(desk)
    head = [content_type(ctype)] + ([bearer()] if with_token else [])  # one in six without a token
    answer = send(server.server.port, head, body)
    check(desk, before, answer)
    if not with_token:
        assert answer.status == 401, answer


@QUICK
@given(value=json_value, chunked=st.booleans())
@example(value={"name": {"first": "Ann"}}, chunked=False)
@example(value={"name": [["Ann"]]}, chunked=True)
@example(value={"name": "Ann Shape", "tags": [1, 2.5, True, None, "x"]}, chunked=False)
@example(value="just text", chunked=False)
def test_json_of_any_shape(server: Running, desk: Desk, value: Any, chunked: bool) -> None:
    before = stored(desk)
    answer = send(server.server.port, [content_type("application/json"), bearer()], json.dumps(value).encode(),
                  chunked=chunked)
    check(desk, before, answer)
    if not isinstance(value, dict):
        assert answer.data == {"errors": ["the JSON body must be an object of fields"]}, answer


@pytest.fixture(scope="module")
def small_server(desk: Desk) -> Iterator[Running]:
    """A server whose body limit is LIMIT bytes (no rate limit)."""
    running = Running(desk, rate=0, max_body=LIMIT)
    yield running
    running.stop()


def padded(kind: str, size: int, serial: int) -> tuple[bytes, str]:
    """A body of exactly `size` bytes that makes a good lead (its email made unique by `serial`)."""
    if kind == "json":
        body = json.dumps({"name": "Pad Ding", "email": f"pad{serial}@size.example"}).encode()
        return body + b" " * (size - len(body)), "application/json"  # JSON allows trailing white space
    body = urlencode({"name": "Pad Ding", "email": f"pad{serial}@size.example", "pad": ""}).encode()
    return body + b"x" * (size - len(body)), "application/x-www-form-urlencoded"


SERIAL = iter(range(10**9))


@FEW
@given(offset=st.integers(-2, 2), kind=st.sampled_from(["json", "form"]), chunked=st.booleans())
@example(offset=0, kind="json", chunked=False)
@example(offset=1, kind="json", chunked=False)
@example(offset=0, kind="form", chunked=True)
@example(offset=1, kind="form", chunked=True)
def test_bodies_around_the_size_limit(small_server: Running, desk: Desk, offset: int, kind: str,
                                      chunked: bool) -> None:
    body, ctype = padded(kind, LIMIT + offset, next(SERIAL))
    assert len(body) == LIMIT + offset
    before = stored(desk)
    answer = send(small_server.server.port, [content_type(ctype), bearer()], body, chunked=chunked)
    check(desk, before, answer)
    assert answer.status == (413 if offset > 0 else 201), answer


header_name = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-0123456789"), min_size=1, max_size=20).map(
    lambda n: "X-" + n)


@FEW
@given(extra=st.lists(st.tuples(header_name, st.integers(0, 10_000)), max_size=120),
       name_size=st.sampled_from([0, 100, 8_000, 8_200, 20_000]))
@example(extra=[("X-Pad", 9_000)], name_size=0)
@example(extra=[(f"X-Pad-{i}", 1) for i in range(120)], name_size=0)
@example(extra=[], name_size=8_200)
def test_huge_and_many_headers(server: Running, desk: Desk, extra: list[tuple[str, int]], name_size: int) -> None:
    """Headers the parser refuses are refused (4xx) before anything is stored; the rest do not matter."""
    before = stored(desk)
    head = [content_type("application/json"), bearer(), *(f"{n}: {'v' * size}".encode() for n, size in extra)]
    if name_size:
        head.append(b"X-" + b"n" * name_size + b": 1")
    answer = send(server.server.port, head, json.dumps({"name": "Header Test"}).encode())
    check(desk, before, answer)


def token_header(draw: st.DrawFn) -> tuple[bytes, bool, bool]:
    """A token header; whether it must be accepted (the token, between spaces and tabs at most) and whether it
    may be (the token between any white space)."""
    value = draw(st.one_of(
        st.just(TOKEN.encode()),
        st.binary(max_size=40),
        st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.tuples(st.binary(max_size=3), st.binary(max_size=3)).map(lambda ends: ends[0] + TOKEN.encode() + ends[1]),
        st.sampled_from([TOKEN[:-1].encode(), TOKEN.upper().encode(), (TOKEN + TOKEN).encode(), b"",
                         " \t".join([TOKEN[:8], TOKEN[8:]]).encode(), f"\u2003{TOKEN}\x0b".encode()]),
    ))
    value = value.replace(b"\r", b"").replace(b"\n", b"")  # a line break would end the header
    must = value.strip(b" \t") == TOKEN.encode()
    may = value.decode("utf-8", "surrogateescape").strip() == TOKEN
    if draw(st.booleans()):
        scheme = draw(st.sampled_from([b"Bearer", b"bearer", b"BEARER", b"Basic", b"Token", b""]))
        bearer = scheme.lower() == b"bearer"
        return b"Authorization: " + scheme + b" " + value, must and bearer, may and bearer
    return b"X-Leaddesk-Token: " + value, must, may


@QUICK
@given(data=st.data())
@example(data=None)  # the token after bytes that are not UTF-8 (was a 500: the header could not be encoded)
def test_any_token_is_refused_unless_it_is_the_token(server: Running, desk: Desk, data: Any) -> None:
    """401 unless the header holds the token; a header the HTTP parser refuses (a NUL in it) gets its 400."""
    if data is None:
        header, must, may = b"X-Leaddesk-Token: \xff\xfe" + TOKEN.encode(), False, False
    else:
        header, must, may = token_header(data.draw)
    before = stored(desk)
    serial = next(SERIAL)
    answer = send(server.server.port, [content_type("application/json"), header],
                  json.dumps({"name": "Token Test", "email": f"token{serial}@token.example"}).encode())
    check(desk, before, answer)
    if answer.data is None:  # refused by aiohttp's parser, before the endpoint saw it
        assert answer.status == 400 and not must, (header, answer)
    elif must:
        assert answer.status == 201, (header, answer)
    else:
        assert answer.status in ((201, 401) if may else (401,)), (header, answer)


REQUEST_KINDS = ["good", "no-token", "bad-body", "too-big", "health"]


@FEW
@given(rate=st.integers(1, 6), burst=st.lists(st.sampled_from(REQUEST_KINDS), min_size=1, max_size=14))
@example(rate=3, burst=["no-token"] * 3 + ["good", "good"])
@example(rate=1, burst=["health", "good", "health", "bad-body", "too-big"])
def test_the_rate_limit_holds_for_bursts(desk: Desk, rate: int, burst: list[str]) -> None:
    """A burst of requests at once from one client (a fresh server): `rate` of its posts are answered, the
    rest get 429 and store nothing; health checks are answered whatever the count."""
    running = Running(desk, rate=rate, max_body=LIMIT)
    answers: list[tuple[str, Answer]] = []
    lock = threading.Lock()
    serial = next(SERIAL)

    def one(i: int, kind: str) -> None:
        good = json.dumps({"name": "Burst Test", "email": f"burst{serial}.{i}@rate.example"}).encode()
        if kind == "health":
            answer = send(running.server.port, [], method=b"GET", path=b"/health")
        else:
            head = [content_type("application/json")] + ([] if kind == "no-token" else [bearer()])
            body = {"bad-body": b"{not json", "too-big": b" " * (LIMIT + 1)}.get(kind, good)
            answer = send(running.server.port, head, body)
        with lock:
            answers.append((kind, answer))

    try:
        before = stored(desk)
        start = time.monotonic()
        threads = [threading.Thread(target=one, args=(i, kind)) for i, kind in enumerate(burst)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        elapsed = time.monotonic() - start
    finally:
        running.stop()
    assert len(answers) == len(burst)
    for kind, answer in answers:
        assert 200 <= answer.status < 500, (kind, answer)
        if kind == "health":
            assert answer.status == 200, answer
        elif answer.status == 429:
            assert int(answer.headers["retry-after"]) >= 1, answer
            assert answer.data["errors"][0].startswith("too many requests"), answer
    posts = [a for kind, a in answers if kind != "health"]
    admitted = [a for a in posts if a.status != 429]
    refill = int(elapsed * rate / 60)  # tokens that came back while the burst went on
    assert min(len(posts), rate) <= len(admitted) <= min(len(posts), rate + refill), (rate, elapsed, answers)
    created = [a for a in admitted if a.status == 201]
    assert len(created) == sum(1 for kind, a in answers if kind == "good" and a.status != 429)
    after = stored(desk)
    assert after["lead"] == before["lead"] + len(created), (before, after, answers)
    event(f"{len(posts) - len(admitted)} of {len(posts)} posts limited")
