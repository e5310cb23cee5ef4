"""Extra report sections: how a higher app (incidents, runbooks) puts its own figures on /reports/
and into the weekly operations report without cases importing it.

    register_section(ReportSection(key="incidents", title="Incidents", build=fn, order=10))

`build(user, filters)` reads the app's own data through its own selectors, scoped to what `user` may
see and to the report's filters (`cases.reports.filters.Filters`: the date range, the tenants), and
returns `cases.reports.metrics.Table`s: the page draws each as a chart with its table, exports it as
CSV (`/reports/export.csv?table=<key>`) and the weekly report lists its rows. `weekly(tables)` may
instead give the weekly report's (metric, value) rows. Registered in the app's AppConfig.ready();
none registered: the report has only its own sections.

`weekly_only=True`: the section is only in the weekly operations report (cases.reports.weekly), not
on /reports/ (the feedback backlogs, SRE escalations, the diagnostics learnings). `links(week, f)`
may give the weekly page's downloads of that section as (label, url) pairs — `week` is the ISO week
label ("2026-W48"), `f` the week's Filters (e.g. the backlog exports of that week)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReportSection:
    key: str
    title: str
    build: Callable  # (user, filters) -> list[Table]
    order: int = 100
    weekly: Callable | None = None  # (tables) -> list[(metric, value)]
    weekly_only: bool = False  # only in the weekly operations report, not on /reports/
    links: Callable | None = None  # (week label, filters) -> list[(label, url)]: the weekly page's downloads


_sections: dict[str, ReportSection] = {}


def register_section(section: ReportSection) -> None:
    _sections[section.key] = section


def sections() -> list[ReportSection]:
    """The sections on /reports/ (and so in the weekly report, through metrics.report)."""
    return sorted((s for s in _sections.values() if not s.weekly_only), key=lambda s: (s.order, s.key))


def weekly_sections() -> list[ReportSection]:
    """The sections only the weekly operations report has."""
    return sorted((s for s in _sections.values() if s.weekly_only), key=lambda s: (s.order, s.key))
