"""Bad files through `leaddesk import` and `leaddesk capture-email`, by the real entry point: one line on stderr
('leaddesk: FILE ...'), exit code 1, no traceback, and the database as it was. Which files are bad and why is
tests/store/test_bad_files.py; these tests are about how the command line says it (in-process, and in real
processes for the import's helper process and a zip bomb)."""

from __future__ import annotations

import io
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from badfiles import HEADER, bomb_workbook, deflated, good_rows, message, workbook_parts, write_zip
from clisupport import ANN, Cli, assert_one_line_refusal, run_process

from leaddesk.store import mail


def counts(db_path: Path) -> dict[str, int]:
    """The rows a refusal must leave as they are."""
    with sqlite3.connect(db_path) as conn:
        found = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                 for table in ("lead", "history", "activity", "import_batch", "customer")}
    conn.close()
    return found


def _quote(path: Path) -> None:
    path.write_bytes(HEADER + good_rows(600) + b'"Bob,bob@x.example.com,Bolt\nCy,cy@x.example.com,Cyan\n')


def _cut_row(path: Path) -> None:
    path.write_bytes(HEADER + good_rows(600) + b"Bob,bob@x.exa")


def _cut_character(path: Path) -> None:
    path.write_bytes("Name,Email\nZoë,zoe@x.example.com\nÅse,ase@x.example.com,Ærø".encode()[:-1])


def _image(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)


def _mixed(path: Path) -> None:
    utf8, cp1252 = "José,jose@x.example.com\n".encode(), "Zoë,zoe@x.example.com\n".encode("cp1252")
    path.write_bytes(b"Name,Email\n" + utf8 + cp1252)


def _cyrillic(path: Path) -> None:
    path.write_bytes(b"Name,Email\n" + "Иван Петров,ivan@x.example.com\n".encode("cp1251"))


def _bomb(path: Path) -> None:
    bomb_workbook(path, repeats=1100)


def _truncated(path: Path) -> None:
    write_zip(path, [deflated(name, data) for name, data in workbook_parts([["Name"], ["Ann"]]).items()])
    path.write_bytes(path.read_bytes()[:-40])


def _plain_zip(path: Path) -> None:
    write_zip(path, [deflated("notes.txt", b"hello")])


def _no_sheet(path: Path) -> None:
    parts = workbook_parts([["Name"], ["Ann"]])
    book = parts["xl/workbook.xml"]
    parts["xl/workbook.xml"] = book[:book.index(b"<sheets>")] + b"<sheets/></workbook>"
    write_zip(path, [deflated(name, data) for name, data in parts.items()])


BAD_IMPORTS: list[tuple[str, Callable[[Path], None], str]] = [
    ("quote.csv", _quote, "quote.csv line 602: a quoted value opened there is never closed (the file ends inside the"
                          " quotes): is the file cut off?; nothing was imported"),
    ("cut.csv", _cut_row, "cut.csv line 602: the file ends in the middle of a row (2 of 3 columns, and no line end):"
                          " it looks cut off; nothing was imported"),
    ("cut_char.csv", _cut_character, "cut_char.csv line 3: the file ends in the middle of a character (an"
                                     " incomplete UTF-8 sequence): it looks cut off"),
    ("image.csv", _image, "image.csv is not a CSV text file: it is a PNG image"),
    ("mixed.csv", _mixed, "mixed.csv mixes encodings: line 2 is UTF-8 but line 3 is not; save the whole file as"
                          " UTF-8"),
    ("cyrillic.csv", _cyrillic, "cyrillic.csv line 2 is neither UTF-8 nor Western European text (Windows-1252):"
                                " save the file as UTF-8"),
    ("bomb.xlsx", _bomb, "bomb.xlsx is refused as a zip bomb: its part xl/worksheets/sheet1.xml would inflate"),
    ("truncated.xlsx", _truncated, "truncated.xlsx is not a readable .xlsx file: it is not a zip archive, as an"
                                   " .xlsx is (cut off, or another format renamed?)"),
    ("plain.xlsx", _plain_zip, "plain.xlsx is not a readable .xlsx file: a zip archive, but not an Excel workbook"),
    ("no_sheet.xlsx", _no_sheet, "no_sheet.xlsx is not a readable .xlsx file: it has no sheet"),
]


@pytest.mark.parametrize(("name", "make", "said"), BAD_IMPORTS, ids=[name for name, _, _ in BAD_IMPORTS])
def test_a_bad_import_file_is_refused_in_one_line(cli: Cli, db_path: Path, tmp_path: Path, name: str,
                                                  make: Callable[[Path], None], said: str) -> None:
    cli.add(**ANN)
    path = tmp_path / name
    make(path)
    before = counts(db_path)
    line = assert_one_line_refusal(cli("import", str(path)))
    assert line.startswith(f"leaddesk: {said}"), line  # the whole line, but for the bomb's figures
    assert counts(db_path) == before
    assert not list(tmp_path.glob("*.errors.csv*"))


