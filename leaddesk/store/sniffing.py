"""How a CSV file's bytes are read as text: its encoding, found by reading the file in blocks (never whole).

- A BOM decides: UTF-8 (with or without one), UTF-16 LE or BE. UTF-16 without a BOM is recognised when its
  first line is ASCII (every other byte NUL), and read with a note.
- Text that is UTF-8 throughout is UTF-8.
- Any other text is 8-bit: read as Windows-1252 (Latin-1 when it holds a byte cp1252 leaves undefined), with a
  warning, but only when it reads as Western European text. Where that reading would store mojibake the file is
  refused, in one line that names the line to look at: a file that mixes UTF-8 lines with other lines, three
  accented letters in a row (Cyrillic, Greek, Hebrew... in their 8-bit code pages), a symbol inside a word
  (Windows-1250's ł read as ³). A Central European file whose letters all land on cp1252 letters is the one
  ambiguity left: it is read as cp1252, with the warning.
- Refused too: a binary file (a known signature, or NUL bytes in text that is not UTF-8) and a file that ends in
  the middle of a character (UTF-8 or UTF-16): it was cut off.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from leaddesk.store.errors import RuleError

BLOCK = 1 << 20
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"GIF8", "a GIF image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a zip archive (an .xlsx workbook? then name it .xlsx)"),
    (b"\x1f\x8b", "a gzip archive"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (save it as .csv)"),
)
UTF8_CHAR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_LETTER = rb"A-Za-z\x8a\x8c\x8e\x9a\x9c\x9e\x9f\xaa\xb5\xba\xc0-\xd6\xd8-\xf6\xf8-\xff"  # letters in cp1252
_SYMBOL = rb"\x80\x82-\x89\x8b\x93-\x95\x98\x99\x9b\xa1-\xa9\xab\xac\xae-\xb3\xb6\xb8\xb9\xbb-\xbf"  # not in words
NOT_WESTERN = re.compile(rb"[\xc0-\xd6\xd8-\xf6\xf8-\xff]{3}|(?<=[" + _LETTER + rb"])[" + _SYMBOL + rb"](?=["
                         + _LETTER + rb"])")
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def sniff_encoding(path: Path) -> tuple[str, int, str | None]:
    """(encoding, number of line breaks, warning or None); RuleError when the file is not text this import reads
    (see the module's docstring)."""
    with path.open("rb") as handle:
        head = handle.read(BLOCK)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _utf16(path, "utf-16", head.startswith(codecs.BOM_UTF16_LE), None)
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise RuleError(f"{path.name} is not a CSV text file: it is {what}")
    if b"\x00" in head:
        order = _utf16_order(head)
        if order is not None:
            return _utf16(path, order, order.endswith("le"),
                          f"{path.name} has no byte order mark: read as UTF-16 ({order[-2:].upper()})")
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head)
        except UnicodeDecodeError:
            line = head[:head.index(b"\x00")].count(b"\n") + 1
            raise RuleError(f"{path.name} is not a CSV text file: line {line} holds NUL bytes and the file is not"
                            " UTF-8 (binary data, or UTF-16 without a byte order mark: save it as UTF-8)") from None
    return _utf8_or_8bit(path)


def _utf16_order(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the file's first line is ASCII text in UTF-16 (every other byte NUL), else
    None."""
    end = head.find(b"\n", 0, 1024)
    sample = head[:end if end >= 0 else 1024]
    sample = sample[:len(sample) - len(sample) % 2]
    even, odd = sample[0::2], sample[1::2]
    if len(sample) < 4:
        return None
    if not odd.strip(b"\x00") and b"\x00" not in even:
        return "utf-16-le"
    if not even.strip(b"\x00") and b"\x00" not in odd:
        return "utf-16-be"
    return None


def _utf16(path: Path, encoding: str, little: bool, warning: str | None) -> tuple[str, int, str | None]:
    lines = 0
    size = 0
    newline = b"\n\x00" if little else b"\x00\n"
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            size += len(block)
            lines += block.count(newline)
    if size % 2:
        raise RuleError(f"{path.name} line {lines + 1}: the file ends in the middle of a character (UTF-16 text of"
                        " an odd number of bytes): it looks cut off")
    return encoding, lines, warning


def _line_of(block: bytes, position: int, before: int) -> int:
    return before + block.count(b"\n", 0, position) + 1


def _utf8_line(block: bytes, before: int) -> int | None:
    """The first line of the block with a non-ASCII character that is UTF-8 throughout, or None. Each line is
    decoded once at most (a line that is not UTF-8 is skipped whole: linear in the block, however long its
    lines and however many UTF-8-looking characters they hold)."""
    position = 0
    while (match := UTF8_CHAR.search(block, position)) is not None:
        start = block.rfind(b"\n", 0, match.start()) + 1
        end = block.find(b"\n", match.end())
        end = len(block) if end < 0 else end
        try:
            block[start:end].decode("utf-8")
        except UnicodeDecodeError:
            position = end + 1  # the next line
            continue
        return _line_of(block, start, before)
    return None


def _utf8_or_8bit(path: Path) -> tuple[str, int, str | None]:
    name = path.name
    lines = 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    bad_line: int | None = None  # the first line that is not UTF-8
    utf8_line: int | None = None  # the first line with a non-ASCII character that is UTF-8 throughout
    odd_line: int | None = None  # the first line that does not read as Western European text
    cp1252_ok = True
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            ascii_only = block.isascii()
            if bad_line is None and not (ascii_only and not decoder.getstate()[0]):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    bad_line = lines + exc.object.count(b"\n", 0, exc.start) + 1
            if not ascii_only:
                if utf8_line is None:
                    utf8_line = _utf8_line(block, lines)
                # How 8-bit text reads matters only from the first line that is not UTF-8 on: a non-ASCII line
                # before it is UTF-8, and makes the file one that mixes encodings.
                if bad_line is not None:
                    if odd_line is None:
                        match = NOT_WESTERN.search(block)
                        odd_line = None if match is None else _line_of(block, match.start(), lines)
                    cp1252_ok = cp1252_ok and not CP1252_UNDEFINED.search(block)
            lines += block.count(b"\n")
    if bad_line is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise RuleError(f"{name} line {lines + 1}: the file ends in the middle of a character (an incomplete"
                            " UTF-8 sequence): it looks cut off") from None
        return "utf-8-sig", lines, None
    if utf8_line is not None:
        raise RuleError(f"{name} mixes encodings: line {utf8_line} is UTF-8 but line {bad_line} is not;"
                        " save the whole file as UTF-8")
    if odd_line is not None:
        raise RuleError(f"{name} line {odd_line} is neither UTF-8 nor Western European text (Windows-1252):"
                        " save the file as UTF-8")
    if cp1252_ok:
        return "cp1252", lines, f"{name} is not UTF-8: read as Windows-1252 (cp1252); check accented names"
    return "latin-1", lines, f"{name} is not UTF-8: read as Latin-1; check accented names"
