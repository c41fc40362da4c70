from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from leaddesk.dates import format_relative, parse_datetime, parse_when

TODAY = date(2026, 11, 26)  # a Thursday
NOW = datetime(2026, 11, 26, 16, 45)


# --- parse_when -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2027-1-5", date(2027, 1, 5)),
        ("today", TODAY),
        ("tomorrow", date(2026, 11, 27)),
        ("yesterday", date(2026, 11, 25)),
        ("+3d", date(2026, 11, 29)),
        ("+0d", TODAY),
        ("-2d", date(2026, 11, 24)),
        ("3d", date(2026, 11, 29)),
        ("+2w", date(2026, 12, 10)),
        ("-1w", date(2026, 11, 19)),
        ("2w", date(2026, 12, 10)),
        ("+1m", date(2026, 12, 26)),
        ("+2m", date(2027, 1, 26)),
        ("-11m", date(2025, 12, 26)),
        ("+1mo", date(2026, 12, 26)),
        ("+3 days", date(2026, 11, 29)),
        ("in 3 days", date(2026, 11, 29)),
        ("in 1 day", date(2026, 11, 27)),
        ("in 2 weeks", date(2026, 12, 10)),
        ("in 1 week", date(2026, 12, 3)),
        ("in 2 months", date(2027, 1, 26)),
        ("3 days ago", date(2026, 11, 23)),
        ("next week", date(2026, 11, 30)),
        ("next month", date(2026, 12, 1)),
        ("eow", date(2026, 11, 27)),
        ("end of week", date(2026, 11, 27)),
    ],
)
def test_parse_when_forms(text: str, expected: date) -> None:
    assert parse_when(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("monday", date(2026, 11, 30)),
        ("mon", date(2026, 11, 30)),
        ("tuesday", date(2026, 12, 1)),
        ("tue", date(2026, 12, 1)),
        ("wednesday", date(2026, 12, 2)),
        ("wed", date(2026, 12, 2)),
        ("thursday", date(2026, 12, 3)),  # today is Thursday: strictly after => next week
        ("thu", date(2026, 12, 3)),
        ("friday", date(2026, 11, 27)),
        ("fri", date(2026, 11, 27)),
        ("saturday", date(2026, 11, 28)),
        ("sat", date(2026, 11, 28)),
        ("sunday", date(2026, 11, 29)),
        ("sun", date(2026, 11, 29)),
    ],
)
def test_parse_when_weekdays(text: str, expected: date) -> None:
    assert parse_when(text, TODAY) == expected


def test_weekday_from_same_weekday_is_next_week() -> None:
    monday = date(2026, 11, 30)
    assert parse_when("monday", monday) == date(2026, 12, 7)
    assert parse_when("tue", monday) == date(2026, 12, 1)
    assert parse_when("sun", date(2026, 11, 29)) == date(2026, 12, 6)


def test_next_week_is_next_monday() -> None:
    assert parse_when("next week", date(2026, 11, 30)) == date(2026, 12, 7)  # from a Monday
    assert parse_when("next week", date(2026, 11, 29)) == date(2026, 11, 30)  # from a Sunday


def test_next_month_is_first_of_next_month() -> None:
    assert parse_when("next month", date(2026, 12, 31)) == date(2027, 1, 1)
    assert parse_when("next month", date(2026, 1, 31)) == date(2026, 2, 1)


def test_end_of_week() -> None:
    friday = date(2026, 11, 27)
    assert parse_when("eow", friday) == friday
    assert parse_when("eow", date(2026, 11, 28)) == date(2026, 12, 4)  # Saturday
    assert parse_when("eow", date(2026, 11, 29)) == date(2026, 12, 4)  # Sunday
    assert parse_when("eow", date(2026, 11, 23)) == friday  # Monday


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (date(2026, 1, 31), "+1m", date(2026, 2, 28)),
        (date(2028, 1, 31), "+1m", date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), "-1m", date(2026, 2, 28)),
        (date(2026, 5, 31), "+1m", date(2026, 6, 30)),
        (date(2026, 12, 31), "+1m", date(2027, 1, 31)),
        (date(2026, 1, 31), "+13m", date(2027, 2, 28)),
        (date(2026, 1, 15), "-1m", date(2025, 12, 15)),
    ],
)
def test_month_clamping(start: date, text: str, expected: date) -> None:
    assert parse_when(text, start) == expected


