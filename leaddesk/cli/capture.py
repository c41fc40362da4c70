"""`leaddesk capture-email` and `leaddesk intake`: leads from email and from web forms."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, app, desk
from leaddesk.store.errors import LeadDeskError, RuleError
from leaddesk.textsafe import safe_line

RESULTS = ("created", "added", "duplicate", "skipped", "failed")


def _read_stdin() -> bytes:
    from leaddesk.store.mail import MAX_MESSAGE_BYTES

    if sys.stdin is None or sys.stdin.isatty():
        raise LeadDeskError("give a message file (FILE.eml), an mbox (FILE.mbox) or --maildir DIR,"
                            " or pipe a message in")
    stream = getattr(sys.stdin, "buffer", None)
    raw = stream.read(MAX_MESSAGE_BYTES + 1) if stream is not None else sys.stdin.read().encode("utf-8",
                                                                                              "surrogateescape")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise LeadDeskError(f"the message on stdin is too large (the limit is {MAX_MESSAGE_BYTES} bytes)")
    return raw


def _line(outcome: dict[str, Any]) -> str:
    """One line for a message's outcome (user text made safe)."""
    who = safe_line(outcome.get("name") or outcome.get("email") or "")
    lead = f"lead #{outcome['number']} {who}"
    result = outcome["result"]
    if result == "created":
        closed = outcome.get("closed_lead")
        return f"{lead} · new lead from email" + (f" (lead #{closed} with this email is closed)" if closed else "")
    if result == "added":
        return f"{lead} · email added"
    if result == "duplicate":
        return f"{lead} · already captured"
    if result == "skipped":
        return f"{who} <{safe_line(outcome['email'])}> · skipped: {safe_line(outcome['reason'])}"
    return f"{safe_line(outcome.get('label') or 'message')}: {safe_line(outcome.get('error'))}"


def _summary(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    return (f"{total} message{'s' if total != 1 else ''}: {counts['created']} new lead"
            f"{'s' if counts['created'] != 1 else ''}, {counts['added']} added to leads,"
            f" {counts['duplicate']} already captured, {counts['skipped']} skipped, {counts['failed']} failed")


@app.command("capture-email")
def capture_email(
    file: Annotated[Path | None, typer.Argument(
        help="A message (.eml) or an mbox mailbox (.mbox); none or '-' reads one message from stdin.")] = None,
    mbox: Annotated[bool, typer.Option("--mbox", help="FILE is an mbox mailbox, whatever its name.")] = False,
    maildir: Annotated[Path | None, typer.Option(
        "--maildir", help="Scan a Maildir (new/ and cur/) for messages not captured yet; it is never changed.")
    ] = None,
    known_only: Annotated[bool, typer.Option(
        "--known-only", help="Only add to existing leads; never create a lead.")] = False,
    automated: Annotated[bool, typer.Option(
        "--include-automated", help="Also capture bounces, auto-replies and mailing-list mail.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print nothing unless something was captured or failed (for cron).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Capture email: a new sender becomes a lead (source Inbound Email), a known one's lead gets the email.

    Each message is captured once (by its Message-ID) and in its own transaction: re-running resumes.
    Pipe a message in from mutt/aerc, import an mbox, or run --maildir from cron.
    """
    from leaddesk.store import mail

    if maildir is not None and file is not None:
        raise LeadDeskError("give either FILE or --maildir DIR, not both")
    d = desk()
    if maildir is not None:
        _capture_many(d, mail.maildir_messages(maildir), known_only=known_only, automated=automated, quiet=quiet,
                      json_=json_)
        return
    if file is not None and (mbox or file.suffix.casefold() == ".mbox"):
        _capture_many(d, mail.mbox_messages(file), known_only=known_only, automated=automated, quiet=quiet,
                      json_=json_)
        return
    if mbox:
        raise LeadDeskError("--mbox needs an mbox FILE")
    if file is None or str(file) == "-":
        label, raw = "stdin", _read_stdin()
    else:
        label, raw = str(file), mail.read_file(file)
    try:
        outcome = d.capture_email(raw, known_only=known_only, automated=automated)
    except RuleError as exc:
        raise RuleError(f"{label}: {exc}") from None
    if json_:
        counts = {name: int(outcome["result"] == name) for name in RESULTS}
        output.emit_json({"messages": [{"label": label, **outcome}], "counts": counts})
    elif not quiet or outcome["result"] in ("created", "added"):
        output.say(_line(outcome))


def _capture_many(d: Any, items: Any, *, known_only: bool, automated: bool, quiet: bool, json_: bool) -> None:
    counts = dict.fromkeys(RESULTS, 0)
    outcomes = []
    for outcome in d.capture_mailbox(items, known_only=known_only, automated=automated):
        counts[outcome["result"]] += 1
        if json_:
            outcomes.append(outcome)
        elif outcome["result"] == "failed":
            output.error(_line(outcome))
        elif outcome["result"] in ("created", "added"):
            output.say(_line(outcome))
    if json_:
        output.emit_json({"messages": outcomes, "counts": counts})
    elif not quiet or counts["created"] or counts["added"] or counts["failed"]:
        output.say(_summary(counts))
    if counts["failed"]:
        failed = counts["failed"]
        raise RuleError(f"{failed} message{'s' if failed != 1 else ''} could not be captured;"
                        " the others were")


@app.command()
def intake(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8080,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="LEADDESK_INTAKE_TOKEN", show_default=False,
        help="The shared token posts must carry (better in LEADDESK_INTAKE_TOKEN: a command line is visible"
             " to other users).")] = None,
    rate: Annotated[int, typer.Option(help="Posts per minute per client address (0: no limit).")] = 30,
    max_body: Annotated[int, typer.Option("--max-body", help="Largest body in bytes.")] = 64 * 1024,
    allow_origin: Annotated[list[str] | None, typer.Option(
        "--allow-origin", metavar="ORIGIN", show_default=False,
        help="A browser origin whose pages may post (CORS), e.g. https://www.example.com (repeatable; added to"
             " [intake] allow_origins in settings). None by default.")] = None,
) -> None:
    """Serve a small HTTP endpoint that turns web-form posts into leads (source Website Form).

    POST /leads (form-encoded, multipart/form-data or JSON) with `Authorization: Bearer TOKEN` or
    `X-Leaddesk-Token: TOKEN` answers 201 {"number": N}, 400 {"errors": [...]}, 401, 413, 415 or 429.
    GET /health answers 200. One log line per request on stderr. Ctrl+C stops (requests in flight are answered).
    """
    from leaddesk.intake import make_server, serve

    d = desk()
    origins = [*d.settings.intake.allow_origins, *(allow_origin or [])]
    server = make_server(d, host, port, token, rate=rate, max_body=max_body, allow_origins=origins)
    shown = f"[{host}]" if ":" in host else host

    def ready() -> None:  # said once it answers: a script may start posting when it reads this line
        output.note(f"intake: listening on http://{shown}:{server.port}/leads (Ctrl+C stops)")
        if host not in ("127.0.0.1", "::1", "localhost"):
            output.note("intake: not on loopback and there is no TLS here: put a TLS reverse proxy in front")

    serve(server, on_ready=ready)
    output.note("intake: stopped")
