"""Bad files through the store: truncated and malformed CSV, XLSX and email, wrong encodings, a zip bomb disguised
as .xlsx, and a large file read as a stream with flat memory.

Every bad file gets one clear line (a RuleError naming the file, and the line where there is one) or a correct
import, never a traceback; and a refusal leaves the desk as it was: no lead, no history row, no import batch, no
error file, also when the fault is met after two chunks of good rows were written (`HALF`). What is decided where
a file is ambiguous (an encoding, a last row without a line end) is in leaddesk/store/sniffing.py and tabular.py.
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from badfiles import (
    HEADER,
    SHEET,
    Part,
    bomb_workbook,
    deflated,
    good_rows,
    message,
    workbook_parts,
    write_large_csv,
    write_zip,
)
from importfiles import read_csv

from leaddesk.store import mail, tabular
from leaddesk.store.desk import Desk
from leaddesk.store.errors import RuleError
from leaddesk.store.import_report import error_path_for
from leaddesk.store.queries import LeadFilter

HALF = 1200  # good rows before a fault: two chunks of 500 are written before it is met (all in one transaction)

Snapshot = Callable[[Desk], dict[str, Any]]


@pytest.fixture
def unchanged(snapshot: Snapshot, count: Callable[..., int]) -> Callable[[Desk], Any]:
    """`state = unchanged(desk)` before, `assert unchanged(desk) == state` after: every table a refusal must
    leave alone (leads, history, activities, customers...), the import batches and each lead's row."""
    return lambda desk: (snapshot(desk), count(desk, "import_batch"))


def import_refused(desk: Desk, path: Path, unchanged: Callable[[Desk], Any], *fragments: str, **options: Any) -> str:
    """Import `path`: refused with one line naming the file and holding `fragments`, nothing written, no error
    file left (nor its .part); return the line."""
    before = unchanged(desk)
    with pytest.raises(RuleError) as caught:
        desk.import_leads(str(path), **options)
    said = str(caught.value)
    assert said.startswith(path.name) and "\n" not in said, said
    for fragment in fragments:
        assert fragment in said, said
    assert unchanged(desk) == before
    errors = error_path_for(path)
    assert not errors.exists() and not errors.with_name(errors.name + ".part").exists()
    return said


def names(desk: Desk) -> list[str]:
    return [r["contact_name"] for r in desk.list_leads(LeadFilter(limit=None, sort="number"))]


# -- CSV: cut off, malformed, not text ------------------------------------------------------------------------------
@pytest.mark.parametrize("before", [0, HALF])
def test_a_quote_never_closed_refuses_the_whole_file(desk: Desk, tmp_path: Path, unchanged: Any, before: int) -> None:
    """Without the check, csv reads the rest of the file as one value: a lead named with every line after it."""
    path = tmp_path / "quote.csv"
    path.write_bytes(HEADER + good_rows(before) + b'"Bob,bob@x.example.com,Bolt\nCy,cy@x.example.com,Cyan\n')
    import_refused(desk, path, unchanged, f"quote.csv line {before + 2}: a quoted value opened there is never closed",
                   "is the file cut off?; nothing was imported")
    path.write_bytes(b'"Name,Email\nAnn,ann@x.example.com\n')
    import_refused(desk, path, unchanged, "quote.csv line 1: a quoted value opened there is never closed")


def test_a_file_cut_in_the_middle_of_a_row_is_refused(desk: Desk, tmp_path: Path, unchanged: Any) -> None:
    """The last row has fewer cells than the header and no line end: its last value is most likely cut (here an
    email that would be stored as bob@x.exa)."""
    path = tmp_path / "cut.csv"
    path.write_bytes(HEADER + good_rows(HALF) + b"Bob,bob@x.exa")
    import_refused(desk, path, unchanged, f"cut.csv line {HALF + 2}: the file ends in the middle of a row (2 of 3"
                   " columns, and no line end): it looks cut off; nothing was imported")