@pytest.mark.parametrize("text", ["  Tomorrow ", "TOMORROW", "\ttomorrow\n", "ToMoRrOw"])
def test_case_and_whitespace_ignored(text: str) -> None:
    assert parse_when(text, TODAY) == date(2026, 11, 27)


def test_inner_whitespace_collapsed() -> None:
    assert parse_when("Next   Week", TODAY) == date(2026, 11, 30)
    assert parse_when("IN 3   DAYS", TODAY) == date(2026, 11, 29)


@pytest.mark.parametrize(
    "text",
    [
        "blah",
        "someday",
        "next year",
        "next friday",
        "3x",
        "+3",
        "+d",
        "in 3",
        "in -3 days",
        "in +3d",
        "-3 days ago",
        "in 3 days ago",
        "3h",  # hours are for times, not dates
        "2026-12",
        "2026-12-01-01",
        "26-12-01",
        "01/12/2026",
        "2026-12-01 14:30",
        "٢٠٢٦-١٢-٠١",  # non-ASCII digits
        "mondays",
        "tomorrow tomorrow",
    ],
)
def test_parse_when_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"^can't read date .*: use YYYY-MM-DD, today, tomorrow, \+3d"):
        parse_when(text, TODAY)


def test_error_message_names_text_and_forms() -> None:
    with pytest.raises(ValueError) as info:
        parse_when("blah", TODAY)
    msg = str(info.value)
    assert msg.startswith("can't read date 'blah': use YYYY-MM-DD, today, tomorrow, +3d, +2w")
    assert "monday" in msg
    assert "next week" in msg
    assert "\n" not in msg


def test_error_message_is_one_line_and_escaped() -> None:
    with pytest.raises(ValueError) as info:
        parse_when("bad\n\x1b[2Jdate" + "x" * 100, TODAY)
    msg = str(info.value)
    assert "\n" not in msg
    assert "\x1b" not in msg
    assert "…" in msg  # long input shortened


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_parse_when_rejects_empty(text: str) -> None:
    with pytest.raises(ValueError, match=r"^empty date: use YYYY-MM-DD"):
        parse_when(text, TODAY)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-02-30", "day is out of range"),
        ("2026-13-01", "month must be in 1..12"),
        ("2026-00-10", "month must be in 1..12"),
        ("2027-02-29", "day is out of range"),
        ("0000-01-01", "year 0 is out of range"),
    ],
)
def test_impossible_iso_dates(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=rf"^no such date '{text}': {reason}"):
        parse_when(text, TODAY)


def test_leap_day_accepted() -> None:
    assert parse_when("2028-02-29", TODAY) == date(2028, 2, 29)


@pytest.mark.parametrize("text", ["+999999999d", "+999999999w", "+99999m", "-999999999m"])
def test_out_of_range_offsets(text: str) -> None:
    with pytest.raises(ValueError, match=r"is out of range"):
        parse_when(text, TODAY)


def test_huge_number_is_rejected_not_crashing() -> None:
    with pytest.raises(ValueError, match=r"^can't read date"):
        parse_when("+" + "9" * 5000 + "d", TODAY)


