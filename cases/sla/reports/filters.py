"""The dashboard's filters (a date range in the viewer's timezone and optional dimensions) and the
tenant scope: which clocks and open cases the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Q, QuerySet

from tenants.selectors import visible_tenant_ids

from ...choices import OPEN_STATUSES
from ...models import Case, SLAClock

FIRST_RESPONSE = SLAClock.Kind.FIRST_RESPONSE
RESOLUTION = SLAClock.Kind.RESOLUTION
STOPPED = SLAClock.State.STOPPED
PAUSED = SLAClock.State.PAUSED

DEFAULT_RANGE_DAYS = 28
MAX_RANGE_DAYS = 366
BREACH_LIST_LIMIT = 50  # rows per page of the breach list
NO_TEAM = "none"  # the queue's team filter value for cases without a team (cases.filtersets)
ZERO = timedelta(0)
# The two kinds the dashboard reports, with the short names used in annotations and the CSV.
KINDS = ((FIRST_RESPONSE, "fr"), (RESOLUTION, "res"))


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a date range (inclusive, in `tz`) and optional dimension filters."""

    date_from: date
    date_to: date
    tz: tzinfo
    segment: str = ""
    tier: str = ""
    tenant_id: int | None = None
    team_id: int | None = None
    priority: int | None = None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[from 00:00, to + 1 day 00:00) as aware instants in the viewer's timezone."""
        return _midnight(self.date_from, self.tz), _midnight(self.date_to + timedelta(days=1), self.tz)

    def previous(self) -> Filters:
        """The period of the same length just before this one."""
        return replace(
            self, date_from=self.date_from - timedelta(days=self.days), date_to=self.date_from - timedelta(days=1)
        )


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _dimension_q(filters: Filters, prefix: str = "") -> Q:
    """The dimension filters (not the dates) on a queryset of cases (`prefix=""`) or clocks
    (`prefix="case__"`)."""
    q = Q()
    if filters.segment:
        q &= Q(**{f"{prefix}tenant__segment": filters.segment})
    if filters.tier:
        q &= Q(**{f"{prefix}tenant__support_tier": filters.tier})
    if filters.tenant_id is not None:
        q &= Q(**{f"{prefix}tenant_id": filters.tenant_id})
    if filters.team_id is not None:
        q &= Q(**{f"{prefix}team_id": filters.team_id})
    if filters.priority is not None:
        q &= Q(**{f"{prefix}priority": filters.priority})
    return q


def _scoped(qs: QuerySet, user, tenant_field: str) -> QuerySet:
    ids = visible_tenant_ids(user)
    if ids is None:
        return qs
    return qs.filter(**{f"{tenant_field}__in": ids}) if ids else qs.none()


def clocks_visible_to(user) -> QuerySet[SLAClock]:
    """First-response and resolution clocks of the cases `user` may see."""
    return _scoped(SLAClock.objects.filter(kind__in=[FIRST_RESPONSE, RESOLUTION]), user, "case__tenant_id")


def open_cases_visible_to(user) -> QuerySet[Case]:
    # The IN list in lifecycle order: exactly the predicate of the open-case partial indexes.
    return _scoped(Case.objects.filter(status__in=OPEN_STATUSES), user, "tenant_id")
