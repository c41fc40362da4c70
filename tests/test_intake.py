"""The intake endpoint over a real socket: a server on 127.0.0.1, port 0, in a thread (the CLI's Ctrl+C in a
process of its own)."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from leaddesk.intake import IntakeServer, RateLimiter, make_server
from leaddesk.settings import Settings
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError

TOKEN = "s3cret-token-for-tests-0123"
FORM = {"Your Name": "Gina Holt", "Email": "gina@holt.example", "Phone": "+1 212 555 0142",
        "Company": "Holt & Co", "Message": "Please call me about 20 seats."}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    path = tmp_path_factory.mktemp("intake") / "intake.db"
    opened = Desk.open(str(path), login="web", settings=Settings())
    opened.init("sales")
    yield opened
    opened.close()


class Running:
    """A server serving in a thread, with its log."""

    def __init__(self, desk: Desk, **options: Any) -> None:
        self.log = io.StringIO()
        self.server: IntakeServer = make_server(desk, "127.0.0.1", 0, TOKEN, log=self.log, **options)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), json.loads(data) if data else None
        finally:
            conn.close()

    def post(self, fields: dict[str, Any], *, as_json: bool = False, token: str | None = TOKEN,
             header: str = "Authorization") -> tuple[int, dict[str, str], Any]:
        headers = {"Content-Type": "application/json" if as_json else "application/x-www-form-urlencoded"}
        if token is not None:
            headers[header] = f"Bearer {token}" if header == "Authorization" else token
        body = json.dumps(fields).encode() if as_json else urlencode(fields).encode()
        return self.request("POST", "/leads", body, headers)


@pytest.fixture(scope="module")
def server(desk: Desk) -> Iterator[Running]:
    running = Running(desk, rate=1000)
    yield running
    running.stop()


def test_a_good_form_post_creates_a_website_form_lead(server: Running, desk: Desk) -> None:
    status, headers, data = server.post(FORM)
    assert status == 201, data
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    lead = desk.show(str(data["number"]))
    assert (lead["contact_name"], lead["email"], lead["company"]) == ("Gina Holt", "gina@holt.example", "Holt & Co")
    assert lead["source"] == "Website Form" and lead["phone_e164"] == "+12125550142"
    assert lead["description"] == "Please call me about 20 seats."
    assert {h["origin"] for h in desk.history(str(data["number"]))} == {"web"}


def test_a_json_post_with_the_token_header(server: Running, desk: Desk) -> None:
    fields = {"first_name": "Hal", "last_name": "Ito", "email": "hal@ito.example", "interests": ["CRM", "Support"],
              "newsletter": True, "seats": 12, "fax": None}
    status, _headers, data = server.post(fields, as_json=True, header="X-Leaddesk-Token")
    assert status == 201, data
    lead = desk.show(str(data["number"]))
    assert lead["contact_name"] == "Hal Ito"
    assert lead["description"] == "interests: CRM, Support\nnewsletter: true\nseats: 12"


def test_unknown_fields_are_kept_in_the_description(server: Running, desk: Desk) -> None:
    status, _headers, data = server.post({**FORM, "Email": "gina.u@holt.example", "Phone": "+1 212 555 0143",
                                          "utm_campaign_id": "42", "Budget range": "5-10k",
                                          "owner": "boss"})
    assert status == 201
    description = desk.show(str(data["number"]))["description"]
    assert description == ("Please call me about 20 seats.\n\nowner: boss\nutm_campaign_id: 42\n"
                           "Budget range: 5-10k")


def test_a_bad_email_is_refused_with_the_reason(server: Running, desk: Desk) -> None:
    leads = desk.count_leads(_all())
    status, _headers, data = server.post({**FORM, "Email": "gina@@holt"})
    assert status == 400
    assert len(data["errors"]) == 1 and "email 'gina@@holt' is not valid" in data["errors"][0]
    assert list(data["fields"]) == ["email"]
    status, _headers, data = server.post({"Message": "no name"})
    assert status == 400 and data["errors"] == ["a lead needs a contact name or a company"]
    assert desk.count_leads(_all()) == leads


@pytest.mark.parametrize("token", [None, "wrong-token-of-the-same-size", ""])
def test_no_token_or_a_wrong_one_is_unauthorised(server: Running, desk: Desk, token: str | None) -> None:
    leads = desk.count_leads(_all())
    status, headers, data = server.post(FORM, token=token)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert data["errors"][0].startswith("a valid token is needed")
    status, _headers, _data = server.post(FORM, token="wrong", header="X-Leaddesk-Token")
    assert status == 401
    status, _headers, _data = server.request("POST", "/leads", urlencode(FORM).encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {TOKEN}"})
    assert status == 401
    assert desk.count_leads(_all()) == leads


def test_an_oversized_body_is_refused_before_it_is_read(desk: Desk) -> None:
    running = Running(desk, max_body=1024)
    try:
        leads = desk.count_leads(_all())
        conn = http.client.HTTPConnection("127.0.0.1", running.server.port, timeout=10)
        conn.putrequest("POST", "/leads")
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.putheader("Content-Length", str(10**9))  # announced, never sent: the answer comes anyway
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["errors"] == ["the body is too large (1000000000 bytes; the limit is 1024)"]
        conn.close()
        status, _headers, data = running.post({**FORM, "Message": "x" * 5000})  # sent whole: still a clean 413
        assert status == 413, data
        assert running.post({**FORM, "Email": "gina.big@holt.example", "Phone": "+1 212 555 0144"})[0] == 201
        assert desk.count_leads(_all()) == leads + 1
    finally:
        running.stop()


def test_other_content_types_methods_and_paths(server: Running) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, _h, data = server.request("POST", "/leads", b"name=x", {**auth, "Content-Type": "text/plain"})
    assert status == 415 and "application/json" in data["errors"][0]
    status, _h, data = server.request("POST", "/leads", b"--b--", {**auth, "Content-Type": "multipart/form-data; b=b"})
    assert status == 400 and data["errors"][0].startswith("the multipart body is not valid")  # no boundary
    status, headers, data = server.request("GET", "/leads")
    assert status == 405 and headers["Allow"] == "OPTIONS, POST" and data["errors"] == ["use POST"]
    status, headers, data = server.request("POST", "/health", b"{}", auth)
    assert status == 405 and headers["Allow"] == "GET, HEAD" and data["errors"] == ["use GET"]
    assert server.request("PUT", "/leads", b"{}", auth)[0] == 405
    assert server.request("DELETE", "/leads", None, auth)[0] == 405
    assert server.request("POST", "/elsewhere", b"{}", auth)[0] == 404
    assert server.request("GET", "/", None)[0] == 404
    status, _h, data = server.request("POST", "/leads", b"{not json", {**auth, "Content-Type": "application/json"})
    assert status == 400 and data["errors"][0].startswith("the body is not valid JSON")
    status, _h, data = server.request("POST", "/leads", b"[1, 2]", {**auth, "Content-Type": "application/json"})
    assert status == 400 and data["errors"] == ["the JSON body must be an object of fields"]
    status, _h, _d = server.request("POST", "/leads", b"name=%FF", {
        **auth, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400


def test_health(server: Running) -> None:
    status, headers, data = server.request("GET", "/health")
    assert (status, data) == (200, {"status": "ok"})
    assert headers["Server"] == "leaddesk-intake"  # no Python version


def test_a_client_over_the_rate_limit_gets_429(desk: Desk) -> None:
    running = Running(desk, rate=3)
    try:
        statuses = [running.post(FORM, token="wrong")[0] for _ in range(3)]  # refused posts count too
        assert statuses == [401, 401, 401]
        status, headers, data = running.post(FORM)
        assert status == 429 and int(headers["Retry-After"]) >= 1
        assert data["errors"][0].startswith("too many requests")
        assert running.request("GET", "/health")[0] == 200  # health checks are not limited
    finally:
        running.stop()


def test_the_token_bucket_refills_over_time() -> None:
    now = [100.0]
    limiter = RateLimiter(60, now=lambda: now[0])  # one a second, bursts of 60
    assert all(limiter.allow("a") == 0 for _ in range(60))
    assert limiter.allow("a") == pytest.approx(1.0)
    assert limiter.allow("b") == 0  # per client
    now[0] += 2.5
    assert limiter.allow("a") == 0 and limiter.allow("a") == 0 and limiter.allow("a") > 0
    assert RateLimiter(0).allow("a") == 0  # off


def test_one_log_line_per_request_without_bodies_or_tokens(desk: Desk) -> None:
    running = Running(desk)
    try:
        running.post({**FORM, "Email": "gina.log@holt.example", "Phone": "+1 212 555 0145",
                      "Message": "private words"})
        running.post(FORM, token="wrong")
        running.request("GET", "/health?probe=1")
    finally:
        running.stop()
    lines = running.log.getvalue().splitlines()
    assert len(lines) == 3
    assert [line.split()[1:5] for line in lines] == [["127.0.0.1", "POST", "/leads", "201"],
                                                     ["127.0.0.1", "POST", "/leads", "401"],
                                                     ["127.0.0.1", "GET", "/health", "200"]]
    text = running.log.getvalue()
    assert "private" not in text and "gina" not in text and TOKEN not in text and "probe" not in text


def test_concurrent_posts_each_get_their_own_lead(server: Running, desk: Desk) -> None:
    results: list[tuple[int, Any]] = []

    def post(i: int) -> None:
        status, _h, data = server.post({"name": f"Parallel {i}", "email": f"p{i}@para.example"})
        results.append((status, data))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [status for status, _ in results] == [201] * 12
    assert len({data["number"] for _, data in results}) == 12


def test_the_server_refuses_to_start_without_a_good_token(desk: Desk) -> None:
    for token in (None, "", "   ", "short"):
        with pytest.raises(RuleError):
            make_server(desk, "127.0.0.1", 0, token)


def test_a_desk_factory_is_accepted(tmp_path: Path) -> None:
    running = Running.__new__(Running)
    running.log = io.StringIO()
    opened: list[Desk] = []

    def factory() -> Desk:
        opened.append(Desk.open(str(tmp_path / "f.db"), login="web", settings=Settings()))
        return opened[0]

    running.server = make_server(factory, "127.0.0.1", 0, TOKEN, log=running.log)
    running.thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    running.thread.start()
    try:
        status, _h, data = running.post(FORM)
        assert status == 201 and data == {"number": 1}
    finally:
        running.stop()
        opened[0].close()


def _all() -> Any:
    from leaddesk.store.queries import LeadFilter

    return LeadFilter()


def test_a_second_post_from_an_open_lead_goes_on_its_timeline(server: Running, desk: Desk) -> None:
    first = {**FORM, "Email": "gina.again@holt.example", "Phone": "+1 212 555 0146"}
    status, _headers, created = server.post(first)
    assert status == 201
    leads = desk.count_leads(_all())
    status, _headers, again = server.post({**first, "Phone": "", "Message": "Still interested, 25 seats now."})
    assert (status, again) == (200, {"number": created["number"], "existing": True})
    assert desk.count_leads(_all()) == leads
    notes = [a["body"] for a in desk.show(str(created["number"]))["activities"] if a["kind"] == "note"]
    assert any("25 seats now" in body for body in notes)
    by_phone = {"Your Name": "G. Holt", "Phone": "(212) 555-0146", "Message": "by phone"}
    assert server.post(by_phone)[2] == {"number": created["number"], "existing": True}


# -- multipart forms, chunked bodies ------------------------------------------------------------------
BOUNDARY = "----leaddeskBoundary7MA4YWxk"


def multipart(fields: list[tuple[str, str | tuple[str, bytes]]]) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it (a (filename, bytes) value is a file input)."""
    body = b""
    for name, value in fields:
        if isinstance(value, tuple):
            filename, data = value
            body += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
        else:
            body += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    return body + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


