"""Capture: email messages and web-form posts become leads and timeline entries (store level)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leaddesk import clock
from leaddesk.settings import CustomField, Settings
from leaddesk.store.capture import FormRejected
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.mail import (
    MAX_BODY_CHARS,
    html_to_text,
    maildir_messages,
    mbox_messages,
    parse_message,
    quick_message_id,
)

MAIL = Path(__file__).parents[1] / "fixtures" / "mail"


def eml(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def message(*headers: str, body: str = "Hello, I am interested.", content_type: str = "text/plain") -> bytes:
    """A small message from header lines (a Date and Message-ID are not added)."""
    head = "\r\n".join(headers)
    return f"{head}\r\nContent-Type: {content_type}; charset=utf-8\r\n\r\n{body}\r\n".encode()


def activities(query: Callable[..., list[dict[str, Any]]], desk: Desk, number: int) -> list[dict[str, Any]]:
    return query(desk, "SELECT a.kind, a.body, a.at, a.message_id FROM activity a JOIN lead l ON l.id = a.lead_id"
                       " WHERE l.number = :n ORDER BY a.at, a.id", {"n": number})


# -- parsing -----------------------------------------------------------------------------------------
def test_a_plain_message_becomes_a_record() -> None:
    record = parse_message(eml("plain.eml"))
    assert (record.name, record.email) == ("Ann Lee", "Ann.Lee@Acme.example.com")
    assert record.subject == "Quote for 30 seats"
    assert record.at == "2026-03-03T08:15:00"  # 09:15 +0100 in UTC
    assert record.message_id == "<plain-1@acme.example.com>" and not record.synthetic_id
    assert record.body.startswith("Hello,\n\nwe would like a quote") and record.body.endswith("Ann Lee\nAcme")
    assert record.timeline_text().startswith("Quote for 30 seats\n\nHello,")


def test_encoded_words_and_charsets_are_decoded() -> None:
    record = parse_message(eml("encoded.eml"))
    assert record.name == "Zoë Ångström"
    assert record.subject == "Angebot für 30 Lizenzen"
    assert "wir möchten ein Angebot für 30 Lizenzen. Grüße aus Malmö" in record.body  # latin-1, quoted-printable


def test_raw_utf8_headers_are_read_as_utf8() -> None:
    record = parse_message(message("From: Jürgen Müller <j@muller.example.de>", "Subject: Grüße"))
    assert (record.name, record.subject) == ("Jürgen Müller", "Grüße")


def test_the_plain_part_of_an_alternative_is_preferred() -> None:
    record = parse_message(eml("alternative.eml"))
    assert record.body == "Plain version: we need training for 12 people."


def test_an_html_only_body_becomes_readable_text() -> None:
    record = parse_message(eml("html_only.eml"))
    assert record.body == ("Hi there,\n\nWe saw your pricing page (https://leaddesk.example/pricing) and want a demo."
                           "\nBest,\nBob\n\n- 10 users\n- 2 offices")


def test_html_to_text_drops_scripts_styles_and_keeps_structure() -> None:
    html = ("<head><title>T</title><style>p{}</style></head><body><h1>Title</h1><p>a&amp;b &lt;c&gt;&nbsp;d</p>"
            "<script>var x = '<p>no</p>';</script><table><tr><td>x</td><td>y</td></tr></table>"
            "<a href='mailto:z@z.example'>z@z.example</a> <a href='javascript:evil()'>click</a>"
            "<pre>  indented\n    more</pre><img alt='logo' src='x.png'></body>")
    assert html_to_text(html) == "Title\n\na&b <c> d\n\nx  y\n\nz@z.example click\n\n  indented\n    more\n\n[logo]"


def test_without_a_display_name_the_local_part_is_the_name() -> None:
    assert parse_message(eml("no_message_id.eml")).name == "dana.ross"
    quoted = parse_message(message('From: "kim@kite.example" <kim@kite.example>'))
    assert quoted.name == "kim"


def test_a_message_without_message_id_gets_a_stable_synthetic_one() -> None:
    first = parse_message(eml("no_message_id.eml"))
    again = parse_message(eml("no_message_id.eml"))
    other = parse_message(eml("no_message_id.eml").replace(b"non-profits", b"schools"))
    flagged = parse_message(b"Status: RO\nX-Keywords: $Seen\n" + eml("no_message_id.eml").replace(b"\n", b"\r\n"))
    assert first.synthetic_id and first.message_id == again.message_id == flagged.message_id
    assert first.message_id.endswith("@leaddesk.invalid>")
    assert other.message_id != first.message_id


@pytest.mark.parametrize("raw", [
    *(eml(name) for name in ("plain.eml", "reply.eml", "encoded.eml")),
    b"From: a@ab.example\r\nMessage-ID:\r\n <folded-\r\n id@x>\r\n\r\nbody",
    b"From: a@ab.example\nMessage-Id: <\xc3\xa9t\xc3\xa9@x>\n\nbody",
    b"From: a@ab.example\nMessage-Id: <" + b"x" * 300 + b"@x>\n\nbody",
])
def test_the_quick_message_id_is_the_one_a_full_parse_gives(raw: bytes) -> None:
    assert quick_message_id(raw) == parse_message(raw).message_id


@pytest.mark.parametrize(("raw", "reason"), [
    (b"Subject: no sender\r\n\r\nbody", "has no From: header"),
    (b"From: undisclosed-recipients\r\nSubject: x\r\n\r\nbody", "has no email address"),
    (b"From: Someone <a@b@c>\r\n\r\nbody", "email address"),
    (b"   \r\n", "empty"),
])
def test_a_message_without_a_usable_sender_is_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(RuleError, match=reason):
        parse_message(raw)


def test_the_body_is_kept_literally_without_nuls_and_size_limited() -> None:
    record = parse_message(message("From: a@ab.example", body="red \x1b[31mtext\x1b[0m\x00 done"))
    assert record.body == "red \x1b[31mtext\x1b[0m done"  # escaped when shown, not when stored
    big = parse_message(message("From: a@ab.example", body="x" * (MAX_BODY_CHARS + 5000)))
    assert big.truncated and big.body.startswith("x" * MAX_BODY_CHARS)
    assert big.body.endswith("[… 5000 more characters not kept]")


def test_dates_without_a_zone_are_utc_and_unreadable_dates_are_none() -> None:
    assert parse_message(message("From: a@ab.example", "Date: Tue, 03 Mar 2026 09:15:00 -0000")).at == \
        "2026-03-03T09:15:00"
    assert parse_message(message("From: a@ab.example", "Date: the day before yesterday")).at is None


# -- capturing email ---------------------------------------------------------------------------------
def test_a_new_sender_becomes_a_lead_with_the_email_on_its_timeline(desk: Desk, query: Any) -> None:
    outcome = desk.capture_email(eml("plain.eml"))
    assert outcome["result"] == "created"
    lead = desk.show(str(outcome["number"]))
    assert (lead["contact_name"], lead["first_name"], lead["last_name"]) == ("Ann Lee", "Ann", "Lee")
    assert lead["email"] == "Ann.Lee@Acme.example.com" and lead["source"] == "Inbound Email"
    assert lead["owner"] == "ann" and lead["status"] == "New"
    [activity] = activities(query, desk, lead["number"])
    assert activity["kind"] == "email" and activity["at"] == "2026-03-03T08:15:00"
    assert activity["body"].startswith("Quote for 30 seats\n\nHello,\n\nwe would like a quote")
    assert activity["message_id"] == "<plain-1@acme.example.com>"
    origins = {r["origin"] for r in query(desk, "SELECT origin FROM history WHERE entity = 'lead'")}
    assert origins == {"email"}


def test_a_reply_from_a_known_sender_goes_on_the_same_lead(desk: Desk, query: Any, count: Any) -> None:
    first = desk.capture_email(eml("plain.eml"))
    reply = desk.capture_email(eml("reply.eml"))  # same address, other case
    assert reply["result"] == "added" and reply["number"] == first["number"]
    assert count(desk, "lead") == 1
    bodies = [a["body"] for a in activities(query, desk, first["number"])]
    assert bodies[1].startswith("Re: Quote for 30 seats\n\nThanks, Thursday at 10 works for me.")


def test_each_message_is_captured_once(desk: Desk, count: Any, snapshot: Any) -> None:
    desk.capture_email(eml("plain.eml"))
    before = snapshot(desk)
    again = desk.capture_email(eml("plain.eml"))
    assert again["result"] == "duplicate" and again["number"] == 1
    assert snapshot(desk) == before
    desk.capture_email(eml("no_message_id.eml"))
    assert desk.capture_email(eml("no_message_id.eml"))["result"] == "duplicate"
    assert count(desk, "activity") == 2


def test_the_inbound_email_source_is_created_when_missing(desk: Desk, query: Any) -> None:
    desk.catalog_change("sources", "remove", "Inbound Email")
    assert "Inbound Email" not in [s["name"] for s in desk.catalog_list("sources")]
    desk.capture_email(eml("plain.eml"))
    assert "Inbound Email" in [s["name"] for s in desk.catalog_list("sources")]
    added = query(desk, "SELECT action, field, new FROM history WHERE entity = 'catalog' AND action = 'add'")
    assert added == [{"action": "add", "field": "sources", "new": "Inbound Email"}]


def test_the_most_recently_updated_open_lead_gets_the_email(desk: Desk) -> None:
    older = desk.add_lead({"name": "Ann Lee", "email": "ann.lee@acme.example.com"})
    newer = desk.add_lead({"name": "Ann Lee (2)", "email": "ANN.LEE@acme.example.com"}, force=True)
    clock.freeze(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    desk.edit_lead(str(older["number"]), {"company": "Acme"})
    outcome = desk.capture_email(eml("plain.eml"))
    assert outcome["result"] == "added" and outcome["number"] == older["number"] != newer["number"]


def test_a_sender_with_only_closed_leads_becomes_a_new_lead(desk: Desk) -> None:
    old = desk.add_lead({"name": "Ann Lee", "email": "ann.lee@acme.example.com"})
    desk.mark_lost(str(old["number"]), "Not a fit")
    outcome = desk.capture_email(eml("plain.eml"))
    assert outcome["result"] == "created" and outcome["number"] != old["number"]
    assert outcome["closed_lead"] == old["number"]
    assert desk.show(str(old["number"]))["activities"] == []


def test_a_returning_customer_s_new_lead_is_linked_to_the_customer(desk: Desk) -> None:
    old = desk.add_lead({"name": "Ann Lee", "company": "Acme", "email": "ann.lee@acme.example.com"})
    customer_id = desk.customer_from_lead(str(old["number"]))["customer_id"]
    desk.mark_lost(str(old["number"]), "Budget")
    outcome = desk.capture_email(eml("plain.eml"))
    assert desk.show(str(outcome["number"]))["customer_id"] == customer_id


def test_known_only_adds_to_leads_but_never_creates_one(desk: Desk, snapshot: Any) -> None:
    before = snapshot(desk)
    outcome = desk.capture_email(eml("plain.eml"), known_only=True)
    assert outcome["result"] == "skipped" and outcome["reason"] == "the sender is not a lead"
    assert snapshot(desk) == before
    desk.add_lead({"name": "Ann", "email": "ann.lee@acme.example.com"})
    assert desk.capture_email(eml("plain.eml"), known_only=True)["result"] == "added"


@pytest.mark.parametrize("header", ["Auto-Submitted: auto-replied", "List-Unsubscribe: <mailto:u@list.example>",
                                    "Precedence: bulk"])
def test_machine_sent_mail_is_skipped_unless_asked_for(desk: Desk, count: Any, header: str) -> None:
    raw = message("From: Robot <robot@news.example>", "Message-ID: <auto@news.example>", header)
    outcome = desk.capture_email(raw)
    assert outcome["result"] == "skipped" and outcome["reason"].startswith("machine-sent")
    assert count(desk, "lead") == 0
    assert desk.capture_email(raw, automated=True)["result"] == "created"


def test_a_message_without_a_date_is_dated_now(desk: Desk, query: Any) -> None:
    outcome = desk.capture_email(message("From: Lee <lee@lee.example>", "Subject: hi"))
    assert activities(query, desk, outcome["number"])[0]["at"] == "2026-11-26T12:00:00"


def test_a_malformed_message_writes_nothing(desk: Desk, snapshot: Any) -> None:
    before = snapshot(desk)
    with pytest.raises(RuleError, match="no From: header"):
        desk.capture_email(b"Subject: x\r\n\r\nbody\r\n")
    assert snapshot(desk) == before


def test_an_mbox_captures_every_message_and_reports_the_malformed_one(desk: Desk, count: Any) -> None:
    outcomes = list(desk.capture_mailbox(mbox_messages(MAIL / "three.mbox")))
    assert [o["result"] for o in outcomes] == ["created", "failed", "created"]
    assert outcomes[1]["label"] == "three.mbox message 2" and "no From: header" in outcomes[1]["error"]
    assert count(desk, "lead") == 2
    frank = desk.show("frank@fjord.example.no")
    assert frank["activities"][0]["body"] == "Meeting request\n\n>From our side, next Tuesday works."
    again = list(desk.capture_mailbox(mbox_messages(MAIL / "three.mbox")))
    assert [o["result"] for o in again] == ["duplicate", "failed", "duplicate"]


def _maildir(root: Path, messages: dict[str, bytes]) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, raw in messages.items():
        (root / name).write_bytes(raw)
    return root


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_maildir_is_scanned_for_new_messages_and_never_changed(desk: Desk, tmp_path: Path, count: Any) -> None:
    box = _maildir(tmp_path / "Mail" / "INBOX", {
        "cur/1772528100.M1P1.host:2,S": eml("plain.eml"),
        "new/1772640000.M2P2.host": eml("reply.eml"),
        "new/1772100000.M3P3.host": eml("encoded.eml"),
        "new/.hidden": b"not a message",
        "tmp/1772700000.M4P4.host": eml("html_only.eml"),  # still being delivered: not read
    })
    before = _tree(box)
    first = list(desk.capture_mailbox(maildir_messages(box)))
    assert [(o["label"], o["result"]) for o in first] == [
        ("new/1772100000.M3P3.host", "created"), ("cur/1772528100.M1P1.host:2,S", "created"),
        ("new/1772640000.M2P2.host", "added")]
    second = list(desk.capture_mailbox(maildir_messages(box)))
    assert [o["result"] for o in second] == ["duplicate"] * 3
    assert count(desk, "activity") == 3
    assert _tree(box) == before
    (box / "new" / "1772640000.M2P2.host").rename(box / "cur" / "1772640000.M2P2.host:2,S")  # read by the MUA
    (box / "new" / "1772800000.M5P5.host").write_bytes(eml("alternative.eml"))
    third = list(desk.capture_mailbox(maildir_messages(box)))
    assert sorted(o["result"] for o in third) == ["created", "duplicate", "duplicate", "duplicate"]


def test_a_folder_that_is_not_a_maildir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="is not a Maildir"):
        list(maildir_messages(tmp_path))


def test_a_crash_loses_at_most_the_message_in_flight(desk: Desk, count: Any, monkeypatch: Any) -> None:
    from leaddesk.store import leads

    real = leads.add_activity
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # killed while writing the second message
        return real(*args, **kwargs)

    monkeypatch.setattr(leads, "add_activity", flaky)
    with pytest.raises(KeyboardInterrupt):
        list(desk.capture_mailbox(mbox_messages(MAIL / "three.mbox")))
    assert count(desk, "lead") == 1 and count(desk, "activity") == 1  # the first message, whole
    monkeypatch.setattr(leads, "add_activity", real)
    rerun = list(desk.capture_mailbox(mbox_messages(MAIL / "three.mbox")))
    assert [o["result"] for o in rerun] == ["duplicate", "failed", "created"]


# -- web forms ---------------------------------------------------------------------------------------
FORM = {"Your Name": "Gina Holt", "E-mail": "gina@holt.example", "Phone": "+1 212 555 0142",
        "Company Name": "Holt & Co", "Message": "Please call me about 20 seats."}


def test_a_form_post_becomes_a_website_form_lead(desk: Desk) -> None:
    lead = desk.intake_lead(FORM)
    assert (lead["contact_name"], lead["email"], lead["company"]) == ("Gina Holt", "gina@holt.example", "Holt & Co")
    assert lead["phone_e164"] == "+12125550142" and lead["source"] == "Website Form"
    assert lead["description"] == "Please call me about 20 seats."


def test_unknown_and_internal_fields_are_kept_in_the_description(desk: Desk) -> None:
    lead = desk.intake_lead({**FORM, "utm_term": "crm software", "Budget range": "5-10k", "owner": "ann",
                             "status": "Qualified", "priority": "urgent", "empty": " "})
    assert lead["owner"] == "ann" and lead["status"] == "New" and lead["priority"] == 0
    assert lead["description"] == ("Please call me about 20 seats.\n\nowner: ann\nstatus: Qualified\n"
                                   "priority: urgent\nutm_term: crm software\nBudget range: 5-10k")


def test_a_posted_source_is_used_only_when_the_desk_knows_it(desk: Desk, count: Any) -> None:
    assert desk.intake_lead({**FORM, "Lead Source": "referral"})["source"] == "Referral"
    sources = count(desk, "source")
    lead = desk.intake_lead({**FORM, "E-mail": "gina.p@holt.example", "Phone": "+1 212 555 0147",
                             "How did you hear about us": "Podcast"})
    assert (lead["source"], lead["source_detail"]) == ("Website Form", "Podcast")
    assert count(desk, "source") == sources


def test_the_website_form_source_is_created_when_missing(desk: Desk) -> None:
    desk.catalog_change("sources", "remove", "Website Form")
    assert desk.intake_lead(FORM)["source"] == "Website Form"


def test_a_bad_post_is_refused_with_every_reason_and_writes_nothing(desk: Desk, snapshot: Any) -> None:
    desk.catalog_change("sources", "remove", "Website Form")
    before = snapshot(desk)
    with pytest.raises(FormRejected) as refused:
        desk.intake_lead({**FORM, "E-mail": "gina@", "contact method": "Pigeon"})
    assert len(refused.value.errors) == 2
    assert set(refused.value.fields) == {"email", "contact_method"}
    assert "gina@" in refused.value.fields["email"]
    assert snapshot(desk) == before  # not even the source


def test_a_post_without_a_name_or_company_is_refused(desk: Desk) -> None:
    with pytest.raises(FormRejected, match="needs a contact name or a company"):
        desk.intake_lead({"email": "x@x.example"})


def test_nul_characters_in_a_post_are_refused(desk: Desk) -> None:
    with pytest.raises(FormRejected, match="NUL"):
        desk.intake_lead({**FORM, "note": "a\x00b"})


def test_custom_fields_from_settings_can_be_posted(open_desk: Any) -> None:
    settings = Settings(custom_fields={"industry": CustomField("industry", "choice", choices=("Retail", "Health"))})
    desk = open_desk(settings=settings, preset="sales")
    assert desk.intake_lead({**FORM, "Industry": "health"})["custom"] == {"industry": "Health"}
    with pytest.raises(FormRejected) as refused:
        desk.intake_lead({**FORM, "Industry": "Mining"})
    assert list(refused.value.fields) == ["custom.industry"]


def test_file_permissions_are_untouched_by_an_mbox_read(tmp_path: Path, desk: Desk) -> None:
    box = tmp_path / "read-only.mbox"
    box.write_bytes((MAIL / "three.mbox").read_bytes())
    box.chmod(0o444)
    stamp = box.stat().st_mtime_ns
    results = [o["result"] for o in desk.capture_mailbox(mbox_messages(box))]
    assert results == ["created", "failed", "created"]
    assert box.stat().st_mtime_ns == stamp and oct(box.stat().st_mode & 0o777) == "0o444"
    if os.geteuid() != 0:
        assert not os.access(box, os.W_OK)


def test_a_message_captured_by_another_process_meanwhile_is_a_duplicate(desk: Desk, count: Any,
                                                                        monkeypatch: Any) -> None:
    """Two capture runs racing on one message: the unique Message-ID decides, the loser reports a duplicate."""
    from leaddesk.store import capture

    desk.capture_email(eml("plain.eml"))
    real = capture.captured
    calls = {"n": 0}

    def not_yet(tx: Any, message_id: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] <= 2 else real(tx, message_id)  # both checks ran before the other one committed

    monkeypatch.setattr(capture, "captured", not_yet)
    outcome = desk.capture_email(eml("plain.eml"))
    assert outcome["result"] == "duplicate" and outcome["number"] == 1
    assert calls["n"] == 3  # the quick check, the check in the transaction, the look after the unique index refused
    assert count(desk, "activity") == 1
