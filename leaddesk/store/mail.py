"""Email messages as plain records: one RFC 822 message, an mbox file, a Maildir folder.

Parsing is the standard library's (`email` with `policy.default`: RFC 2047 encoded
words, MIME, charsets; `mailbox` for mbox). HTML-only bodies become readable text
with `html_to_text` (a small `html.parser` converter). Nothing here touches the
database; `store/capture.py` decides what a record becomes.

Records are kept literal (control characters are escaped when shown, not here), but
NULs are removed and the body is cut at `MAX_BODY_CHARS`.

A message that cannot be read right is refused (RuleError), not captured in part: one cut off in its
header, one whose MIME parts are broken (a boundary missing, or never closed: cut off), one whose text
is in a charset Python does not know and is not UTF-8. Bytes its declared charset cannot decode show
as U+FFFD, as in every mail program; a sender's name in an unknown charset gives way to the address.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

from leaddesk import clock
from leaddesk.store.errors import RuleError

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
"""A message larger than this (attachments included) is refused, not read."""
MAX_BODY_CHARS = 50_000
"""The body text kept on the timeline; the rest is cut with a note saying how much."""
MAX_HTML_CHARS = 2_000_000
"""HTML beyond this is not converted (its text would be cut at MAX_BODY_CHARS anyway)."""
MAX_SUBJECT_CHARS = 500
MAX_NAME_CHARS = 200
MAX_MESSAGE_ID_CHARS = 250
SYNTHETIC_DOMAIN = "leaddesk.invalid"


@dataclass(frozen=True)
class MailRecord:
    """What capture needs from one message."""

    message_id: str
    """The Message-ID (`<...>`), or a stable synthetic one (hash of From, Date, Subject, body) when missing."""
    synthetic_id: bool
    name: str
    """The sender's display name (RFC 2047 decoded), else the local part of the address."""
    email: str
    subject: str
    body: str
    """Plain text: the text/plain part, else the HTML part converted; cut at MAX_BODY_CHARS."""
    at: str | None
    """The Date: header as a UTC timestamp, None when missing or unreadable."""
    truncated: bool = False
    automated: str | None = None
    """Why the message looks machine-sent (bounce, auto-reply, mailing list), or None."""

    def timeline_text(self) -> str:
        """The activity text: the subject, a blank line, the body."""
        subject = self.subject or "(no subject)"
        return f"{subject}\n\n{self.body}".strip() if self.body else subject


def parse_message(raw: bytes) -> MailRecord:
    """Read one RFC 822 message; RuleError when it is too large or has no usable sender."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise RuleError(f"the message is too large ({len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES})")
    if not raw.strip():
        raise RuleError("the message is empty")
    if _header_end(raw) == len(raw) and not raw.endswith((b"\n", b"\r")):
        raise RuleError("the message ends in the middle of its header (its last line has no line end):"
                        " it looks cut off")
    from email import policy
    from email.parser import BytesParser

    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        return _record(msg, raw)
    except RuleError:
        raise
    except Exception as exc:  # a hostile or broken message must not stop a mailbox run
        raise RuleError(f"the message cannot be read: {type(exc).__name__}: {exc}") from None


def _broken_mime(msg: EmailMessage) -> str | None:
    """Why the message's MIME parts cannot be told apart (its text would be lost or cut), or None."""
    from email import errors

    for part in msg.walk():
        for defect in part.defects:
            if isinstance(defect, errors.NoBoundaryInMultipartDefect):
                return "a multipart part names no boundary"
            if isinstance(defect, errors.StartBoundaryNotFoundDefect):
                return "no part starts with the boundary its Content-Type names"
            if isinstance(defect, errors.CloseBoundaryNotFoundDefect):
                return "a multipart part is never closed: the message looks cut off"
    return None


def _record(msg: EmailMessage, raw: bytes) -> MailRecord:
    broken = _broken_mime(msg)
    if broken is not None:
        raise RuleError(f"the message's MIME structure is broken: {broken}")
    name, email = _sender(msg)
    subject = _clip(" ".join(_header(msg, "Subject").split()), MAX_SUBJECT_CHARS)
    body = _clean(_body(msg))
    truncated = len(body) > MAX_BODY_CHARS
    if truncated:
        body = body[:MAX_BODY_CHARS].rstrip() + f"\n[… {len(body) - MAX_BODY_CHARS} more characters not kept]"
    message_id = _normalise_id(_raw_header(msg, "Message-ID"))  # as found (the parser would cut an odd id short)
    synthetic = not message_id
    if synthetic:
        message_id = _synthetic_id(msg, raw)
    return MailRecord(message_id=message_id, synthetic_id=synthetic, name=name, email=email, subject=subject,
                      body=body, at=_date(msg), truncated=truncated, automated=_automated(msg))