def test_a_multipart_form_post_creates_a_lead(server: Running, desk: Desk) -> None:
    body, content_type = multipart([("Your Name", "Zoë Brandt"), ("Email", "zoe@brandt.example"),
                                    ("Interest", "CRM"), ("Interest", "Support"), ("Message", "Line one\nline two"),
                                    ("attachment", ("", b""))])  # a file input left empty
    status, _headers, data = server.request("POST", "/leads", body, {
        "Authorization": f"Bearer {TOKEN}", "Content-Type": content_type})
    assert status == 201, data
    lead = desk.show(str(data["number"]))
    assert (lead["contact_name"], lead["email"], lead["source"]) == ("Zoë Brandt", "zoe@brandt.example",
                                                                     "Website Form")
    assert lead["description"] == "Line one\nline two\n\nInterest: CRM, Support"


def test_multipart_refusals(server: Running, desk: Desk) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    leads = desk.count_leads(_all())
    body, content_type = multipart([("name", "Filed Away"), ("cv", ("cv.pdf", b"%PDF-1.4 ..."))])
    status, _h, data = server.request("POST", "/leads", body, {**auth, "Content-Type": content_type})
    assert (status, data["errors"]) == (400, ["field 'cv' is a file (cv.pdf): send text fields only"])
    body, content_type = multipart([(f"f{i}", "x") for i in range(101)])
    status, _h, data = server.request("POST", "/leads", body, {**auth, "Content-Type": content_type})
    assert (status, data["errors"]) == (400, ["too many fields (the limit is 100)"])
    body, content_type = multipart([("name", "Latin One")])
    body = body.replace(b"\r\n\r\nLatin One", b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLatin \xe9")
    status, _h, data = server.request("POST", "/leads", body, {**auth, "Content-Type": content_type})
    assert (status, data["errors"]) == (400, ["a part is not valid text in its charset"])
    status, _h, data = server.request("POST", "/leads", body, {"Content-Type": content_type})
    assert status == 401  # the token is checked before any of the body is read
    assert desk.count_leads(_all()) == leads


def test_chunked_bodies_are_read_up_to_the_limit(desk: Desk) -> None:
    running = Running(desk, max_body=1024)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        fields = json.dumps({"name": "Chunk Ling", "email": "chunk@ling.example"}).encode()
        status, _h, data = running.request("POST", "/leads", iter([fields[:10], fields[10:]]), headers)  # chunked
        assert status == 201, data
        assert desk.show(str(data["number"]))["contact_name"] == "Chunk Ling"
        status, _h, data = running.request("POST", "/leads", iter([b" " * 1000] * 3 + [fields]), headers)
        assert (status, data["errors"]) == (413, ["the body is too large (the limit is 1024 bytes)"])
        body, content_type = multipart([("name", "Big Form"), ("Message", "x" * 2000)])
        status, _h, data = running.request("POST", "/leads", iter([body]), {**headers, "Content-Type": content_type})
        assert status == 413, data
        assert running.post(FORM | {"Email": "gina.chunk@holt.example", "Phone": "+1 212 555 0147"})[0] == 201
    finally:
        running.stop()


def test_a_body_that_never_comes_times_out(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    from leaddesk import intake

    monkeypatch.setattr(intake, "BODY_TIMEOUT_S", 0.3)
    running = Running(desk)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", running.server.port, timeout=10)
        conn.putrequest("POST", "/leads")
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", "100")
        conn.endheaders(b'{"name": ')  # and then nothing
        response = conn.getresponse()
        assert response.status == 408
        assert json.loads(response.read())["errors"] == ["the body did not arrive within 0.3 s"]
        conn.close()
    finally:
        running.stop()


# -- browser pages (CORS) --------------------------------------------------------------------------------
SITE = "https://www.example.com"


def test_cors_answers_only_the_listed_origins(desk: Desk) -> None:
    running = Running(desk, rate=1000, allow_origins=["HTTPS://WWW.Example.com:443/"])  # normalised
    try:
        ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
        status, headers, data = running.request("OPTIONS", "/leads", None, {"Origin": SITE, **ask})
        assert (status, data) == (204, None)
        assert headers["Access-Control-Allow-Origin"] == SITE and headers["Vary"] == "Origin"
        assert headers["Access-Control-Allow-Methods"] == "POST"
        assert {"Authorization", "Content-Type", "X-Leaddesk-Token"} <= set(
            headers["Access-Control-Allow-Headers"].replace(" ", "").split(","))
        assert int(headers["Access-Control-Max-Age"]) > 0

        status, headers, data = running.request("OPTIONS", "/leads", None, {"Origin": "https://evil.example", **ask})
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
        assert data["errors"] == ["pages of https://evil.example may not post here: list the origin in [intake]"
                                  " allow_origins or with --allow-origin"]

        body = urlencode({**FORM, "Email": "gina.cors@holt.example", "Phone": "+1 212 555 0148"}).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {TOKEN}"}
        status, headers, data = running.request("POST", "/leads", body, {**form, "Origin": SITE})
        assert status == 201 and headers["Access-Control-Allow-Origin"] == SITE
        assert headers["Access-Control-Expose-Headers"] == "Retry-After"
        status, headers, data = running.request("POST", "/leads", body, {**form, "Origin": SITE,
                                                                        "Authorization": "Bearer wrong"})
        assert status == 401 and headers["Access-Control-Allow-Origin"] == SITE  # the page can read why
        status, headers, _data = running.request("POST", "/leads", body, {**form, "Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in headers
        status, headers, _data = running.request("OPTIONS", "/leads", None, {})  # not a preflight
        assert status == 204 and headers["Allow"] == "OPTIONS, POST"
    finally:
        running.stop()


def test_without_listed_origins_no_page_may_post(server: Running) -> None:
    status, headers, data = server.request("OPTIONS", "/leads", None, {
        "Origin": SITE, "Access-Control-Request-Method": "POST"})
    assert status == 403 and data["errors"][0].startswith(f"pages of {SITE} may not post here")
    status, headers, _data = server.post(FORM | {"Email": "gina.nocors@holt.example", "Phone": ""},
                                         token="wrong")
    assert "Access-Control-Allow-Origin" not in headers and "Vary" not in headers


def test_origins_are_checked_on_the_command_line_and_in_settings(desk: Desk, tmp_path: Path) -> None:
    from leaddesk.settings import load_settings

    for origin in ("*", "www.example.com", "https://example.com/form", "null"):
        with pytest.raises(RuleError, match=r"--allow-origin: .* is not an origin"):
            make_server(desk, "127.0.0.1", 0, TOKEN, allow_origins=[origin])
    config = tmp_path / "config.toml"
    config.write_text('[intake]\nallow_origins = ["https://Forms.Example.com", "http://localhost:8000"]\n')
    assert load_settings(config).intake.allow_origins == ("https://forms.example.com", "http://localhost:8000")
    config.write_text('[intake]\nallow_origins = "https://forms.example.com"\n')
    with pytest.raises(RuleError, match=r"\[intake\] allow_origins must be a list"):
        load_settings(config)
    config.write_text('[intake]\nallow_origins = ["ftp://x"]\n')
    with pytest.raises(RuleError, match=r"\[intake\] allow_origins: 'ftp://x' is not an origin"):
        load_settings(config)
    config.write_text('[intake]\norigins = []\n')
    with pytest.raises(RuleError, match="unknown key 'origins'"):
        load_settings(config)


# -- the command ------------------------------------------------------------------------------------------
ROOT = Path(__file__).parents[1]


def receive(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def test_importing_the_endpoint_does_not_load_aiohttp() -> None:
    code = "import sys, leaddesk.intake, leaddesk.settings; print(sorted(m for m in sys.modules if 'aiohttp' in m))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                          cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_ctrl_c_answers_the_requests_in_flight_then_stops_cleanly(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    Desk.open(str(path), login="ann", settings=Settings()).init("sales")
    env = {**os.environ, "LEADDESK_DB": str(path), "LEADDESK_INTAKE_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "leaddesk", "intake", "--port", "0",
                                "--allow-origin", SITE], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        match = re.fullmatch(r"intake: listening on http://127\.0\.0\.1:(\d+)/leads \(Ctrl\+C stops\)\n", first)
        assert match, first
        port = int(match[1])
        body = urlencode(FORM).encode()
        head = (b"POST /leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + f"Authorization: Bearer {TOKEN}\r\nOrigin: {SITE}\r\n".encode()
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn, \
                socket.create_connection(("127.0.0.1", port), timeout=10) as stalled:
            conn.sendall(head + body[:10])
            stalled.sendall(head + body[:10])  # the rest never comes
            time.sleep(0.3)
            process.send_signal(signal.SIGINT)  # Ctrl+C while the bodies are on their way
            stopping = time.monotonic()
            time.sleep(0.3)
            with pytest.raises(ConnectionRefusedError):  # no longer listening...
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            conn.sendall(body[10:])
            answer, cut_short = receive(conn), receive(stalled)
            _out, err = process.communicate(timeout=20)
            stopped = time.monotonic() - stopping
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 201"), answer  # ...the post that arrived in time was answered,
        assert f"Access-Control-Allow-Origin: {SITE}".encode() in head
        number = json.loads(payload)["number"]
        assert cut_short.startswith(b"HTTP/1.1 503"), cut_short  # ...the other was told to try again,
        assert json.loads(cut_short.partition(b"\r\n\r\n")[2])["errors"] == [
            "the endpoint is stopping: try again shortly"]
        assert stopped < 4.5, stopped  # ...without waiting for it long (grace 1 s, reading away 2 s)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    lines = err.splitlines()
    assert lines[-1] == "intake: stopped" and "Traceback" not in err
    assert sorted(line.split()[2:5] for line in lines[:-1]) == [["POST", "/leads", "201"], ["POST", "/leads", "503"]]
    check = Desk.open(str(path), login="ann", settings=Settings())
    try:
        assert check.show(str(number))["contact_name"] == "Gina Holt"
    finally:
        check.close()