def test_a_last_row_without_a_line_end_imports_when_it_is_whole_or_the_file_is_ragged(desk: Desk,
                                                                                      tmp_path: Path) -> None:
    whole = tmp_path / "whole.csv"
    whole.write_bytes(HEADER + b"Ann,ann@x.example.com,Acme\nBob,bob@x.example.com,Bolt")
    assert desk.import_leads(str(whole))["imported"] == 2
    assert desk.show("bob@x.example.com")["company"] == "Bolt"
    short_with_line_end = tmp_path / "short.csv"
    short_with_line_end.write_bytes(HEADER + b"Cy,cy@x.example.com\n")
    assert desk.import_leads(str(short_with_line_end))["imported"] == 1
    ragged = tmp_path / "ragged.csv"  # an earlier row is short too: a short last row is this file's style
    ragged.write_bytes(HEADER + b"Di,di@x.example.com\nEd,ed@x.example.com,Edco\nFi,fi@x.example.com")
    assert desk.import_leads(str(ragged))["imported"] == 3
    blank_tail = tmp_path / "blank_tail.csv"  # a last line of spaces without a line end is a blank row
    blank_tail.write_bytes(HEADER + b"Gil,gil@x.example.com,Gco\n   ")
    summary = desk.import_leads(str(blank_tail))
    assert (summary["read"], summary["imported"]) == (1, 1)
    assert names(desk) == ["Ann", "Bob", "Cy", "Di", "Ed", "Fi", "Gil"]


@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
def test_a_file_cut_in_the_middle_of_a_character_is_refused(desk: Desk, tmp_path: Path, unchanged: Any,
                                                            codec: str) -> None:
    """Read as Windows-1252, the UTF-8 file would have imported every accented name as mojibake (Zoë as ZoÃ«)."""
    path = tmp_path / "cut_char.csv"
    text = "Name,Email,Company\nZoë,zoe@x.example.com,Fjord\nÅse,ase@x.example.com,Ærø"
    path.write_bytes(text.encode(codec)[:-1])
    import_refused(desk, path, unchanged, "cut_char.csv line 3: the file ends in the middle of a character",
                   "it looks cut off")


def test_ragged_rows_are_padded_or_keep_their_extra_cells(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes(HEADER + b'Ann,ann@x.example.com\nBob,bob@x.example.com,Bolt,extra,"more, quoted"\n,,\n\n'
                     b"Cy,cy@x.example.com,Cyan\n")
    summary = desk.import_leads(str(path))
    assert (summary["read"], summary["imported"], summary["rejected"]) == (3, 3, 0)  # blank rows are not rows
    assert desk.show("ann@x.example.com")["company"] is None
    bob = desk.show("bob@x.example.com")
    assert (bob["company"], bob["description"]) == ("Bolt", "column 4: extra\ncolumn 5: more, quoted")  # nothing lost
    assert desk.show("cy@x.example.com")["company"] == "Cyan"


def test_a_header_only_file_imports_nothing(desk: Desk, tmp_path: Path, count: Any) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes(HEADER)
    summary = desk.import_leads(str(path))
    assert (summary["read"], summary["imported"], summary["error_file"]) == (0, 0, None)
    assert count(desk, "lead") == 0 and not error_path_for(path).exists()


@pytest.mark.parametrize("data", [b"", b"\n\n\n", b" ,  ,\r\n", b"\xef\xbb\xbf", b"\x1c" * 5000],
                         ids=["empty", "line-ends", "blank-header", "bom-only", "control-characters"])
def test_a_file_without_a_header_is_refused(desk: Desk, tmp_path: Path, unchanged: Any, data: bytes) -> None:
    path = tmp_path / "nothing.csv"
    path.write_bytes(data)
    import_refused(desk, path, unchanged, "nothing.csv is empty: the first line must name the columns")


def _binary_files() -> list[tuple[bytes, str]]:
    noise = random.Random(7).randbytes(4096)
    assert b"\x00" in noise and not noise.startswith((b"\xff\xfe", b"\xfe\xff"))
    book = io.BytesIO()
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise, "it is a PNG image"),
            (b"%PDF-1.7\n" + noise, "it is a PDF document"),
            (book.getvalue(), "it is a zip archive (an .xlsx workbook? then name it .xlsx)"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + noise, "it is an old Office file (save it as .csv)"),
            (noise, "holds NUL bytes and the file is not UTF-8 (binary data, or UTF-16 without a byte order mark")]


