"""The dashboard as CSV rows: the page's numbers, the same objects, the same rounding."""

from __future__ import annotations

from .compute import Dashboard, _period_label
from .values import Mean, Row

CSV_HEADER = [
    "dimension",
    "key",
    "label",
    "first_response_met",
    "first_response_missed",
    "first_response_pending",
    "first_response_attainment_pct",
    "resolution_met",
    "resolution_missed",
    "resolution_pending",
    "resolution_attainment_pct",
    "clocks",
    "calendar_mean_minutes",
    "policy_mean_minutes",
]


def _attainment_cells(row: Row) -> list:
    cells = []
    for att in (row.first_response, row.resolution):
        cells += [att.met, att.missed, att.pending, "" if att.percent is None else att.percent]
    return cells


def _safe(text: str) -> str:
    """Keep a spreadsheet from reading a tenant name like "=cmd()" as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(dash: Dashboard):
    """The dashboard as CSV rows (header first): attainment per (dimension, key), then MTTA and MTTR
    per priority. The numbers are the page's: the same objects, the same rounding."""
    yield CSV_HEADER
    blank_times = ["", "", ""]
    yield ["overall", "current", _period_label(dash.filters), *_attainment_cells(dash.overall), *blank_times]
    yield [
        "overall",
        "previous",
        _period_label(dash.filters.previous()),
        *_attainment_cells(dash.previous),
        *blank_times,
    ]
    for row in dash.by_priority:
        yield ["priority", row.key, row.label, *_attainment_cells(row), *blank_times]
    for row in dash.by_segment:
        yield ["segment", row.key, row.label, *_attainment_cells(row), *blank_times]
    for line in dash.matrix:
        for cell in line["cells"]:
            if cell is not None:
                yield ["priority_segment", cell.key, cell.label, *_attainment_cells(cell), *blank_times]
    for row in dash.by_tenant:
        yield ["tenant", row.key, _safe(row.label), *_attainment_cells(row), *blank_times]
    for row in dash.by_team:
        yield ["team", row.key, _safe(row.label), *_attainment_cells(row), *blank_times]
    for week in dash.weeks:
        row = Row(
            week.label,
            f"{week.start.isoformat()} – {week.end.isoformat()}" + (" (partial)" if week.partial else ""),
            first_response=week.first_response,
            resolution=week.resolution,
        )
        yield ["week", row.key, row.label, *_attainment_cells(row), *blank_times]
    blank_attainment = [""] * 8
    for dimension, attr in (("mtta", "mtta"), ("mttr", "mttr")):
        for row in [dash.overall, *dash.by_priority]:
            mean: Mean = getattr(row, attr)
            key = "all" if row is dash.overall else row.key
            label = "All priorities" if row is dash.overall else row.label
            yield [
                dimension,
                key,
                label,
                *blank_attainment,
                mean.count,
                *("" if m is None else m for m in (mean.calendar_minutes, mean.policy_minutes)),
            ]
