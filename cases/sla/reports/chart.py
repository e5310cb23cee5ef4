"""The charts' pure geometry (the template draws the SVG): the weekly line chart, and the bar charts
of attainment by priority, segment, tenant and team (a pair of bars per row: first response and
resolution, 0–100 %). Colours come from CSS classes, never inline style."""

from __future__ import annotations

import math
from decimal import Decimal

from .filters import KINDS
from .values import Attainment, Row, Week


def trend_chart(weeks: list[Week], *, width: int = 660, height: int = 240) -> dict:
    """Coordinates of an inline SVG line chart of weekly attainment (0–100 %) for both kinds."""
    left, right, top, bottom = 46, 14, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(weeks), 1)

    def x(i: int) -> float:
        return round(left + plot_w * (i + 0.5) / n, 1)

    def y(value: Decimal) -> float:
        return round(top + plot_h * (1 - float(value) / 100), 1)

    series = []
    for kind, css in KINDS:
        key, label = kind.value, kind.label
        points, segments, run = [], [], []
        for i, week in enumerate(weeks):
            att: Attainment = getattr(week, key)
            if att.percent is None:
                if run:
                    segments.append(run)
                run = []
                continue
            point = {
                "x": x(i),
                "y": y(att.percent),
                "sx": round(x(i) - 4, 1),
                "sy": round(y(att.percent) - 4, 1),
                "label": f"{label}, week {week.label}: {att.percent}% ({att.met} met, {att.missed} missed)",
            }
            points.append(point)
            run.append(point)
        if run:
            segments.append(run)
        series.append(
            {
                "key": key,
                "label": label,
                "css": css,
                "points": points,
                "lines": [" ".join(f"{p['x']},{p['y']}" for p in seg) for seg in segments if len(seg) > 1],
            }
        )
    step = max(1, math.ceil(len(weeks) / 12))
    x_ticks = [
        {"x": x(i), "label": f"W{week.start.isocalendar()[1]:02d}", "date": week.start.strftime("%d %b")}
        for i, week in enumerate(weeks)
        if i % step == 0
    ]
    y_ticks = [{"y": y(Decimal(v)), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)]
    summary = " ".join(
        f"{s['label']}: "
        + (
            ", ".join(p["label"].split("week ", 1)[1] for p in s["points"])
            if s["points"]
            else "no clocks with an outcome"
        )
        + "."
        for s in series
    )
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "series": series,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "desc": f"Weekly attainment in percent, {len(weeks)} ISO week{'s' if len(weeks) != 1 else ''}. " + summary,
    }


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(rows: list[Row], *, title: str, width: int = 460, label_width: int = 150) -> dict:
    """Horizontal bars of attainment for each row, first response above resolution. A row without
    outcomes for a kind gets no bar and "no data"; the full label and numbers are in each bar's
    <title> (and in the table beside the chart)."""
    bar_h, pair_gap, row_gap, top, bottom, right = 9, 2, 10, 6, 22, 44
    plot_w = width - label_width - right
    row_h = 2 * bar_h + pair_gap + row_gap
    height = top + row_h * max(len(rows), 1) - row_gap + bottom
    out_rows = []
    for i, row in enumerate(rows):
        y = top + i * row_h
        bars = []
        for j, (kind, css) in enumerate(KINDS):
            att: Attainment = getattr(row, kind.value)
            by = y + j * (bar_h + pair_gap)
            value = att.percent
            w = 0.0 if value is None else round(plot_w * float(value) / 100, 1)
            bars.append(
                {
                    "css": css,
                    "x": label_width,
                    "y": by,
                    "w": w,
                    "h": bar_h,
                    "tx": round(label_width + w + 4, 1),
                    "ty": by + bar_h - 1,
                    "text": "no data" if value is None else f"{value}%",
                    "label": f"{row.label}, {kind.label.lower()}: "
                    + (
                        "no clocks with an outcome"
                        if value is None
                        else f"{value}% ({att.met} met, {att.missed} missed)"
                    ),
                }
            )
        out_rows.append({"label": _short(row.label, 22), "full": row.label, "y": y + bar_h + 1, "bars": bars})
    ticks = [{"x": round(label_width + plot_w * v / 100, 1), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)]
    summary = "; ".join(b["label"] for r in out_rows for b in r["bars"])
    return {
        "width": width,
        "height": height,
        "rows": out_rows,
        "ticks": ticks,
        "plot_top": top,
        "plot_bottom": height - bottom + 4,
        "tick_y": height - 6,
        "title": title,
        "desc": f"{title}, in percent of met clocks. {summary}." if out_rows else f"{title}: no data.",
    }