@pytest.mark.parametrize(("data", "said"), _binary_files(), ids=["png", "pdf", "zip", "xls", "noise"])
def test_a_binary_file_named_csv_is_refused(desk: Desk, tmp_path: Path, unchanged: Any, data: bytes,
                                           said: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    import_refused(desk, path, unchanged, "leads.csv is not a CSV text file: ", said)


def test_nul_bytes_in_a_text_file_reject_only_their_rows(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(HEADER + b"Ann\x00Lee,ann@x.example.com,Acme\nBob,bob@x.example.com,Bo\x00lt\n"
                     b"Cy,cy@x.example.com,Cyan\n")
    summary = desk.import_leads(str(path))
    assert (summary["imported"], summary["rejected"]) == (1, 2)
    assert [(p["line"], p["reason"]) for p in summary["problems"]] == [
        (2, "Contact name contains a NUL character"), (3, "Company contains a NUL character")]
    assert names(desk) == ["Cy"]
    assert [row[:3] for row in read_csv(error_path_for(path))[1:]] == [["Ann\x00Lee", "ann@x.example.com", "Acme"],
                                                                        ["Bob", "bob@x.example.com", "Bo\x00lt"]]


def test_a_value_over_the_field_size_limit_is_refused(desk: Desk, tmp_path: Path, unchanged: Any) -> None:
    """A quoted value over many short lines, longer in all than csv's field size limit (`MAX_LINE_CHARS`)."""
    path = tmp_path / "field.csv"
    lines = tabular.MAX_LINE_CHARS // 1000 + 1
    with path.open("wb") as out:
        out.write(HEADER + good_rows(HALF) + b'Big,big@x.example.com,"')
        for _ in range(lines):
            out.write(b"y" * 999 + b"\n")
        out.write(b'"\nAfter,after@x.example.com,Co\n')
    import_refused(desk, path, unchanged, f"field.csv line {HALF + 2}: field larger than field limit"
                   f" ({tabular.MAX_LINE_CHARS})", "nothing was imported")


def test_a_line_over_the_limit_is_refused_without_reading_it_whole(desk: Desk, tmp_path: Path,
                                                                    unchanged: Any) -> None:
    path = tmp_path / "line.csv"
    with path.open("wb") as out:
        out.write(HEADER + good_rows(HALF) + b"Big,big@x.example.com,")
        out.write(b"y" * (tabular.MAX_LINE_CHARS + 10))
        out.write(b"\nAfter,after@x.example.com,Co\n")
    import_refused(desk, path, unchanged, f"line.csv line {HALF + 2} is longer than 16,777,216 characters",
                   "nothing was imported")


def test_a_very_long_line_under_the_limit_rejects_only_its_row(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(HEADER + b"Ann,ann@x.example.com,Acme\nBob,bob@x.example.com," + b"y" * 2_000_000
                     + b"\nCy,cy@x.example.com,Cyan\n")
    summary = desk.import_leads(str(path))
    assert (summary["imported"], summary["rejected"]) == (2, 1)
    assert summary["problems"][0]["reason"] == "Company is too long (2000000 characters; the limit is 1000)"
    assert names(desk) == ["Ann", "Cy"]
    assert read_csv(error_path_for(path))[1][2] == "y" * 2_000_000  # the row as it was, to fix


# -- CSV: encodings -------------------------------------------------------------------------------------------------
PEOPLE = ["Zoë Ærø", "Wisła Łódź", "Иван Петров", "山田 太郎", "Fan 🎉 Club"]


@pytest.mark.parametrize(("bom", "codec"), [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                                            (b"\xfe\xff", "utf-16-be")], ids=["utf-8", "utf-16-le", "utf-16-be"])
def test_unicode_with_a_byte_order_mark_imports_exactly(desk: Desk, tmp_path: Path, bom: bytes, codec: str) -> None:
    path = tmp_path / "bom.csv"
    text = "Name,Email\r\n" + "".join(f"{name},p{i}@x.example.com\r\n" for i, name in enumerate(PEOPLE))
    path.write_bytes(bom + text.encode(codec))
    summary = desk.import_leads(str(path))
    assert (summary["imported"], summary["notes"]) == (len(PEOPLE), [])
    assert names(desk) == PEOPLE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_with_a_note(desk: Desk, tmp_path: Path, codec: str) -> None:
    path = tmp_path / "nobom.csv"
    text = "Name,Email\n" + "".join(f"{name},p{i}@x.example.com\n" for i, name in enumerate(PEOPLE))
    path.write_bytes(text.encode(codec))
    summary = desk.import_leads(str(path))
    assert summary["notes"] == [f"nobom.csv has no byte order mark: read as UTF-16 ({codec[-2:].upper()})"]
    assert names(desk) == PEOPLE


def test_western_8bit_text_is_read_as_windows_1252_with_a_warning(desk: Desk, tmp_path: Path) -> None:
    """Apostrophes, dashes, a middle dot and a no-break space inside words are Western text, not mojibake."""
    people = ["Seán O’Brien", "Smith–Jones", "Größe GmbH", "Ação Lda", "Col·legi Olé", "Café\xa0Noël"]
    path = tmp_path / "western.csv"
    path.write_bytes(("Name,Email\r\n" + "".join(f"{n},p{i}@x.example.com\r\n" for i, n in enumerate(people)))
                     .encode("cp1252"))
    summary = desk.import_leads(str(path))
    assert summary["notes"] == ["western.csv is not UTF-8: read as Windows-1252 (cp1252); check accented names"]
    assert names(desk) == people


@pytest.mark.parametrize(("name", "codec"), [("Иван Петров", "cp1251"), ("Wisła sp. z o.o.", "cp1250"),
                                             ("Αθήνα", "cp1253"), ("René Lévêque", "cp850")])
def test_8bit_text_that_does_not_read_as_western_is_refused(desk: Desk, tmp_path: Path, unchanged: Any, name: str,
                                                            codec: str) -> None:
    """Read as Windows-1252 these would be stored as Èâàí Ïåòðîâ, Wis³a, ÁèŞíá, Ren‚ L‚vˆque."""
    path = tmp_path / "codepage.csv"
    path.write_bytes(b"Name,Email\nAnn,ann@x.example.com\n" + name.encode(codec) + b",p@x.example.com\n")
    import_refused(desk, path, unchanged, "codepage.csv line 3 is neither UTF-8 nor Western European text"
                   " (Windows-1252): save the file as UTF-8")


@pytest.mark.parametrize("utf8_first", [True, False])
def test_a_file_that_mixes_encodings_is_refused_naming_both_lines(desk: Desk, tmp_path: Path, unchanged: Any,
                                                                  utf8_first: bool) -> None:
    utf8, cp1252 = "José Müller,jose@x.example.com\n".encode(), "Zoë Crème,zoe@x.example.com\n".encode("cp1252")
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"Name,Email\n" + good_rows(HALF).replace(b",Co ", b"-") + (utf8 + cp1252 if utf8_first
                                                                                  else cp1252 + utf8))
    first, second = (HALF + 2, HALF + 3) if utf8_first else (HALF + 3, HALF + 2)
    import_refused(desk, path, unchanged, f"mixed.csv mixes encodings: line {first} is UTF-8 but line {second} is"
                   " not; save the whole file as UTF-8")


# -- XLSX -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    """A valid workbook of HALF leads (the sheet's XML is over 100 kB)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Email", "Company"])
    for i in range(HALF):
        sheet.append([f"Person {i}", f"p{i}@rows.example.com", f"Co {i}"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("keep", [0.5, -10, 100], ids=["half", "all-but-10-bytes", "100-bytes"])
def test_a_truncated_xlsx_is_refused(desk: Desk, workbook: Path, unchanged: Any, keep: float) -> None:
    data = workbook.read_bytes()
    workbook.write_bytes(data[:int(len(data) * keep)] if isinstance(keep, float) else data[:keep])
    import_refused(desk, workbook, unchanged, "book.xlsx is not a readable .xlsx file: it is not a zip archive, as an"
                   " .xlsx is (cut off, or another format renamed?)")


def test_a_damaged_part_met_half_way_leaves_nothing_imported(desk: Desk, workbook: Path, unchanged: Any) -> None:
    """The sheet's stored bytes garbled two thirds of the way in: the first chunks import, then inflating (or the
    part's CRC) fails: the whole import is rolled back."""
    with zipfile.ZipFile(workbook) as archive:
        info = archive.getinfo(SHEET)
    data = bytearray(workbook.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size * 2 // 3
    data[middle:middle + 64] = bytes(64)
    workbook.write_bytes(bytes(data))
    import_refused(desk, workbook, unchanged, "book.xlsx is not a readable .xlsx file: ", "nothing was imported")


def test_a_zip_that_is_not_a_workbook_is_refused(desk: Desk, tmp_path: Path, unchanged: Any) -> None:
    plain = write_zip(tmp_path / "plain.xlsx", [deflated("notes.txt", b"hello")])
    import_refused(desk, plain, unchanged, "plain.xlsx is not a readable .xlsx file: a zip archive, but not an Excel"
                   " workbook")
    document = write_zip(tmp_path / "document.xlsx", [deflated("[Content_Types].xml", (
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override'
        b' PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument'
        b'.wordprocessingml.document.main+xml"/></Types>')), deflated("word/document.xml", b"<document/>")])
    import_refused(desk, document, unchanged, "document.xlsx is not a readable .xlsx file: File contains no valid"
                   " workbook part")


def _malformed(parts: dict[str, bytes], fault: str) -> dict[str, bytes]:
    broken = dict(parts)
    if fault == "no-sheet":
        book = broken["xl/workbook.xml"]
        broken["xl/workbook.xml"] = book[:book.index(b"<sheets>")] + b"<sheets/></workbook>"
    elif fault == "bad-attribute":
        broken["xl/styles.xml"] = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                   b'<numFmts count="1"><numFmt numFmtId="abc" formatCode="0"/></numFmts></styleSheet>')
    elif fault == "styles-not-xml":
        broken["xl/styles.xml"] = b"\x00\x01 not xml"
    else:  # an undefined entity after HALF good rows: met half way through the import
        broken[SHEET] = broken[SHEET].replace(
            b"</sheetData>", b'<row><c t="inlineStr"><is><t>Bad &bogus;</t></is></c></row></sheetData>')
    return broken


@pytest.mark.parametrize(("fault", "said"), [
    ("no-sheet", "it has no sheet"), ("bad-attribute", "expected <class 'int'>"),
    ("styles-not-xml", "not well-formed (invalid token)"),
    ("sheet-xml-half-way", "undefined entity: line 1, column "),
], ids=["no-sheet", "bad-attribute", "styles-not-xml", "sheet-xml-half-way"])
def test_a_malformed_workbook_is_refused_in_one_line(desk: Desk, workbook: Path, unchanged: Any, fault: str,
                                                     said: str) -> None:
    with zipfile.ZipFile(workbook) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    write_zip(workbook, [deflated(name, data) for name, data in _malformed(parts, fault).items()])
    line = import_refused(desk, workbook, unchanged, "book.xlsx is not a readable .xlsx file: ", said)
    assert line.endswith("nothing was imported") == (fault == "sheet-xml-half-way")


def test_the_bomb_layout_is_a_workbook_openpyxl_reads(desk: Desk, tmp_path: Path) -> None:
    """The zip bombs below are this workbook with more rows: what refuses them is the guard, not their layout."""
    path = tmp_path / "small.xlsx"
    bomb_workbook(path, repeats=2, block_rows=3)
    assert desk.import_leads(str(path))["imported"] == 6
    assert names(desk) == ["Bomb Lead"] * 6


def test_a_zip_bomb_is_refused_before_openpyxl_reads_anything(desk: Desk, tmp_path: Path, unchanged: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    path = tmp_path / "bomb.xlsx"
    inflated = bomb_workbook(path, repeats=1100)
    assert inflated > 1 << 30 and path.stat().st_size < 8 << 20  # over a gigabyte of XML in a few megabytes

    def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl was given a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_run)
    line = import_refused(desk, path, unchanged, "bomb.xlsx is refused as a zip bomb: its part xl/worksheets/sheet1.xml"
                          " would inflate", f"(to {inflated:,} bytes; the limit is {tabular.XLSX_MAX_RATIO})")
    for refused_too in (lambda: desk.workbook_sheets(str(path)), lambda: desk.preview_import(str(path))):
        with pytest.raises(RuleError) as caught:
            refused_too()
        assert str(caught.value) == line


def test_a_workbook_over_the_inflated_limit_is_refused(desk: Desk, tmp_path: Path, unchanged: Any) -> None:
    """Parts that each inflate at an ordinary ratio, but to more than `XLSX_MAX_INFLATED` in all. (The stored bytes
    are noise: the guard refuses from the zip's directory, so they are never inflated.)"""
    parts = [deflated(name, data) for name, data in workbook_parts([["Name"]]).items() if name != SHEET]
    stored = random.Random(3).randbytes(3 << 20)
    declared = tabular.XLSX_MAX_INFLATED + (50 << 20)
    assert declared / len(stored) < tabular.XLSX_MAX_RATIO
    path = write_zip(tmp_path / "huge.xlsx", [*parts, Part(SHEET, stored, declared, 0)])
    import_refused(desk, path, unchanged, "huge.xlsx would inflate to ", f"(the limit for an .xlsx is"
                   f" {tabular.XLSX_MAX_INFLATED:,}): save it as .csv, which has no limit")


def test_a_zip_that_lies_about_its_sizes_inflates_no_further_than_it_says(desk: Desk, tmp_path: Path,
                                                                         unchanged: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The sheet says it inflates to 60,000 bytes (with the CRC of those bytes): the guard lets it through, and the
    bytes actually inflated stop there, not at the gigabyte its stream holds; the XML cut short is refused."""
    path = tmp_path / "liar.xlsx"
    assert bomb_workbook(path, repeats=1100, declared=60_000) > 1 << 30
    inflated: dict[str, int] = {}
    real = zipfile._get_decompressor  # type: ignore[attr-defined]

    def counting(method: int) -> Any:
        inner = real(method)

        class Counted:
            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

            def decompress(self, data: bytes, *limit: int) -> bytes:
                out = inner.decompress(data, *limit)
                inflated["bytes"] = inflated.get("bytes", 0) + len(out)
                return bytes(out)

            def flush(self) -> bytes:
                out = inner.flush()
                inflated["bytes"] = inflated.get("bytes", 0) + len(out)
                return bytes(out)

        return Counted()

    monkeypatch.setattr(zipfile, "_get_decompressor", counting)
    import_refused(desk, path, unchanged, "liar.xlsx is not a readable .xlsx file: ")
    assert 0 < inflated["bytes"] < 1 << 20  # the sheet's 60,000 bytes and the other (small) parts


@pytest.mark.parametrize(("part", "said"), [
    (Part(SHEET, b"x" * 64, 64, 0, flags=0x1), "its part xl/worksheets/sheet1.xml is encrypted"),
    (Part(SHEET, b"BZh91AY&SY" + bytes(54), 64, 0, method=12), "is compressed in a way Excel never writes"),
], ids=["encrypted", "bzip2"])
def test_parts_no_excel_file_holds_are_refused(desk: Desk, tmp_path: Path, unchanged: Any, part: Part,
                                               said: str) -> None:
    """zipfile would ask for a password (RuntimeError), or inflate bzip2 without the bound deflate has."""
    parts = [deflated(name, data) for name, data in workbook_parts([["Name"]]).items() if name != SHEET]
    path = write_zip(tmp_path / "odd.xlsx", [*parts, part])
    import_refused(desk, path, unchanged, "odd.xlsx is not a readable .xlsx file: ", said)


# -- email ----------------------------------------------------------------------------------------------------------
def capture_refused(desk: Desk, raw: bytes, unchanged: Callable[[Desk], Any], *fragments: str) -> str:
    """Capture `raw`: refused in one line holding `fragments`, nothing written (no lead, activity, history)."""
    before = unchanged(desk)
    with pytest.raises(RuleError) as caught:
        desk.capture_email(raw)
    said = str(caught.value)
    assert "\n" not in said
    for fragment in fragments:
        assert fragment in said, said
    assert unchanged(desk) == before
    return said


def timeline(desk: Desk, ref: str) -> list[str]:
    return [a["body"] for a in desk.show(ref)["activities"]]


@pytest.mark.parametrize("cut_after", [b"<ann@mail.", b"Subject: Quo", b"Content-Type: text/pl"])
def test_a_message_cut_in_its_header_is_refused(desk: Desk, unchanged: Any, cut_after: bytes) -> None:
    """Captured, the first would have made a lead with the email ann@mail (the rest of the address cut off)."""
    raw = message()
    cut = raw[:raw.index(cut_after) + len(cut_after)]
    capture_refused(desk, cut, unchanged, "the message ends in the middle of its header", "it looks cut off")


def test_a_message_without_a_body_is_captured(desk: Desk) -> None:
    header_only = message().split(b"\r\n\r\n")[0] + b"\r\n"
    assert desk.capture_email(header_only)["result"] == "created"
    assert timeline(desk, "ann@mail.example.com") == ["Quote please"]
    empty_body = message("Bob <bob@mail.example.com>", subject="", body=b"")
    assert desk.capture_email(empty_body)["result"] == "created"
    assert timeline(desk, "bob@mail.example.com") == ["(no subject)"]


MULTIPART = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{}\"\r\n"


@pytest.mark.parametrize(("headers", "body", "said"), [
    (MULTIPART.format("B1"), b"--B1\r\nContent-Type: text/plain\r\n\r\nhello, I would like a qu",
     "a multipart part is never closed: the message looks cut off"),
    (MULTIPART.format("OUT"), b"--OUT\r\nContent-Type: multipart/alternative; boundary=\"IN\"\r\n\r\n--IN\r\n"
     b"Content-Type: text/plain\r\n\r\nhello\r\n--IN\r\nContent-Type: text/html\r\n\r\n<p>hel",
     "a multipart part is never closed: the message looks cut off"),
    ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n",
     b"--B1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B1--\r\n", "a multipart part names no boundary"),
    (MULTIPART.format("AAA"), b"--BBB\r\nContent-Type: text/plain\r\n\r\nhello\r\n--BBB--\r\n",
     "no part starts with the boundary its Content-Type names"),
], ids=["cut-in-a-part", "cut-in-a-nested-part", "no-boundary", "wrong-boundary"])
def test_broken_mime_boundaries_are_refused(desk: Desk, unchanged: Any, headers: str, body: bytes, said: str) -> None:
    """Captured, these would have lost their text (no part found) or kept a cut one."""
    capture_refused(desk, message(headers=headers, body=body), unchanged,
                    f"the message's MIME structure is broken: {said}")


def test_a_whole_multipart_message_without_a_last_line_end_is_captured(desk: Desk) -> None:
    raw = message(headers=MULTIPART.format("B1"), body=b"--B1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B1--")
    assert desk.capture_email(raw)["result"] == "created"
    assert timeline(desk, "ann@mail.example.com") == ["Quote please\n\nhello"]


def test_an_unknown_charset_is_read_as_utf8_or_refused(desk: Desk, unchanged: Any) -> None:
    klingon = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-klingon\r\n"
    capture_refused(desk, message(headers=klingon, body=b"Qapla\xe9 \xff\r\n"), unchanged,
                    "the message's text is in a charset this program does not know ('x-klingon') and is not UTF-8")
    desk.capture_email(message(headers=klingon, body="Qaplá’ 🎉\r\n".encode()))
    assert timeline(desk, "ann@mail.example.com") == ["Quote please\n\nQaplá’ 🎉"]


def test_bytes_the_declared_charset_cannot_decode_show_as_replacement_characters(desk: Desk) -> None:
    """As in every mail program: the message is kept, the bytes that cannot be read are marked, nothing guessed."""
    desk.capture_email(message(body=b"budget \xff\xfe ok\r\n"))
    assert timeline(desk, "ann@mail.example.com") == ["Quote please\n\nbudget \ufffd\ufffd ok"]


def test_a_sender_name_in_an_unknown_charset_gives_way_to_the_address(desk: Desk) -> None:
    outcome = desk.capture_email(message(sender="=?x-klingon?q?Q=E9?= <worf@mail.example.com>"))
    assert (outcome["result"], outcome["name"]) == ("created", "worf")
    assert desk.show("worf@mail.example.com")["contact_name"] == "worf"  # not "Q\ufffd"


def test_a_huge_attachment_only_message_is_captured_without_its_attachment(desk: Desk) -> None:
    attachment = base64.encodebytes(random.Random(5).randbytes(12 << 20))
    raw = message(subject="Our floor plans", headers=MULTIPART.format("B1"), body=(
        b"--B1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"plans.pdf\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"\r\n--B1--\r\n"))
    assert 16 << 20 < len(raw) < mail.MAX_MESSAGE_BYTES
    assert desk.capture_email(raw)["result"] == "created"
    assert timeline(desk, "ann@mail.example.com") == ["Our floor plans"]


def test_a_message_over_the_size_limit_is_refused_before_it_is_parsed(desk: Desk, unchanged: Any,
                                                                      tmp_path: Path) -> None:
    raw = message(body=b"x" * (mail.MAX_MESSAGE_BYTES + 1))
    capture_refused(desk, raw, unchanged, f"the message is too large ({len(raw)} bytes; the limit is"
                    f" {mail.MAX_MESSAGE_BYTES})")
    path = tmp_path / "big.eml"
    path.write_bytes(raw)
    with pytest.raises(RuleError, match=rf"^big\.eml is too large \({len(raw)} bytes"):
        mail.read_file(path)


def test_a_mailbox_whose_last_message_is_cut_captures_the_others(desk: Desk, tmp_path: Path, count: Any) -> None:
    path = tmp_path / "inbox.mbox"
    whole = message().replace(b"\r\n", b"\n")
    cut = message("Bob <bob@mail.example.com>", subject="Cut").replace(b"\r\n", b"\n")
    path.write_bytes(b"From ann Wed Mar  4 09:00:00 2026\n" + whole + b"\nFrom bob Wed Mar  4 09:05:00 2026\n"
                     + cut[:cut.index(b"mail.example.com>")])
    outcomes = list(desk.capture_mailbox(mail.mbox_messages(path)))
    assert [o["result"] for o in outcomes] == ["created", "failed"]
    assert outcomes[1]["error"].startswith("the message ends in the middle of its header")
    assert names(desk) == ["Ann Lee"] and count(desk, "activity") == 1


# -- a large file: streamed, with flat memory -----------------------------------------------------------------------
MEASURE = r"""
import json, resource, sys
from leaddesk.settings import Settings
from leaddesk.store import fields, import_rows, import_worker, importing, tabular  # loaded before the first measure
from leaddesk.store.desk import Desk

def kb(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key))

desk = Desk.open(sys.argv[1], login="ann", settings=Settings())
start = kb("VmRSS:")
summary = desk.import_leads(sys.argv[2])
desk.close()
print(json.dumps({"summary": summary, "start": start, "peak": kb("VmHWM:"),
                  "helper": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def import_in_a_process(db: str, path: Path) -> dict[str, Any]:
    """Import `path` in a new process; its summary and memory in kB: `start` (before the import), `peak` (VmHWM)
    and `helper` (the import's helper process, 0 when it used none)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, db, str(path)], capture_output=True, text=True,
                          timeout=1800, check=False, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def check_large_import(desk: Desk, db: str, path: Path, size: int, growth_mb: int) -> dict[str, Any]:
    big = write_large_csv(path, size)
    assert path.stat().st_size >= size
    try:
        measured = import_in_a_process(db, path)
        summary = measured["summary"]
        assert (summary["read"], summary["imported"], summary["rejected"]) == (big + 2, 2, big)
        assert names(desk) == ["First Row", "Last Row"]  # the last row is there: the whole file was read
        assert summary["problems"][0]["reason"] == "Description is too long (101000 characters; the limit is 100000)"
        assert error_path_for(path).stat().st_size > size * 0.99  # every refused row, to fix
        assert measured["peak"] - measured["start"] < growth_mb * 1024, measured
        assert measured["helper"] == 0 or measured["helper"] - measured["start"] < growth_mb * 1024, measured
        return measured
    finally:
        path.unlink(missing_ok=True)
        error_path_for(path).unlink(missing_ok=True)


@pytest.mark.sqlite_only
def test_a_large_file_is_imported_with_flat_memory(desk: Desk, db_file: str, tmp_path: Path) -> None:
    """48 MB of rows with a 101,000-character description each (refused, to the error file): memory grows by
    a chunk of them (`import_rows.CHUNK_CHARS`), not by the file (24 MB if the rows are held 500 at a time)."""
    measured = check_large_import(desk, db_file, tmp_path / "large.csv", 48_000_000, growth_mb=16)
    assert measured["helper"] == 0  # fewer than import_worker.WORKER_FROM rows: read in the importing process


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.sqlite_only
def test_a_1gb_file_is_imported_with_flat_memory(desk: Desk, db_file: str, tmp_path: Path) -> None:
    """A gigabyte (5,300 rows: read and checked in the import's helper process), the same way."""
    measured = check_large_import(desk, db_file, tmp_path / "huge.csv", 1 << 30, growth_mb=64)
    assert measured["helper"] > 0