def test_preview_and_dry_run_refuse_a_zip_bomb_too(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    _bomb(path)
    before = counts(db_path)
    for extra in ("--preview", "--dry-run"):
        line = assert_one_line_refusal(cli("import", str(path), extra))
        assert line.startswith("leaddesk: bomb.xlsx is refused as a zip bomb: "), line
    assert counts(db_path) == before


def test_a_zip_bomb_is_refused_by_a_real_process(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    _bomb(path)
    before = counts(db_path)
    result = run_process("--db", str(db_path), "import", str(path), cwd=tmp_path)
    assert assert_one_line_refusal(result).startswith("leaddesk: bomb.xlsx is refused as a zip bomb: "), str(result)
    assert counts(db_path) == before


def test_a_fault_met_by_the_helper_process_refuses_the_whole_import(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    """6,000 rows: the import reads and checks them in its helper process, and twelve chunks are written before it
    meets the quote never closed on the last line; the refusal crosses the pipe and the transaction rolls back."""
    path = tmp_path / "many.csv"
    path.write_bytes(HEADER + good_rows(6000) + b'"Last,last@x.example.com,Co\n')
    cli.add(**ANN)
    before = counts(db_path)
    result = run_process("--db", str(db_path), "import", str(path), cwd=tmp_path)
    assert assert_one_line_refusal(result) == (
        "leaddesk: many.csv line 6002: a quoted value opened there is never closed (the file ends inside the quotes):"
        " is the file cut off?; nothing was imported"), str(result)
    assert counts(db_path) == before
    assert not list(tmp_path.glob("*.errors.csv*"))


# -- email ----------------------------------------------------------------------------------------------------------
CUT_HEADER = message()[:message().index(b"<ann@mail.") + len(b"<ann@mail.")]
BROKEN_MIME = message(headers="MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B1\"\r\n",
                      body=b"--B1\r\nContent-Type: text/plain\r\n\r\nhello, I would like a qu")
UNKNOWN_CHARSET = message(headers="MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-klingon\r\n",
                          body=b"Qapla\xe9 \xff\r\n")
BAD_MESSAGES = [
    (CUT_HEADER, "the message ends in the middle of its header (its last line has no line end): it looks cut off"),
    (BROKEN_MIME, "the message's MIME structure is broken: a multipart part is never closed: the message looks cut"
                  " off"),
    (UNKNOWN_CHARSET, "the message's text is in a charset this program does not know ('x-klingon') and is not UTF-8:"
                      " it cannot be read"),
]


@pytest.mark.parametrize(("raw", "said"), BAD_MESSAGES, ids=["cut-header", "broken-mime", "unknown-charset"])
def test_a_bad_message_file_is_refused_in_one_line(cli: Cli, db_path: Path, tmp_path: Path, raw: bytes,
                                                   said: str) -> None:
    path = tmp_path / "in.eml"
    path.write_bytes(raw)
    before = counts(db_path)
    assert assert_one_line_refusal(cli("capture-email", str(path))) == f"leaddesk: {path}: {said}"
    assert counts(db_path) == before


def test_a_cut_message_piped_in_is_refused(cli: Cli, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.TextIOWrapper(io.BytesIO(CUT_HEADER), encoding="utf-8")
    monkeypatch.setattr(stream, "isatty", lambda: False)
    monkeypatch.setattr(sys, "stdin", stream)
    before = counts(db_path)
    assert assert_one_line_refusal(cli("capture-email")) == f"leaddesk: stdin: {BAD_MESSAGES[0][1]}"
    assert counts(db_path) == before


def test_a_message_file_over_the_limit_is_refused_before_it_is_read(cli: Cli, db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "huge.eml"
    with path.open("wb") as out:  # sparse: the size is what is judged
        out.truncate(mail.MAX_MESSAGE_BYTES + 1)
    before = counts(db_path)
    assert assert_one_line_refusal(cli("capture-email", str(path))) == (
        f"leaddesk: huge.eml is too large ({mail.MAX_MESSAGE_BYTES + 1} bytes; the limit is {mail.MAX_MESSAGE_BYTES})")
    assert counts(db_path) == before


def test_a_mailbox_with_a_cut_message_captures_the_others_and_says_which_failed(cli: Cli, db_path: Path,
                                                                                tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    whole = message().replace(b"\r\n", b"\n")
    path.write_bytes(b"From ann Wed Mar  4 09:00:00 2026\n" + whole + b"\nFrom bob Wed Mar  4 09:05:00 2026\n"
                     + CUT_HEADER.replace(b"\r\n", b"\n").replace(b"Ann Lee", b"Bob"))
    result = cli("capture-email", str(path))
    assert result.code == 1 and "Traceback" not in result.err, str(result)
    assert result.err.splitlines() == [
        f"leaddesk: inbox.mbox message 2: {BAD_MESSAGES[0][1]}",
        "leaddesk: 1 message could not be captured; the others were"]
    assert result.out.splitlines()[0] == "lead #1 Ann Lee · new lead from email"
    assert counts(db_path)["lead"] == 1
