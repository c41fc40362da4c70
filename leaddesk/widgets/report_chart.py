"""Terminal charts for the Reports screen: horizontal bars, columns over time and a funnel, drawn with Rich
text in block characters (eighths of a cell: ▏▎▍▌▋▊▉█ across, ▁▂▃▄▅▆▇█ up).

The widget is dumb: the screen hands it a `ChartData` (labels, values and the values as text, already
formatted); it draws what fits its size and never reads the database. Labels are shown literally (never as
markup, control characters made visible). Colours come from the theme through component classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from leaddesk.textsafe import safe_line

ACROSS = " ▏▎▍▌▋▊▉█"  # a bar's last cell, by eighths filled from the left
UP = " ▁▂▃▄▅▆▇█"  # a column's top cell, by eighths filled from the bottom
ChartKind = Literal["bars", "columns", "funnel"]


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (None or negative draws nothing) and the value as shown."""

    label: str
    value: float | None
    shown: str


@dataclass(frozen=True)
class ChartData:
    """What a chart shows: `bars` (one row per label), `columns` (a series over time, left to right) or
    `funnel` (centred bars, each step with its % of the previous one)."""

    kind: ChartKind
    bars: tuple[Bar, ...]
    caption: str = ""
    """What the values are (the value column's label), shown over them when there is room."""


PLAIN = Style()


@dataclass(frozen=True)
class Styles:
    """The chart's styles (from the theme, through the widget's component classes)."""

    bar: Style = PLAIN
    label: Style = PLAIN
    value: Style = PLAIN
    muted: Style = PLAIN


def _magnitude(value: float | None) -> float:
    return value if value is not None and value > 0 and math.isfinite(value) else 0.0


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis (labels are short; one cell per character)."""
    text = safe_line(text)
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def across(value: float | None, top: float, width: int) -> str:
    """A horizontal bar of `value` on a scale where `top` fills `width` cells, in eighths; a value above zero
    shows at least one eighth."""
    value = _magnitude(value)
    if top <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, min(width * 8, round(value / top * width * 8)))
    full, part = divmod(eighths, 8)
    return "█" * full + (ACROSS[part] if part else "")


def column_cells(value: float | None, top: float, height: int) -> list[str]:
    """A column of `value` as `height` cells, top first, in eighths; above zero shows at least one eighth."""
    value = _magnitude(value)
    eighths = 0 if top <= 0 or value <= 0 else max(1, min(height * 8, round(value / top * height * 8)))
    return [UP[max(0, min(8, eighths - level * 8))] for level in range(height - 1, -1, -1)]


def centred(value: float | None, top: float, width: int) -> str:
    """A bar centred in `width` cells, in half cells (▌ and ▐ at the ends); above zero shows at least half a cell."""
    value = _magnitude(value)
    halves = 0 if top <= 0 or value <= 0 else max(1, min(width * 2, round(value / top * width * 2)))
    start = (width * 2 - halves) // 2
    filled = range(start, start + halves)
    cells = []
    for i in range(width):
        left, right = 2 * i in filled, 2 * i + 1 in filled
        cells.append("█" if left and right else "▌" if left else "▐" if right else " ")
    return "".join(cells)


def percent_of_previous(bars: tuple[Bar, ...]) -> list[str]:
    """Each funnel step's value as a % of the step before ("" for the first, "—" after an empty step)."""
    shown = [""]
    for before, step in pairwise(bars):
        prev, value = _magnitude(before.value), _magnitude(step.value)
        shown.append("—" if prev <= 0 else f"{value / prev * 100:.1f}%")
    return shown


BAR_MAX = 60
"""The widest a bar gets: on a wide terminal the values stay near their bars."""


def _header(caption: str, width: int, right: int, styles: Styles) -> Text:
    """A header line with `caption` ending `right` cells from the right edge."""
    line = Text(no_wrap=True, overflow="crop")
    end = max(0, width - right)
    text = caption[-end:] if end else ""
    line.append(" " * (end - len(text)))
    line.append(text, styles.muted)
    return line


