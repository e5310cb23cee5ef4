"""Extra report sections: how a higher app (incidents, runbooks) puts its own figures on /reports/
and into the weekly operations report without cases importing it.

    register_section(ReportSection(key="incidents", title="Incidents", build=fn, order=10))

`build(user, filters)` reads the app's own data through its own selectors, scoped to what `user` may
see and to the report's filters (`cases.reports.filters.Filters`: the date range, the tenants), and
returns `cases.reports.metrics.Table`s: the page draws each as a chart with its table, exports it as
CSV (`/reports/export.csv?table=<key>`) and the weekly report lists its rows. `weekly(tables)` may
instead give the weekly report's (metric, value) rows. Registered in the app's AppConfig.ready();
none registered: the report has only its own sections."""

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


_sections: dict[str, ReportSection] = {}


def register_section(section: ReportSection) -> None:
    _sections[section.key] = section


def sections() -> list[ReportSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))