# --- parse_datetime -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("NOW ", NOW),
        ("-2h", NOW - timedelta(hours=2)),
        ("-30m", NOW - timedelta(minutes=30)),
        ("-30min", NOW - timedelta(minutes=30)),
        ("-1d", NOW - timedelta(days=1)),
        ("-1w", NOW - timedelta(weeks=1)),
        ("+1h", NOW + timedelta(hours=1)),
        ("2 hours ago", NOW - timedelta(hours=2)),
        ("in 2 hours", NOW + timedelta(hours=2)),
        ("45 minutes ago", NOW - timedelta(minutes=45)),
        ("-1mo", datetime(2026, 10, 26, 16, 45)),
        ("2026-12-01 14:30", datetime(2026, 12, 1, 14, 30)),
        ("2026-12-01T14:30", datetime(2026, 12, 1, 14, 30)),
        ("2026-12-01t14:30", datetime(2026, 12, 1, 14, 30)),
        ("2026-12-01 14:30:15", datetime(2026, 12, 1, 14, 30, 15)),
        ("2026-12-01", datetime(2026, 12, 1, 9, 0)),
        ("14:30", datetime(2026, 11, 26, 14, 30)),
        ("9:05", datetime(2026, 11, 26, 9, 5)),
        ("at 9:05", datetime(2026, 11, 26, 9, 5)),
        ("00:00", datetime(2026, 11, 26, 0, 0)),
        ("23:59", datetime(2026, 11, 26, 23, 59)),
        ("yesterday 15:00", datetime(2026, 11, 25, 15, 0)),
        ("Yesterday  at 15:00", datetime(2026, 11, 25, 15, 0)),
        ("tomorrow 9:30", datetime(2026, 11, 27, 9, 30)),
        ("monday 10:00", datetime(2026, 11, 30, 10, 0)),
        ("today", datetime(2026, 11, 26, 9, 0)),
        ("yesterday", datetime(2026, 11, 25, 9, 0)),
        ("tomorrow", datetime(2026, 11, 27, 9, 0)),
        ("monday", datetime(2026, 11, 30, 9, 0)),
        ("next week", datetime(2026, 11, 30, 9, 0)),
        ("next month", datetime(2026, 12, 1, 9, 0)),
        ("eow", datetime(2026, 11, 27, 9, 0)),
        ("in 3 days 14:00", datetime(2026, 11, 29, 14, 0)),
        ("2026-12-01T14:30:00.250", datetime(2026, 12, 1, 14, 30, 0, 250000)),
    ],
)
def test_parse_datetime_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text, NOW) == expected


def test_relative_datetime_m_means_minutes_not_months() -> None:
    # parse_when("+1m") is a month; for times "m" is minutes and "mo" is months.
    assert parse_datetime("+1m", NOW) == NOW + timedelta(minutes=1)
    assert parse_datetime("+1mo", NOW) == datetime(2026, 12, 26, 16, 45)


def test_parse_datetime_month_clamps() -> None:
    assert parse_datetime("+1mo", datetime(2026, 1, 31, 8, 0)) == datetime(2026, 2, 28, 8, 0)


def test_parse_datetime_naive_stays_naive() -> None:
    assert parse_datetime("tomorrow 9:30", NOW).tzinfo is None
    assert parse_datetime("-2h", NOW).tzinfo is None


@pytest.mark.parametrize(
    "text", ["now", "-2h", "-1d", "14:30", "tomorrow", "yesterday 15:00", "2026-12-01T14:30", "+1mo"]
)
def test_parse_datetime_aware_stays_aware(text: str) -> None:
    tz = timezone(timedelta(hours=2))
    now = NOW.replace(tzinfo=tz)
    result = parse_datetime(text, now)
    assert result.tzinfo is tz
    assert result.replace(tzinfo=None) == parse_datetime(text, NOW)


def test_parse_datetime_explicit_offset_converted_to_now_zone() -> None:
    tz = timezone(timedelta(hours=2))
    result = parse_datetime("2026-12-01T14:30:00+00:00", NOW.replace(tzinfo=tz))
    assert result == datetime(2026, 12, 1, 16, 30, tzinfo=tz)
    assert result.tzinfo is tz