def _raw_header(msg: EmailMessage, name: str) -> str:
    """A header's value as it is in the message (not decoded), unfolded."""
    value = next((v for n, v in msg.raw_items() if n.casefold() == name.casefold()), "")
    return " ".join(_fix(str(value)).split())


def _synthetic_id(msg: EmailMessage, raw: bytes) -> str:
    """A stable id for a message without one: a hash of its From, Date and Subject as written and of its body's
    bytes, so that neither headers added by a mail program nor a change in how bodies are decoded alter it."""
    body = raw[_header_end(raw):].replace(b"\r\n", b"\n").strip()
    digest = hashlib.sha256()
    for name in ("From", "Date", "Subject"):
        digest.update(_raw_header(msg, name).encode("utf-8", "surrogatepass") + b"\n")
    digest.update(body)
    return f"<{digest.hexdigest()[:40]}@{SYNTHETIC_DOMAIN}>"


def _header_end(raw: bytes) -> int:
    """Where the header block ends (the first empty line), or the end."""
    return min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))


def _normalise_id(value: str) -> str:
    """A Message-ID as stored: unfolded, without whitespace; a very long one by its hash."""
    message_id = "".join(value.split())
    if len(message_id) > MAX_MESSAGE_ID_CHARS:
        digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        message_id = f"<long-{digest}@{SYNTHETIC_DOMAIN}>"
    return message_id


def quick_message_id(raw: bytes) -> str | None:
    """The Message-ID as `parse_message` would give it, from the header block alone (fifty times faster than
    a full parse: a mailbox run skips what it captured before cheaply); None when absent or unreadable."""
    from email import policy
    from email.parser import BytesHeaderParser

    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[:_header_end(raw) + 1])
        value = next((v for name, v in headers.raw_items() if name.casefold() == "message-id"), "")
        return _normalise_id(_fix(str(value))) or None
    except Exception:  # the full parse will say what is wrong
        return None


def _fix(text: str) -> str:
    """Undo the parser's surrogate escapes of raw 8-bit (UTF-8) header bytes; drop NULs."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


def _header(msg: EmailMessage, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else _fix(str(value)).strip()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sender(msg: EmailMessage) -> tuple[str, str]:
    from leaddesk.store.contactinfo import check_email

    header = msg.get("From")
    if header is None:
        raise RuleError("the message has no From: header")
    addresses = [a for a in getattr(header, "addresses", ()) if a.username and a.domain]
    if not addresses:
        raise RuleError(f"the From: header '{_clip(_fix(str(header)), 100)}' has no email address")
    first = addresses[0]
    email = _fix(first.addr_spec)
    try:
        check_email(email)
    except RuleError as exc:
        raise RuleError(f"the sender: {exc}") from None
    name = " ".join(_fix(first.display_name or "").split()).strip("'\" ")
    if not name or "@" in name or _unknown_charset(_raw_header(msg, "From")):
        name = _fix(first.username)
    return _clip(name, MAX_NAME_CHARS), email


_ENCODED_WORD_CHARSET = re.compile(r"=\?([^?*]+)[^?]*\?[bBqQ]\?")


def _unknown_charset(raw_header: str) -> bool:
    """True when one of a raw header's encoded words names a charset Python does not know (it decodes as U+FFFD)."""
    for charset in _ENCODED_WORD_CHARSET.findall(raw_header):
        try:
            codecs.lookup(charset)
        except LookupError:
            return True
    return False


def _date(msg: EmailMessage) -> str | None:
    header = msg.get("Date")
    moment = getattr(header, "datetime", None) if header is not None else None
    if moment is None:
        return None
    try:
        return clock.stamp(moment)  # naive (-0000, "unknown zone") is read as UTC
    except (ValueError, OverflowError):
        return None


AUTOMATED_PRECEDENCE = ("bulk", "list", "junk", "auto_reply")


def _automated(msg: EmailMessage) -> str | None:
    auto = _header(msg, "Auto-Submitted").split(";")[0].strip().casefold()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    if msg.get_content_type() == "multipart/report":
        return "a delivery or read report"
    precedence = _header(msg, "Precedence").casefold()
    if precedence in AUTOMATED_PRECEDENCE:
        return f"Precedence: {precedence}"
    if msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None:
        return "a mailing list or newsletter"
    return None


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    assert isinstance(part, EmailMessage)
    text = _content(part)
    if part.get_content_subtype() == "html":
        return html_to_text(text[:MAX_HTML_CHARS])
    return text


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RuleError(f"the message's text is in a charset this program does not know ('{_clip(charset, 40)}')"
                        " and is not UTF-8: it cannot be read") from None


