"""The Reports screen's chart widget (widgets/report_chart.py): bars in eighths, columns, the funnel, what is
left out when there is no room, and labels shown literally."""

from __future__ import annotations

from leaddesk.widgets.report_chart import (
    Bar,
    Styles,
    across,
    centred,
    column_cells,
    draw_bars,
    draw_columns,
    draw_funnel,
    percent_of_previous,
)

PLAIN = Styles()


def bars(*pairs: tuple[str, float | None]) -> tuple[Bar, ...]:
    return tuple(Bar(label, value, "—" if value is None else f"{value:g}") for label, value in pairs)


def plain(lines: list) -> list[str]:  # type: ignore[type-arg]
    return [line.plain for line in lines]


def test_a_bar_is_drawn_in_eighths_of_a_cell() -> None:
    assert across(10, 10, 8) == "█" * 8
    assert across(5, 10, 8) == "█" * 4
    assert across(3, 8, 2) == "▊"  # 3/8 of 16 eighths = 6 eighths
    assert across(9, 8, 1) == "█"  # never wider than its room
    assert across(1, 1000, 4) == "▏"  # a value above zero always shows
    assert across(0, 10, 8) == "" and across(None, 10, 8) == "" and across(5, 0, 8) == ""


def test_a_column_is_drawn_upwards_in_eighths() -> None:
    assert column_cells(10, 10, 2) == ["█", "█"]
    assert column_cells(5, 10, 2) == [" ", "█"]
    assert column_cells(3, 16, 2) == [" ", "▃"]
    assert column_cells(12, 16, 2) == ["▄", "█"]
    assert column_cells(0, 16, 2) == [" ", " "]


def test_a_funnel_bar_is_centred_in_half_cells() -> None:
    assert centred(10, 10, 4) == "████"
    assert centred(5, 10, 4) == " ██ "
    assert centred(3, 8, 4) == " █▌ "  # 3 halves of 8, from the third half
    assert centred(1, 1000, 4) == " ▐  "  # the half just left of the middle
    assert centred(0, 10, 4) == "    "


def test_the_funnel_shows_each_step_as_a_share_of_the_previous_one() -> None:
    steps = bars(("all", 300), ("contacted", 210), ("qualified", 0), ("won", 5))
    assert percent_of_previous(steps) == ["", "70.0%", "0.0%", "—"]
    lines = plain(draw_funnel(steps, 60, 5, PLAIN, "Leads"))
    assert lines[0].rstrip().endswith("Leads % of prev")
    assert lines[1].startswith("all") and "300" in lines[1]
    assert lines[2].rstrip().endswith("210     70.0%")
    assert lines[4].rstrip().endswith("5         —")
    full, contacted = lines[1].count("█"), lines[2].count("█")
    assert full > contacted > 0 and lines[3].count("█") == 0  # narrower per step; nothing for none
    assert all(len(line) <= 60 for line in lines)


def test_bars_beyond_the_height_are_counted_and_the_caption_needs_room() -> None:
    many = bars(*((f"source {i}", 10 - i) for i in range(10)))
    lines = plain(draw_bars(many, 50, 4, PLAIN, "Leads"))
    assert len(lines) == 4
    assert lines[0].startswith("source 0") and lines[2].startswith("source 2")
    assert lines[3] == "… 7 more in the table"
    few = plain(draw_bars(many[:2], 50, 4, PLAIN, "Leads"))
    assert few[0].strip() == "Leads" and few[1].startswith("source 0") and len(few) == 3
    assert few[1].count("█") > few[2].count("█")


def test_labels_are_shown_literally() -> None:
    tricky = bars(("[bold]x[/bold]", 3), ("evil\x1b[2J", 2))
    lines = plain(draw_bars(tricky, 60, 4, PLAIN))
    assert lines[0].startswith("[bold]x[/bold]")
    assert "\x1b" not in lines[1] and "\\x1b" in lines[1]


def test_columns_show_the_latest_ones_that_fit_with_the_scale_and_labels() -> None:
    weeks = bars(*((f"W{i:02d}", float(i)) for i in range(1, 41)))
    lines = plain(draw_columns(weeks, 30, 5, PLAIN))
    assert len(lines) == 5
    assert lines[0].startswith("40 ") and lines[3].startswith(" 0 ")
    shown = len(lines[3]) - 3  # one cell per column when they do not fit with gaps
    assert shown == 27 and lines[3][-1] == "█"
    assert lines[4].startswith("◂13") and "W40" not in lines[4]  # the last label would not fit
    assert "W14" not in lines[4]  # the first column shown (week 14) has no room for its label after "◂13"
    assert lines[4].index("W15") == 3 + 1 and lines[4].index("W20") == 3 + 6  # each under its column
    roomy = plain(draw_columns(weeks[:5], 40, 4, PLAIN))  # 1..5 over 3 rows of 8 eighths
    assert roomy[0] == "5 " + " " * 21 + "▃" * 6 + " " + "█" * 6  # 4 is 19 of 24 eighths: 3 in the top row
    assert roomy[2] == "0 " + "▅" * 6 + " " + " ".join(["█" * 6] * 4)  # six cells and a gap per column
    assert roomy[3].rstrip() == "  W01    W02    W03    W04    W05"