def test_parse_datetime_explicit_offset_with_naive_now_gives_naive_local() -> None:
    result = parse_datetime("2026-12-01T14:30:00+00:00", NOW)
    assert result.tzinfo is None
    expected = datetime(2026, 12, 1, 14, 30, tzinfo=UTC).astimezone().replace(tzinfo=None)
    assert result == expected


def test_parse_datetime_hours_are_elapsed_time_across_dst() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        london = zoneinfo.ZoneInfo("Europe/London")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database")
    # Clocks went back at 02:00 BST -> 01:00 GMT on 2026-10-25.
    now = datetime(2026, 10, 25, 3, 0, tzinfo=london)
    result = parse_datetime("-3h", now)
    assert now.timestamp() - result.timestamp() == 3 * 3600
    assert result.tzinfo is london


@pytest.mark.parametrize(
    "text",
    ["blah", "noon", "3pm", "-2x", "2026-12-01 blah", "14", "14:3", "14:30:5", "-2h ago", "2026-12-01Tfoo"],
)
def test_parse_datetime_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"^can't read (time|date) "):
        parse_datetime(text, NOW)


def test_parse_datetime_error_message() -> None:
    with pytest.raises(ValueError) as info:
        parse_datetime("blah", NOW)
    msg = str(info.value)
    assert msg.startswith("can't read time 'blah': use YYYY-MM-DD HH:MM, HH:MM, now, -2h, -30m, -1d")
    assert "\n" not in msg


def test_parse_datetime_bad_date_part_names_it() -> None:
    with pytest.raises(ValueError, match=r"^can't read date 'someday': use YYYY-MM-DD"):
        parse_datetime("someday 14:00", NOW)


@pytest.mark.parametrize("text", ["24:00", "12:60", "99:99", "tomorrow 25:00", "12:30:60"])
def test_parse_datetime_rejects_impossible_times(text: str) -> None:
    with pytest.raises(ValueError, match=r"^no such time .*: use 00:00 to 23:59"):
        parse_datetime(text, NOW)


@pytest.mark.parametrize("text", ["2026-02-30", "2026-02-30 14:00", "2026-02-30T14:00"])
def test_parse_datetime_rejects_impossible_dates(text: str) -> None:
    with pytest.raises(ValueError, match=r"^no such date '2026-02-30'?.*: day is out of range"):
        parse_datetime(text, NOW)


@pytest.mark.parametrize("text", ["", "  "])
def test_parse_datetime_rejects_empty(text: str) -> None:
    with pytest.raises(ValueError, match=r"^empty time: use"):
        parse_datetime(text, NOW)


def test_parse_datetime_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"is out of range"):
        parse_datetime("+999999999d", NOW)


# --- format_relative ----------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (0, "today"),
        (1, "tomorrow"),
        (2, "in 2 days"),
        (3, "in 3 days"),
        (400, "in 400 days"),
        (-1, "1 day overdue"),
        (-2, "2 days overdue"),
        (-30, "30 days overdue"),
    ],
)
def test_format_relative(delta: int, expected: str) -> None:
    assert format_relative(TODAY + timedelta(days=delta), TODAY) == expected


@pytest.mark.parametrize(
    ("delta", "expected"),
    [(0, "today"), (1, "tomorrow"), (3, "in 3 days"), (-1, "yesterday"), (-5, "5 days ago")],
)
def test_format_relative_not_overdue(delta: int, expected: str) -> None:
    assert format_relative(TODAY + timedelta(days=delta), TODAY, overdue=False) == expected


def test_format_relative_accepts_datetimes() -> None:
    assert format_relative(datetime(2026, 11, 27, 23, 59), datetime(2026, 11, 26, 0, 1)) == "tomorrow"
    assert format_relative(datetime(2026, 11, 27, 1, 0), TODAY) == "tomorrow"
