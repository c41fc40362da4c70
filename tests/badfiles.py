"""Bad files for the import and email-capture tests of the store and the CLI: CSV rows, workbooks built part by part
(a zip written by hand, so that a part may declare any size, method or flag: a zip bomb, a lying header), messages,
and a large CSV written as a stream.

Importable as `badfiles` from any test (tests/conftest.py puts this folder on sys.path, as for importfiles).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HEADER = b"Name,Email,Company\n"


def good_rows(count: int, start: int = 0) -> bytes:
    """`count` valid CSV rows (Name, Email, Company), each with its own email, ending with a line end."""
    return b"".join(f"Person {i},p{i}@rows.example.com,Co {i}\n".encode() for i in range(start, start + count))


# -- zips written by hand ------------------------------------------------------------------------------------------
@dataclass
class Part:
    """One member of a zip: its stored bytes and what the zip's directory says about them."""

    name: str
    data: bytes  # as stored (raw deflate for method 8)
    size: int  # the declared inflated size
    crc: int
    method: int = 8
    flags: int = 0


def deflated(name: str, content: bytes) -> Part:
    """A part holding `content`, deflated, with its true size and CRC."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Part(name, packer.compress(content) + packer.flush(), len(content), zlib.crc32(content))


def write_zip(path: Path, parts: Iterable[Part]) -> Path:
    """Write a zip of `parts` exactly as declared (local headers, data, central directory)."""
    central: list[bytes] = []
    with path.open("wb") as out:
        count = 0
        for part in parts:
            count += 1
            offset = out.tell()
            name = part.name.encode()
            out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, part.flags, part.method, 0, 0x21, part.crc,
                                  len(part.data), part.size, len(name), 0) + name + part.data)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, part.flags, part.method, 0, 0x21,
                                       part.crc, len(part.data), part.size, len(name), 0, 0, 0, 0, 0, offset) + name)
        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0))
    return path


def workbook_parts(rows: list[list[object]]) -> dict[str, bytes]:
    """The parts of a one-sheet workbook openpyxl writes with `rows`, by name."""
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet'
              b' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              b'<row><c t="inlineStr"><is><t>Name</t></is></c></row>')
SHEET_TAIL = b"</sheetData></worksheet>"
LEAD_ROW = b'<row><c t="inlineStr"><is><t>Bomb Lead</t></is></c></row>'


def sheet_stream(repeats: int, block_rows: int = 20_000) -> tuple[bytes, int]:
    """(raw deflate stream, inflated size) of a sheet whose header is Name and whose `repeats * block_rows` rows each
    hold the lead 'Bomb Lead': a block of rows compressed once and repeated (each copy a flushed, self-contained
    run of deflate blocks), so that a gigabyte of XML costs a few MB and a fraction of a second to make."""
    def flushed(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)

    block = LEAD_ROW * block_rows
    closing = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = flushed(SHEET_HEAD) + flushed(block) * repeats + closing.compress(SHEET_TAIL) + closing.flush()
    return stream, len(SHEET_HEAD) + len(block) * repeats + len(SHEET_TAIL)


def bomb_workbook(path: Path, repeats: int, *, block_rows: int = 20_000, declared: int | None = None) -> int:
    """A workbook whose sheet is `sheet_stream(repeats, block_rows)`; the other parts are openpyxl's own. The sheet
    declares its true inflated size, or `declared` (a lying header: its CRC is then the one of that many bytes, so
    that a reader which stops there finds no CRC error, only XML cut short). A sheet over 64 MB gets no true CRC
    (it would cost seconds; a bomb does its harm before a CRC is checked). Returns the true inflated size."""
    parts = workbook_parts([["Name"]])
    stream, size = sheet_stream(repeats, block_rows)
    if declared is None:
        crc = zlib.crc32(zlib.decompress(stream, -15)) if size <= 64 << 20 else 0
        sheet = Part(SHEET, stream, size, crc)
    else:
        start = zlib.decompressobj(-15).decompress(stream, declared)
        sheet = Part(SHEET, stream, declared, zlib.crc32(start[:declared]))
    write_zip(path, [sheet if name == SHEET else deflated(name, data) for name, data in parts.items()])
    return size


# -- messages ------------------------------------------------------------------------------------------------------
def message(sender: str = "Ann Lee <ann@mail.example.com>", subject: str = "Quote please",
            body: bytes = b"Hello, please send a quote.\r\n", headers: str = "", message_id: str = "") -> bytes:
    """A plain-text RFC 822 message (CRLF line ends)."""
    ident = message_id or f"<{abs(hash((sender, subject, body)))}@mail.example.com>"
    head = (f"From: {sender}\r\nTo: sales@desk.example.com\r\nSubject: {subject}\r\nMessage-ID: {ident}\r\n"
            f"Date: Wed, 04 Mar 2026 09:00:00 +0000\r\n{headers}")
    if "Content-Type" not in headers:
        head += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    return head.encode() + b"\r\n" + body


# -- a large CSV ---------------------------------------------------------------------------------------------------
FILLER = "é" * 101_000  # each big row's description: more characters than a description may hold (100,000), two
# bytes each in UTF-8 (a 1 GB file has over 5,000 rows: the import reads it in its helper process)


def write_large_csv(path: Path, size: int) -> int:
    """Write, as a stream, a UTF-8 CSV of about `size` bytes: a valid lead first and last ('First Row', 'Last Row')
    and between them rows whose description (`FILLER`) is refused. Returns the number of big rows."""
    big = 0
    written = 0
    with path.open("wb") as out:
        written += out.write(b"Name,Email,Description\nFirst Row,first@big.example.com,the first row\n")
        filler = FILLER.encode()
        while written < size:
            written += out.write(b"Big %d,big%d@big.example.com,%b\n" % (big, big, filler))
            big += 1
        out.write(b"Last Row,last@big.example.com,the last row\n")
    return big
