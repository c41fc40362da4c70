import pytest
from hypothesis import given
from hypothesis import strategies as st

from leaddesk.textsafe import safe, safe_line, truncate, visible_controls

BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _unsafe(ch: str, *, line: bool = False) -> bool:
    o = ord(ch)
    if ch in "\n\t":
        return line
    return o < 0x20 or 0x7F <= o <= 0x9F or ch in BIDI or ch in "\u2028\u2029" or 0xD800 <= o <= 0xDFFF


# --- safe ---------------------------------------------------------------------


def test_none_and_empty() -> None:
    assert safe(None) == ""
    assert safe("") == ""
    assert safe_line(None) == ""
    assert safe_line("") == ""


def test_plain_text_unchanged() -> None:
    assert safe("Acme Ltd [bold]x[/bold] 50% off \\ path") == "Acme Ltd [bold]x[/bold] 50% off \\ path"


@pytest.mark.parametrize(
    "text",
    [
        "Zoë Ångström, café",
        "東京都渋谷区",
        "Ωμέγα",
        "😀👍🏽 👨‍👩‍👧",
        "שלום مرحبا",
        "Łódź\tŻółć\nnext",
        "\u00a0nbsp",
    ],
)
def test_ordinary_unicode_unchanged(text: str) -> None:
    assert safe(text) == text


def test_newline_and_tab_kept() -> None:
    assert safe("a\tb\nc") == "a\tb\nc"


def test_ansi_clear_screen() -> None:
    assert safe("\x1b[2Jgone") == "\\x1b[2Jgone"


def test_osc_window_title() -> None:
    assert safe("\x1b]0;pwned\x07") == "\\x1b]0;pwned\\x07"


def test_8bit_csi() -> None:
    assert safe("\x9b2J") == "\\x9b2J"
    assert safe("é\x9b2J") == "é\\x9b2J"


def test_rlo_and_other_bidi_controls() -> None:
    assert safe("invoice\u202egpj.exe") == "invoice\\u202egpj.exe"
    for ch in BIDI:
        assert safe(f"a{ch}b") == f"a\\u{ord(ch):04x}b"


def test_nul_del_cr_and_other_c0() -> None:
    assert safe("a\x00b") == "a\\x00b"
    assert safe("a\x7fb") == "a\\x7fb"
    assert safe("a\rb") == "a\\rb"
    assert safe("\x08\x0b\x0c\x1f") == "\\x08\\x0b\\x0c\\x1f"


def test_same_escapes_for_ascii_and_non_ascii_paths() -> None:
    # ASCII strings use str.translate, others a regex: both must agree.
    controls = "".join(chr(c) for c in range(0x20)) + "\x7f"
    assert safe(controls + "é") == safe(controls) + "é"
    assert safe_line(controls + "é") == safe_line(controls) + "é"


def test_lone_surrogates_escaped() -> None:
    name = b"bad\xffname".decode("utf-8", "surrogateescape")
    assert safe(name) == "bad\\udcffname"
    safe(name).encode("utf-8")  # printable without UnicodeEncodeError


def test_line_separators_escaped() -> None:
    assert safe("a\u2028b\u2029c") == "a\\u2028b\\u2029c"


def test_backslashes_and_brackets_not_escaped() -> None:
    assert safe("[red]C:\\x1b\\new[/]") == "[red]C:\\x1b\\new[/]"


def test_long_string() -> None:
    text = ("lead é \x1b[31m " * 100_000) + "end"
    out = safe(text)
    assert "\x1b" not in out
    assert out.endswith("end")
    assert out.count("\\x1b") == 100_000


# --- safe_line ----------------------------------------------------------------


def test_safe_line_newlines_tabs_cr() -> None:
    assert safe_line("line1\nline2") == "line1⏎ line2"
    assert safe_line("a\tb") == "a b"
    assert safe_line("a\r\nb") == "a\\r⏎ b"
    assert safe_line("é\nü\tö\r") == "é⏎ ü ö\\r"


def test_safe_line_also_escapes_controls() -> None:
    assert safe_line("\x1b[2J\x9b\u202e\x00") == "\\x1b[2J\\x9b\\u202e\\x00"


@pytest.mark.parametrize("text", ["Zoë Ångström", "東京", "😀👍🏽", "plain"])
def test_safe_line_ordinary_unchanged(text: str) -> None:
    assert safe_line(text) == text


# --- truncate -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("hello", 10, "hello"),
        ("hello", 5, "hello"),
        ("hello", 4, "hel…"),
        ("hello", 1, "…"),
        ("", 1, ""),
        ("東京都渋谷区", 3, "東京…"),
    ],
)
def test_truncate(text: str, width: int, expected: str) -> None:
    assert truncate(text, width) == expected


@pytest.mark.parametrize("width", [0, -1])
def test_truncate_rejects_bad_width(width: int) -> None:
    with pytest.raises(ValueError, match="width must be at least 1"):
        truncate("hello", width)


# --- properties ---------------------------------------------------------------

# Text biased towards the dangerous characters, plus arbitrary Unicode.
_nasty = st.sampled_from(
    [chr(c) for c in range(0x20)]
    + ["\x7f", *map(chr, range(0x80, 0xA0)), *BIDI, "\u2028", "\ud800", "\udcff"]
)
_text = st.lists(st.one_of(_nasty, st.characters()), max_size=60).map("".join) | st.text()


@given(_text)
def test_safe_never_outputs_control_chars(text: str) -> None:
    out = safe(text)
    assert not any(_unsafe(ch) for ch in out)
    if not any(_unsafe(ch) for ch in text):
        assert out == text


@given(_text)
def test_safe_line_is_one_line_and_control_free(text: str) -> None:
    out = safe_line(text)
    assert not any(_unsafe(ch, line=True) for ch in out)
    assert "\n" not in out and "\r" not in out and "\t" not in out


@given(st.text(), st.integers(min_value=1, max_value=50))
def test_truncate_property(text: str, width: int) -> None:
    out = truncate(text, width)
    assert len(out) <= width
    if len(text) <= width:
        assert out == text
    else:
        assert out == text[: width - 1] + "…"


def test_visible_controls_keeps_the_length_and_shows_every_control() -> None:
    assert visible_controls("a\x1b[2J\tb\n\x7f") == "a\u241b[2J\u2409b\u240a\u2421"
    assert visible_controls("x\u202ey\x9bz\u2066\ud800") == "x\ufffdy\ufffdz\ufffd\ufffd"
    assert visible_controls("plain é 東 [b]x[/b]") == "plain é 東 [b]x[/b]"


@given(st.text())
def test_visible_controls_is_safe_and_position_preserving(text: str) -> None:
    shown = visible_controls(text)
    assert len(shown) == len(text)
    assert safe(shown) == shown  # nothing left for safe() to escape
    assert "\t" not in shown and "\n" not in shown