def draw_bars(bars: tuple[Bar, ...], width: int, height: int, styles: Styles, caption: str = "") -> list[Text]:
    """One row per bar: label, bar, value, under a header with the caption when there is room. More bars than
    rows: the first ones and "… N more"."""
    if not bars or height <= 0 or width <= 0:
        return []
    top = max(_magnitude(b.value) for b in bars)
    label_w = min(max(len(safe_line(b.label)) for b in bars), max(6, width // 4))
    value_w = max(len(b.shown) for b in bars)
    bar_w = max(1, min(BAR_MAX, width - label_w - value_w - 2))
    used = label_w + bar_w + value_w + 2
    lines = [_header(safe_line(caption), used, 0, styles)] if caption and height > len(bars) else []
    room = height - len(lines)
    shown = bars if len(bars) <= room else bars[: room - 1]
    for b in shown:
        line = Text(no_wrap=True, overflow="crop")
        line.append(_fit(b.label, label_w).ljust(label_w), styles.label)
        line.append(" ")
        line.append(across(b.value, top, bar_w).ljust(bar_w), styles.bar)
        line.append(" ")
        line.append(b.shown.rjust(value_w), styles.value)
        lines.append(line)
    if len(shown) < len(bars):
        lines.append(Text(f"… {len(bars) - len(shown)} more in the table", styles.muted, no_wrap=True))
    return lines


PCT_HEADER = "% of prev"


def draw_funnel(bars: tuple[Bar, ...], width: int, height: int, styles: Styles, caption: str = "") -> list[Text]:
    """Centred bars narrowing per step, each with its value and % of the previous step, under a header line
    (the caption, "% of previous") when there is room."""
    if not bars or height <= 0 or width <= 0:
        return []
    top = max(_magnitude(b.value) for b in bars)
    pcts = percent_of_previous(bars)
    label_w = min(max(len(safe_line(b.label)) for b in bars), max(6, width // 4))
    value_w = max(len(b.shown) for b in bars)
    pct_w = max(len(PCT_HEADER), *(len(p) for p in pcts))
    bar_w = max(1, min(BAR_MAX, width - label_w - value_w - pct_w - 3))
    used = label_w + bar_w + value_w + pct_w + 3
    lines = []
    if height > len(bars):
        header = _header(safe_line(caption), used, pct_w + 1, styles) if caption else Text(" " * (used - pct_w - 1))
        header.append(" " + PCT_HEADER.rjust(pct_w), styles.muted)
        lines.append(header)
    for b, pct in list(zip(bars, pcts, strict=True))[: height - len(lines)]:
        line = Text(no_wrap=True, overflow="crop")
        line.append(_fit(b.label, label_w).ljust(label_w), styles.label)
        line.append(" ")
        line.append(centred(b.value, top, bar_w), styles.bar)
        line.append(" ")
        line.append(b.shown.rjust(value_w), styles.value)
        line.append(" ")
        line.append(pct.rjust(pct_w), styles.muted)
        lines.append(line)
    return lines


def _x_labels(labels: list[str], starts: list[int], width: int, lead: str = "") -> str:
    """A row of `width` cells: `lead` first, then the labels, each where its column starts, skipping those
    that would touch the one before or not fit."""
    row = [" "] * width
    row[: len(lead)] = list(lead[:width])
    free = len(lead) + 1 if lead else 0  # the first cell a label may use
    for label, x in zip(labels, starts, strict=True):
        text = safe_line(label)
        if x < free or x + len(text) > width:
            continue
        row[x: x + len(text)] = list(text)
        free = x + len(text) + 2
    return "".join(row)


def draw_columns(bars: tuple[Bar, ...], width: int, height: int, styles: Styles, caption: str = "") -> list[Text]:
    """Columns left to right (a series over time) with the scale on the left (the largest value and 0) and
    labels underneath; more columns than fit: the latest ones, and how many earlier ones are left out."""
    if not bars or height <= 0 or width <= 0:
        return []
    top_bar = max(bars, key=lambda b: _magnitude(b.value))
    top = _magnitude(top_bar.value)
    gutter = max(len(top_bar.shown), 1) + 1
    plot_w = max(1, width - gutter)
    plot_h = height - 1 if height >= 3 else height
    n = len(bars)
    slot = plot_w // n if n <= plot_w else 1
    col_w = 1 if slot <= 1 else min(slot - 1, 6)
    step = col_w + (1 if slot > 1 else 0)
    fits = min(n, max(1, (plot_w + (step - col_w)) // step))
    shown = bars[n - fits:]
    columns = [column_cells(b.value, top, plot_h) for b in shown]
    lines = []
    for r in range(plot_h):
        line = Text(no_wrap=True, overflow="crop")
        scale = top_bar.shown if r == 0 else "0" if r == plot_h - 1 else ""
        line.append(scale.rjust(gutter - 1) + " ", styles.muted)
        line.append((" " * (step - col_w)).join(cells[r] * col_w for cells in columns), styles.bar)
        lines.append(line)
    if plot_h < height:  # the labels, after how many earlier columns are left out ("◂13")
        earlier = f"◂{n - fits}" if fits < n else ""
        row = _x_labels([b.label for b in shown], [gutter + i * step for i in range(len(shown))],
                        gutter + plot_w, earlier)
        line = Text(no_wrap=True, overflow="crop")
        line.append(row[: len(earlier)], styles.muted)
        line.append(row[len(earlier):], styles.label)
        lines.append(line)
    return lines


DRAW = {"bars": draw_bars, "columns": draw_columns, "funnel": draw_funnel}


class ReportChart(Widget):
    """A chart of one report (bars, columns or a funnel); hidden when there is nothing to draw."""

    COMPONENT_CLASSES = {"report-chart--bar", "report-chart--label", "report-chart--value", "report-chart--muted"}
    DEFAULT_CSS = """
    ReportChart { height: auto; }
    ReportChart > .report-chart--bar { color: $primary; }
    ReportChart > .report-chart--label { color: $foreground; }
    ReportChart > .report-chart--value { color: $foreground; text-style: bold; }
    ReportChart > .report-chart--muted { color: $text-muted; }
    """
    COLUMNS_HEIGHT = 12
    """The rows a columns chart asks for (the screen's CSS may give it less)."""

    data: ChartData | None = None

    def show(self, data: ChartData | None) -> None:
        """Draw `data` (None or no bars: hide the chart)."""
        self.data = data
        self.display = data is not None and bool(data.bars)
        self.set_class(data is not None and data.kind == "columns", "-columns")
        self.refresh(layout=True)

    def lines(self) -> list[str]:
        """The chart as plain text lines at its current size (for tests)."""
        return [line.plain for line in self._draw()]

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        data = self.data
        if data is None or not data.bars:
            return 0
        if data.kind == "columns":
            return self.COLUMNS_HEIGHT
        return len(data.bars) + (1 if data.kind == "funnel" or data.caption else 0)

    def _styles(self) -> Styles:
        return Styles(*(self.get_component_rich_style(f"report-chart--{part}")
                        for part in ("bar", "label", "value", "muted")))

    def _draw(self) -> list[Text]:
        data = self.data
        if data is None:
            return []
        size = self.content_size
        return DRAW[data.kind](data.bars, size.width, size.height, self._styles(), data.caption)

    def render(self) -> Text:
        return Text("\n").join(self._draw())
