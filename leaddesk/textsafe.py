"""Make untrusted text (user input, imported files) safe to show on a terminal.

Control characters are replaced by visible backslash escapes (``\\x1b``, ``\\u202e``),
so data is shown literally and can't move the cursor, recolour or clear the screen,
set the window title or reorder text (Trojan Source). Rich markup is *not* escaped:
pass results to Rich as ``Text``, never as markup.

Pure-ASCII strings (the common case) go through ``str.translate`` with a small table;
others through a regex compiled on first use; ``re`` itself is imported only then.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs milliseconds (and imports re)
if TYPE_CHECKING:
    import re
    from collections.abc import Callable

__all__ = ["safe", "safe_json", "safe_line", "truncate", "visible_controls"]

# C0 controls except \t and \n, plus DEL. \r gets the familiar short form.
_ASCII_ESCAPES: dict[int, str] = {c: f"\\x{c:02x}" for c in (*range(0x09), *range(0x0B, 0x20), 0x7F)}
_ASCII_ESCAPES[0x0D] = "\\r"
_ASCII_LINE_ESCAPES: dict[int, str] = {**_ASCII_ESCAPES, 0x0A: "⏎ ", 0x09: " "}

# Everything escaped: C0 (bar \t \n), DEL, C1 (incl. 8-bit CSI \x9b), line/paragraph
# separators, bidi embeddings/overrides/isolates, and lone surrogates (which would make
# printing raise UnicodeEncodeError, e.g. from surrogateescape-decoded file names).
_UNSAFE = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
_UNSAFE_LINE = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"

_compiled: dict[str, re.Pattern[str]] = {}


def _escape_with(table: dict[int, str]) -> Callable[[re.Match[str]], str]:
    def escape(m: re.Match[str]) -> str:
        o = ord(m.group())
        return table.get(o) or (f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")

    return escape


_escape = _escape_with(_ASCII_ESCAPES)
_escape_line = _escape_with(_ASCII_LINE_ESCAPES)


def _sub(pattern: str, repl: Callable[[re.Match[str]], str], text: str) -> str:
    rx = _compiled.get(pattern)
    if rx is None:
        import re  # deferred: most text is ASCII and never needs it

        rx = _compiled[pattern] = re.compile(pattern)
    return rx.sub(repl, text)


def safe(text: str | None) -> str:
    """Escape terminal control characters in ``text``, keeping newlines and tabs; None gives ""."""
    if not text:
        return ""
    if text.isascii():
        return text.translate(_ASCII_ESCAPES)
    return _sub(_UNSAFE, _escape, text)


def safe_line(text: str | None) -> str:
    """Like ``safe`` but for one-line cells: newline becomes "⏎ ", tab a space, CR ``\\r``."""
    if not text:
        return ""
    if text.isascii():
        return text.translate(_ASCII_LINE_ESCAPES)
    return _sub(_UNSAFE_LINE, _escape_line, text)


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def safe_json(text: str) -> str:
    """JSON text (as ``json.dumps`` writes it, non-ASCII kept) with the characters JSON leaves raw but a terminal
    obeys (DEL, C1 such as the 8-bit CSI, bidi controls, line separators, lone surrogates) written as ``\\uXXXX``
    escapes: the same JSON value, safe to print. (JSON itself escapes the C0 controls.)"""
    if text.isascii():
        return text.replace("\x7f", "\\u007f") if "\x7f" in text else text
    return _sub(_UNSAFE, _json_escape, text)


# One visible character per unsafe one (so that positions in the text are kept: an editor's cursor and selection):
# the Unicode control pictures for C0 (␛ for ESC) and DEL, the replacement character for the rest.
_VISIBLE_PICTURES: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}
_UNSAFE_CHAR = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def _picture(m: re.Match[str]) -> str:
    return _VISIBLE_PICTURES.get(ord(m.group()), "\ufffd")


def visible_controls(text: str) -> str:
    """``text`` with every control character (tab and newline too), bidi control and lone surrogate replaced by
    one visible character (``\\x1b`` → ``␛``, U+202E → ``�``): the same length, for text being edited, where a
    cursor position must stay a position in the value."""
    if text.isascii():
        return text.translate(_VISIBLE_PICTURES) if not text.isprintable() else text
    return _sub(_UNSAFE_CHAR, _picture, text)


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` characters (by len()), ending in "…" if it was cut."""
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    if len(text) <= width:
        return text
    return text[: width - 1] + "…"
