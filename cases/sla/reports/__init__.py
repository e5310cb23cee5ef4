"""Read side of the manager SLA dashboard (/sla/): attainment, MTTA/MTTR, the weekly trend and the
cases breached or at risk right now. Selectors only: nothing here writes.

Every number is aggregated in the database with a fixed number of queries, whatever the number of
cases or clocks:

* one "cube" query grouped by priority × segment over the chosen period *and* the previous period
  of the same length (filtered aggregates). Counts and duration sums are additive, so the overall
  tiles, the by-priority, by-segment and priority × segment tables and MTTA/MTTR all come from it
  and can never disagree with each other;
* one query grouped by tenant, one by team, one by ISO week (TruncWeek in the viewer's timezone);
* two queries for the current breaches and at-risk cases (their counts and one page of rows).

Definitions (the footnote on the page says the same):

* A clock belongs to the period when it *started* in [from 00:00, to + 1 day 00:00) in the viewer's
  timezone. Only first-response and resolution clocks count; update-cadence clocks do not.
* met: stopped with met=True. missed: stopped with met=False, or not stopped yet and already past
  due (breached_at set, due_at reached, or paused with more time elapsed than the target).
  pending: not stopped and not yet due; pending clocks are left out of attainment.
  A clock that ended without a target (met is None) counts nowhere.
* attainment = met / (met + missed), in percent rounded half-up to one decimal.
* MTTA / MTTR: over stopped first-response / resolution clocks with an outcome. "Calendar" is
  stopped_at - started_at (wall-clock time, paused time included); "policy clock" is the clock's
  own elapsed time (`elapsed_before`): business hours on the policy's calendar for a business-time
  target, calendar time for a 24×7 target, in both cases without the time paused while waiting on
  the customer. Means are sum / count, exact to the microsecond.
* Dimensions use the case's current priority, team and tenant.

Where things are:
    filters   Filters (the date range and dimensions), the tenant scope (clocks_visible_to,
              open_cases_visible_to, through tenants.selectors.visible_tenant_ids), the constants
    outcomes  met / missed / pending / finished as Q objects, and the grouped queries' aggregates
    values    Attainment, Mean, Row, Trend, Week; percent, minutes, duration_text, heat_step (no queries)
    compute   dashboard(), breach_counts() and current_breaches() (one page), and the Dashboard they fill
    chart     trend_chart and bar_chart: the charts' geometry (pure)
    export    csv_rows and CSV_HEADER

Views import the package (`from .. import reports as sla_reports`; `sla_reports.dashboard(...)`).
"""

from .chart import bar_chart, trend_chart
from .compute import Dashboard, breach_counts, current_breaches, dashboard, fill_breaches, iso_weeks
from .export import CSV_HEADER, csv_rows
from .filters import (
    BREACH_LIST_LIMIT,
    DEFAULT_RANGE_DAYS,
    FIRST_RESPONSE,
    KINDS,
    MAX_RANGE_DAYS,
    NO_TEAM,
    PAUSED,
    RESOLUTION,
    STOPPED,
    ZERO,
    Filters,
    clocks_visible_to,
    open_cases_visible_to,
)
from .outcomes import CALENDAR_TIME, finished_q, met_q, missed_q, overdue_q, pending_q
from .values import (
    HEAT_LEGEND,
    HEAT_STEPS,
    Attainment,
    Mean,
    Row,
    Trend,
    Week,
    duration_text,
    heat_step,
    minutes,
    percent,
)

__all__ = [
    "FIRST_RESPONSE",
    "RESOLUTION",
    "STOPPED",
    "PAUSED",
    "DEFAULT_RANGE_DAYS",
    "MAX_RANGE_DAYS",
    "BREACH_LIST_LIMIT",
    "NO_TEAM",
    "ZERO",
    "KINDS",
    "Filters",
    "clocks_visible_to",
    "open_cases_visible_to",
    "met_q",
    "overdue_q",
    "missed_q",
    "pending_q",
    "finished_q",
    "CALENDAR_TIME",
    "percent",
    "minutes",
    "Attainment",
    "Mean",
    "Row",
    "Trend",
    "Week",
    "Dashboard",
    "dashboard",
    "current_breaches",
    "breach_counts",
    "fill_breaches",
    "bar_chart",
    "heat_step",
    "HEAT_STEPS",
    "HEAT_LEGEND",
    "iso_weeks",
    "trend_chart",
    "CSV_HEADER",
    "csv_rows",
    "duration_text",
]