def _clean(text: str) -> str:
    text = _fix(text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


# -- HTML to text -----------------------------------------------------------------------------------
_SKIP = {"script", "style", "head", "title", "template", "svg", "noscript", "object", "iframe"}
_BLOCK = {"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "form", "fieldset",
          "table", "thead", "tbody", "tfoot", "ul", "ol", "dl", "dt", "dd", "blockquote", "address", "figure",
          "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "center", "details", "summary"}
_LINE = {"tr", "li"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.links: list[tuple[str, int]] = []

    def _tail(self) -> str:
        return self.out[-1][-1:] if self.out and self.out[-1] else "\n"

    def _newlines(self, count: int) -> None:
        """End the current line and make sure `count` newlines separate it from what comes next."""
        if not self.out:
            return
        have = 0
        for chunk in reversed(self.out):
            stripped = chunk.rstrip("\n")
            have += len(chunk) - len(stripped)
            if stripped:
                break
        if count > have:
            self.out.append("\n" * (count - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self._newlines(2)
        elif tag in _LINE:
            self._newlines(1)
            if tag == "li":
                self.out.append("- ")
        elif tag in ("td", "th"):
            if self._tail() not in ("\n", " "):
                self.out.append("  ")
        elif tag == "pre":
            self._newlines(2)
            self.pre += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href.strip(), len(self.out)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.handle_data(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if tag not in _VOID and self.skip:
                self.skip -= 1
            return
        if self.skip:
            return
        if tag in _BLOCK or tag == "pre":
            self._newlines(2)
            if tag == "pre" and self.pre:
                self.pre -= 1
        elif tag in _LINE:
            self._newlines(1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            target = href.removeprefix("mailto:")
            if href.startswith(("http://", "https://", "mailto:")) and target not in label:
                self.out.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre:
            self.out.append(data)
            return
        text = re.sub(r"\s+", " ", data.replace("\xa0", " "))
        if self._tail() in ("\n", " "):
            text = text.lstrip(" ")
        if text:
            self.out.append(text)


def html_to_text(html: str) -> str:
    """Readable text from HTML: paragraphs and line breaks kept, link targets shown, scripts and styles dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# -- mailboxes ---------------------------------------------------------------------------------------
Item = tuple[str, "bytes | RuleError"]


def read_file(path: Path) -> bytes:
    """One message file's bytes (refusing one too large before reading it)."""
    try:
        size = path.stat().st_size
        if size > MAX_MESSAGE_BYTES:
            raise RuleError(f"{path.name} is too large ({size} bytes; the limit is {MAX_MESSAGE_BYTES})")
        return path.read_bytes()
    except OSError as exc:
        raise RuleError(f"cannot read {path}: {exc.strerror or exc}") from None


def mbox_messages(path: Path) -> Iterator[Item]:
    """(label, raw bytes or the error reading it) for each message of an mbox file, in file order."""
    import mailbox

    if not path.is_file():
        raise RuleError(f"{path} is not an mbox file")
    try:
        box = mailbox.mbox(str(path), factory=None, create=False)
    except (OSError, mailbox.Error) as exc:
        raise RuleError(f"cannot open {path}: {exc}") from None
    try:
        for index, key in enumerate(box.iterkeys(), start=1):
            label = f"{path.name} message {index}"
            try:
                yield label, box.get_bytes(key)
            except (OSError, KeyError, ValueError) as exc:
                yield label, RuleError(f"cannot read it: {exc}")
    finally:
        box.close()  # nothing pending: closing writes nothing


def maildir_messages(path: Path) -> Iterator[Item]:
    """(label, raw bytes or the error reading it) for each message in a Maildir's new/ and cur/, oldest first
    by their unique names (which start with the delivery time). The folder is only read, never changed."""
    subdirs = [path / "new", path / "cur"]
    if not all(d.is_dir() for d in subdirs):
        raise RuleError(f"{path} is not a Maildir (it needs new/ and cur/ folders)")
    entries: list[tuple[str, Path]] = []
    for sub in subdirs:
        for entry in sub.iterdir():
            if not entry.name.startswith(".") and entry.is_file():
                entries.append((entry.name, entry))
    for _name, entry in sorted(entries):
        label = f"{entry.parent.name}/{entry.name}"
        try:
            yield label, read_file(entry)
        except RuleError as exc:  # e.g. moved by the mail syncer meanwhile: reported, the rest go on
            yield label, exc
