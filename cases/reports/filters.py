"""The reports' shared filter bar (every value in the URL) and the cohort it selects.

Every report number is about one cohort: the cases **created** in [from 00:00, to + 1 day 00:00)
in the viewer's timezone that match the dimension filters and that the viewer may see. That is
exactly what the queue selects for ?status=all&created_after=from&created_before=to&<the same
dimensions>, so every number drills down to the cases behind it through the queue's own
CaseFilterSet (`Filters.queue_params`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from tenants.selectors import visible_tenant_ids

from ..choices import Category, Channel, Priority
from ..models import Case
from ..sla.views.dashboard import DashboardFilterForm

W = {"class": "input"}
QUEUE = "/cases/"


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    tz: tzinfo
    segment: str = ""
    tier: str = ""
    tenant_id: int | None = None
    tenant_slug: str = ""
    team_id: int | None = None
    team_slug: str = ""
    agent_id: int | None = None
    agent_username: str = ""
    priority: int | None = None
    category: str = ""
    channel: str = ""

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return _midnight(self.date_from, self.tz), _midnight(self.date_to + timedelta(days=1), self.tz)

    def previous(self) -> Filters:
        return replace(
            self, date_from=self.date_from - timedelta(days=self.days), date_to=self.date_from - timedelta(days=1)
        )

    def dimension_q(self, prefix: str = "") -> Q:
        q = Q()
        for field, value in (
            ("tenant__segment", self.segment),
            ("tenant__support_tier", self.tier),
            ("tenant_id", self.tenant_id),
            ("team_id", self.team_id),
            ("owner_id", self.agent_id),
            ("priority", self.priority),
            ("category", self.category),
            ("channel", self.channel),
        ):
            if value not in ("", None):
                q &= Q(**{prefix + field: value})
        return q

    def queue_params(self, **extra) -> dict:
        """The queue's parameters for this cohort (CaseFilterSet names), plus `extra` (a row's own)."""
        params = {
            "status": "all",
            "created_after": self.date_from.isoformat(),
            "created_before": self.date_to.isoformat(),
            "segment": self.segment,
            "tier": self.tier,
            "tenant": self.tenant_slug,
            "team": self.team_slug,
            "owner": self.agent_username,
            "priority": Priority(self.priority).slug if self.priority else "",
            "category": self.category,
            "channel": self.channel,
            "sort": "newest",
        }
        params.update(extra)
        return {k: v for k, v in params.items() if v not in ("", None)}

    def queue_url(self, **extra) -> str:
        return QUEUE + "?" + urlencode(self.queue_params(**extra), doseq=True)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def scoped_cases(user) -> QuerySet[Case]:
    ids = visible_tenant_ids(user)
    qs = Case.objects.all()
    if ids is None:
        return qs
    return qs.filter(tenant_id__in=ids) if ids else qs.none()


def cohort(user, filters: Filters) -> QuerySet[Case]:
    start, end = filters.bounds
    return scoped_cases(user).filter(filters.dimension_q(), created_at__gte=start, created_at__lt=end)


def related_cohort_q(user, filters: Filters, *, created: str = "case_created_at", prefix: str = "case__") -> Q:
    """The cohort on a table hanging off the case (closings, resolutions, tags): the case's created
    time by `created` (AutoClose and Closure copy it, indexed), the dimensions and the tenant scope
    through `prefix`."""
    start, end = filters.bounds
    q = Q(**{f"{created}__gte": start, f"{created}__lt": end}) & filters.dimension_q(prefix)
    ids = visible_tenant_ids(user)
    if ids is not None:
        q &= Q(**{f"{prefix}tenant_id__in": ids}) if ids else Q(pk__in=[])
    return q


class ReportFilterForm(DashboardFilterForm):
    """The SLA dashboard's filters (dates, segment, tier, tenant, team, priority) plus agent,
    category and channel: ?from=&to=&segment=&tier=&tenant=&team=&agent=&priority=&category=&channel=."""

    agent = forms.ModelChoiceField(
        required=False,
        queryset=None,
        to_field_name="username",
        empty_label="All agents",
        widget=forms.Select(attrs=W),
        error_messages={"invalid_choice": "There is no agent with that user name."},
    )
    category = forms.ChoiceField(
        required=False, choices=[("", "All categories"), *Category.choices], widget=forms.Select(attrs=W)
    )
    channel = forms.ChoiceField(
        required=False, choices=[("", "All channels"), *Channel.choices], widget=forms.Select(attrs=W)
    )

    def __init__(self, query: QueryDict, *, user, today: date):
        super().__init__(query, user=user, today=today)
        self.fields["agent"].queryset = (
            get_user_model().objects.filter(is_active=True, groups__isnull=False).distinct().order_by("username")
        )

    def drawn_choices(self) -> None:
        """Before drawing the form: the tenant, team and agent options read in one query each (the
        choice iterator would count, then read through a server-side cursor)."""
        for name in ("tenant", "team", "agent"):
            field = self.fields[name]
            options = [(field.prepare_value(o), field.label_from_instance(o)) for o in field.queryset]
            field.widget.choices = [("", field.empty_label), *options]

    def report_filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(
            date_from=d["date_from"],
            date_to=d["date_to"],
            tz=timezone.get_current_timezone(),
            segment=d["segment"],
            tier=d["tier"],
            tenant_id=d["tenant"].pk if d["tenant"] else None,
            tenant_slug=d["tenant"].slug if d["tenant"] else "",
            team_id=d["team"].pk if d["team"] else None,
            team_slug=d["team"].slug if d["team"] else "",
            agent_id=d["agent"].pk if d["agent"] else None,
            agent_username=d["agent"].username if d["agent"] else "",
            priority=int(Priority.from_slug(d["priority"])) if d["priority"] else None,
            category=d["category"],
            channel=d["channel"],
        )

    def query(self) -> str:
        q = QueryDict(super().query(), mutable=True)
        d = self.cleaned_data
        for name in ("category", "channel"):
            if d[name]:
                q[name] = d[name]
        if d["agent"]:
            q["agent"] = d["agent"].username
        return q.urlencode()
