"""The weekly chart: pure geometry of an inline SVG line chart (the template draws it)."""

from __future__ import annotations

import math
from decimal import Decimal

from .filters import KINDS
from .values import Attainment, Week


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
