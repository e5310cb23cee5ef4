"""The triage queue's filters. Every value lives in the URL, so a queue is a link."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import django_filters as df
from django import forms
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone

from tenants.choices import Channel, Segment, SupportTier
from tenants.selectors import tenant_visible_to, visible_tenant_ids

from . import search_index
from .choices import (
    OPEN_STATUSES,
    PRIORITY_SLUG_CHOICES,
    Category,
    Environment,
    IssueType,
    Priority,
    Severity,
    Status,
)
from .closure.models import AutoClose, Closure
from .closure.rules import CLOSED_HOW
from .models import Case, SLAClock, Tag, Team
from .selectors import parse_case_key
from .sla.reports import NO_TEAM, missed_q
from .sla.reports import Filters as SLAReportFilters

SLA_STATES = [("breached", "Breached"), ("at_risk", "At risk"), ("on_track", "On track"), ("paused", "Paused")]
# A clock missed in a period (the SLA dashboard's "missed" counts link here): first response or
# resolution, started between sla_from and sla_to (days in the viewer's timezone), stopped late or
# still running past due. Unlike `sla`, this is history: it applies to closed cases too.
SLA_MISSED = [("first_response", "First response missed"), ("resolution", "Resolution missed")]

# The reports' drill-downs (cases.reports): reopened after a resolution (ever, or within 7 days of it),
# how a closing happened (cases.closure), and the survey of a closing (answered, or a low score).
REOPENED = [("yes", "Reopened after a resolution"), ("7d", "Reopened within 7 days of a resolution")]
CLOSED_HOW_CHOICES = list(CLOSED_HOW.items())
SURVEY = [("answered", "Survey answered"), ("low", "Low score (CSAT 1–2 or NPS 0–6)")]

STATUS_CHOICES = [("open", "Open (any)"), ("all", "All")] + list(Status.choices)

SORTS = {
    "priority": (("priority", "created_at", "id"), "Priority, then oldest"),
    "sla": ((F("sla_due_at").asc(nulls_last=True), "id"), "Breaches soonest"),
    "age": (("created_at", "id"), "Oldest first"),
    "newest": (("-created_at", "-id"), "Newest first"),
    "updated": (("-updated_at", "-id"), "Recently updated"),
    "stale": (("updated_at", "id"), "Least recently updated"),
}
DEFAULT_SORT = "priority"

W = {"class": "input"}
CB = forms.CheckboxSelectMultiple


# The queue's optional columns (what `cols` in the URL may name), in table order, and those shown when
# the URL names none. Key, subject, tenant, priority, status, owner and SLA are always shown.
COLUMNS = [
    ("requester", "Requester"),
    ("team", "Team"),
    ("severity", "Severity"),
    ("category", "Category"),
    ("channel", "Channel"),
    ("updated", "Updated"),
    ("created", "Created"),
]
DEFAULT_COLUMNS = ("updated", "created")
NO_COLUMNS = "none"  # `cols=none`: every optional column off (an absent `cols` means the defaults)


# Hours a case may have sat in its status, for the filter: a century (anything past it matches nothing
# anyway, and a larger number would overflow the date arithmetic).
MAX_STATUS_HOURS = 100 * 366 * 24
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # an open end of the missed-clock date range


class CaseFilterSet(df.FilterSet):
    q = df.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={**W, "type": "search", "placeholder": "Key or words: subject, messages, notes"}),
    )
    status = df.MultipleChoiceFilter(widget=CB, choices=STATUS_CHOICES, method="filter_status", label="Status")
    priority = df.MultipleChoiceFilter(
        widget=CB, choices=PRIORITY_SLUG_CHOICES, method="filter_priority", label="Priority"
    )
    tenant = df.ModelMultipleChoiceFilter(
        widget=CB, to_field_name="slug", queryset=None, method="filter_in", label="Tenant"
    )
    segment = df.MultipleChoiceFilter(widget=CB, field_name="tenant__segment", choices=Segment.choices, label="Segment")
    tier = df.MultipleChoiceFilter(
        widget=CB, field_name="tenant__support_tier", choices=SupportTier.choices, label="Support tier"
    )
    owner = df.CharFilter(
        method="filter_owner",
        label="Owner",
        widget=forms.TextInput(attrs={**W, "placeholder": "me, unassigned or a username"}),
    )
    team = df.ModelMultipleChoiceFilter(
        widget=CB,
        to_field_name="slug",
        queryset=Team.objects.all(),
        method="filter_team",
        label="Team",
        null_label="No team",
        null_value=NO_TEAM,
    )
    category = df.MultipleChoiceFilter(widget=CB, choices=Category.choices, label="Category")
    issue_type = df.MultipleChoiceFilter(widget=CB, choices=IssueType.choices, label="Issue type")
    environment = df.MultipleChoiceFilter(widget=CB, choices=Environment.choices, label="Environment")
    severity = df.MultipleChoiceFilter(widget=CB, choices=Severity.choices, label="Severity")
    channel = df.MultipleChoiceFilter(widget=CB, choices=Channel.choices, label="Channel")
    tag = df.ModelMultipleChoiceFilter(
        widget=CB, to_field_name="name", queryset=Tag.objects.all(), method="filter_tag", label="Tags"
    )
    created_after = df.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label="Created from",
        widget=forms.DateInput(attrs={**W, "type": "date"}),
    )
    created_before = df.DateFilter(
        field_name="created_at",
        lookup_expr="date__lte",
        label="Created to",
        widget=forms.DateInput(attrs={**W, "type": "date"}),
    )
    updated_after = df.DateFilter(
        field_name="updated_at",
        lookup_expr="date__gte",
        label="Updated from",
        widget=forms.DateInput(attrs={**W, "type": "date"}),
    )
    updated_before = df.DateFilter(
        field_name="updated_at",
        lookup_expr="date__lte",
        label="Updated to",
        widget=forms.DateInput(attrs={**W, "type": "date"}),
    )
    sla = df.MultipleChoiceFilter(widget=CB, choices=SLA_STATES, method="filter_sla", label="SLA")
    sla_missed = df.ChoiceFilter(
        choices=SLA_MISSED, method="filter_sla_missed", label="SLA clock missed", widget=forms.Select(attrs=W)
    )
    sla_from = df.DateFilter(
        method="filter_noop", label="Missed clock started from", widget=forms.DateInput(attrs={**W, "type": "date"})
    )
    sla_to = df.DateFilter(
        method="filter_noop", label="Missed clock started to", widget=forms.DateInput(attrs={**W, "type": "date"})
    )
    in_status_hours = df.NumberFilter(
        method="filter_in_status_hours",
        label="In current status for at least (hours)",
        min_value=0,
        max_value=MAX_STATUS_HOURS,
    )
    # The reports' drill-downs (cases.reports): the cases behind a reopen, closing or survey number.
    reopened = df.ChoiceFilter(
        choices=REOPENED, method="filter_reopened", label="Reopened", widget=forms.Select(attrs=W)
    )
    closed_how = df.ChoiceFilter(
        choices=CLOSED_HOW_CHOICES, method="filter_closed_how", label="Closed", widget=forms.Select(attrs=W)
    )
    survey = df.ChoiceFilter(choices=SURVEY, method="filter_survey", label="Survey", widget=forms.Select(attrs=W))
    cols = df.MultipleChoiceFilter(
        widget=CB, choices=COLUMNS + [(NO_COLUMNS, "None")], method="filter_noop", label="Columns"
    )
    sort = df.ChoiceFilter(
        choices=[(k, v[1]) for k, v in SORTS.items()],
        method="filter_noop",
        label="Sort",
        empty_label=None,
        widget=forms.Select(attrs=W),
    )

    CHIPS = [
        "status",
        "sla",
        "priority",
        "severity",
        "tenant",
        "segment",
        "tier",
        "team",
        "category",
        "issue_type",
        "environment",
        "channel",
        "tag",
    ]
    MORE = [
        "owner",
        "created_after",
        "created_before",
        "updated_after",
        "updated_before",
        "in_status_hours",
        "sla_missed",
        "sla_from",
        "sla_to",
        "reopened",
        "closed_how",
        "survey",
    ]

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django_filters.FilterSet.__init__, with each filter copied shallowly (and its `extra`, the one
        # dict a filter changes per request) instead of deep-copying ~20 filters with their querysets.
        data = data.copy() if data is not None else None
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            filter_ = copy.copy(base)
            filter_.extra = dict(base.extra)
            filter_.__dict__.pop("_field", None)
            if getattr(base, "_method", None) is not None:
                filter_.method = base._method  # its FilterMethod, bound to this copy, not to the class's filter
            filter_.model, filter_.parent = queryset.model, self
            self.filters[name] = filter_
        user = request.user if request else None
        self.filters["tenant"].queryset = tenant_visible_to(user) if user else Case.objects.none()

    def get_form_class(self):
        """The form class, built once per filterset class (django-filter builds a new class, and a
        new field per filter, on every request). The per-request part, the tenants the viewer may
        choose from, is set on the form's own copy of the field (`form`)."""
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            fields = {name: filter_.field for name, filter_ in cls.base_filters.items()}
            form_class = type(f"{cls.__name__}Form", (self._meta.form,), fields)
            form_class.base_fields = _CheaplyCopiedFields(form_class.base_fields)
            cls._form_class = form_class
        return form_class

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form_class = self.get_form_class()
            self._form = form_class(self.data if self.is_bound else None, prefix=self.form_prefix)
            self._form.fields["tenant"].queryset = self.filters["tenant"].queryset
        return self._form

    # The statuses: "open" (the default) or "all" or any list of concrete statuses.
    def filter_status(self, qs, name, values):
        wanted = self.status_values(values)
        # Every status selects every case: no filter (an IN list of all six narrows nothing and
        # steers the planner to the status indexes).
        return qs if len(wanted) == len(Status.values) else qs.filter(status__in=wanted)

    @staticmethod
    def status_values(values) -> list[str]:
        if not values:
            values = ["open"]
        if "all" in values:
            return list(Status.values)
        wanted = set()
        for value in values:
            wanted |= set(OPEN_STATUSES) if value == "open" else {value}
        # In the lifecycle's order: for "open" that is exactly the partial indexes' predicate, which
        # PostgreSQL only recognises when the IN list matches it.
        return [s for s in Status.values if s in wanted]

    def filter_priority(self, qs, name, values):
        return qs.filter(priority__in=[Priority.from_slug(v) for v in values]) if values else qs

    def filter_owner(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        if value == "me":
            return qs.filter(owner=self.request.user)
        if value == "unassigned":
            return qs.filter(owner__isnull=True)
        return qs.filter(owner__username=value)

    def filter_tag(self, qs, name, tags):
        if not _chosen(tags):
            return qs
        through = Case.tags.through
        return qs.filter(Exists(through.objects.filter(case_id=OuterRef("pk"), tag__in=tags)))

    def filter_in_status_hours(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(status_changed_at__lte=timezone.now() - timedelta(hours=float(value)))

    def filter_q(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        pk = parse_case_key(value)
        if pk is not None:
            return qs.filter(pk=pk)
        return qs.filter(search_index.matches(value))

    def filter_sla(self, qs, name, values):
        """SLA state from the case's clock summary, against the time now (no sweep needed)."""
        if not values:
            return qs
        now = timezone.now()
        states = {
            "breached": Q(sla_due_at__lt=now),
            "at_risk": Q(sla_risk_at__lte=now, sla_due_at__gte=now),
            "on_track": Q(sla_due_at__gte=now) & (Q(sla_risk_at__gt=now) | Q(sla_risk_at__isnull=True)),
            "paused": Q(sla_paused=True),
        }
        wanted = Q()
        for value in values:
            wanted |= states[value]
        return qs.filter(wanted, status__in=OPEN_STATUSES)

    def filter_sla_missed(self, qs, name, value):
        """Cases with a `value` clock missed (stopped late, or running past due now) that started in
        [sla_from 00:00, sla_to + 1 day 00:00) in the viewer's timezone: the SLA dashboard's rule
        (cases.sla.reports), so its counts and this list agree."""
        if not value:
            return qs
        data = self.form.cleaned_data
        clocks = SLAClock.objects.filter(missed_q(timezone.now()), case_id=OuterRef("pk"), kind=value)
        if data.get("sla_from") or data.get("sla_to"):
            start = min(max(data.get("sla_from") or EARLIEST, EARLIEST), LATEST)
            end = min(max(data.get("sla_to") or LATEST, EARLIEST), LATEST)
            lo, hi = SLAReportFilters(date_from=start, date_to=end, tz=timezone.get_current_timezone()).bounds
            clocks = clocks.filter(started_at__gte=lo, started_at__lt=hi)
        return qs.filter(Exists(clocks))

    def filter_team(self, qs, name, values):
        if not _chosen(values):
            return qs
        teams = [v for v in values if v != NO_TEAM]
        wanted = Q(team__in=teams) if teams else Q()
        if NO_TEAM in values:
            wanted = (wanted | Q(team__isnull=True)) if teams else Q(team__isnull=True)
        return qs.filter(wanted)

    def filter_reopened(self, qs, name, value):
        if not value:
            return qs
        timers = AutoClose.objects.filter(case_id=OuterRef("pk"), reopened_at__isnull=False)
        if value == "7d":
            timers = timers.filter(reopened_at__lte=F("resolved_at") + timedelta(days=7))
        return qs.filter(Exists(timers))

    def filter_closed_how(self, qs, name, value):
        return qs.filter(Exists(Closure.objects.filter(case_id=OuterRef("pk"), how=value))) if value else qs

    def filter_survey(self, qs, name, value):
        if not value:
            return qs
        closures = Closure.objects.filter(case_id=OuterRef("pk"), csat__isnull=False)
        if value == "low":
            closures = closures.filter(Q(csat__lte=2) | Q(nps__lte=6))
        return qs.filter(Exists(closures))

    def filter_in(self, qs, name, objects):
        return qs.filter(**{f"{name}__in": objects}) if _chosen(objects) else qs

    def filter_noop(self, qs, name, value):
        return qs

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            # An invalid value (a tenant you may not see, a bad date) matches nothing: dropping it
            # would silently widen the list. The form shows what is wrong.
            return self.queryset.none()
        qs = super().qs
        # Status is "open" when absent from the URL.
        if not getattr(self.form, "cleaned_data", {}).get("status"):
            qs = qs.filter(status__in=OPEN_STATUSES)
        return qs.order_by(*SORTS[self.sort_key][0])

    @property
    def sort_key(self) -> str:
        self.is_valid()  # validates the form, so cleaned_data holds every valid value
        value = getattr(self.form, "cleaned_data", {}).get("sort")
        return value if value in SORTS else DEFAULT_SORT

    # --- the address and the active filters, as the user reads them --------------------------------

    @property
    def columns(self) -> list[str]:
        """The optional columns shown, in table order: those `cols` names, else DEFAULT_COLUMNS."""
        return columns_in(self.data)

    def pills(self, query: str) -> list[Pill]:
        """One removable pill per active filter value ("Priority: Critical"), in the filter bar's
        order, each with the query that removes just it. `query` is the clean query (clean_query)."""
        data = QueryDict(query)
        self.is_valid()
        cleaned = getattr(self.form, "cleaned_data", {})
        pills = []
        for name, field in self.form.fields.items():
            if name in NOT_FILTERS:
                continue
            for raw in data.getlist(name):
                pills.append(
                    Pill(
                        name=name,
                        label=str(field.label),
                        value=self._value_label(name, field, raw, cleaned.get(name)),
                        remove_query=_without(data, name, raw),
                    )
                )
        return pills

    def _value_label(self, name, field, raw, cleaned) -> str:
        if name == "q":
            return f"“{raw}”"
        if name == "owner":
            return {"me": "me", "unassigned": "unassigned"}.get(raw.strip(), owner_name(raw.strip()))
        if name == "in_status_hours":
            return f"≥ {raw} h"
        if hasattr(field, "queryset") and cleaned:  # tenant, team, tag: the object's name
            key = field.to_field_name
            for obj in cleaned:
                if isinstance(obj, str):  # a sentinel among the objects: team=none
                    if obj == raw:
                        return "No team" if obj == "none" else obj
                elif str(getattr(obj, key)) == raw:
                    return str(obj)
            return raw
        choices = dict((str(v), str(label)) for v, label in getattr(field, "choices", ()))
        return choices.get(raw, raw)


class _CheaplyCopiedFields(dict):
    """A form's `base_fields`, copied per form the way Django's `Field.__deepcopy__` does (a new
    field, widget and attrs, validators and error messages; a model field's queryset cloned, never
    shared with its result cache), but with the choices lists shared rather than deep-copied: they
    are never changed in place. ~35 fields with their choices were ~0.5 ms of every queue request."""

    def __deepcopy__(self, memo):
        copied = {}
        for name, field in self.items():
            new = copy.copy(field)
            widget = copy.copy(field.widget)
            widget.attrs = dict(field.widget.attrs)
            new.widget = widget
            new.error_messages = dict(field.error_messages)
            new.validators = list(field.validators)
            if getattr(field, "queryset", None) is not None:
                new.queryset = field.queryset.all()  # also sets the widget's choices to the clone
            elif hasattr(field, "_choices"):
                new._choices = list(field._choices)
                widget.choices = new._choices
            copied[name] = new
        return copied


# --- the filter bar's fragment cache -------------------------------------------------------------------
# The queue's filter bar (a hundred-odd checkboxes: tenants, teams, tags, the fixed choices, the
# values of the address) was a third of the queue page's time. It is the same HTML for everyone who
# may see the same tenants and asks for the same clean query, until a tenant, team or tag changes:
# those saves and deletes replace the version below (now, and again once their transaction commits,
# so a page rendered in between cannot keep old choices under the new version).

CHOICES_VERSION_KEY = "cases:filter-choices-version"


def filter_choices_version() -> str:
    version = cache.get(CHOICES_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(CHOICES_VERSION_KEY, version, None)
        version = cache.get(CHOICES_VERSION_KEY) or version
    return version


def filter_choices_changed(**kwargs) -> None:
    """A tenant, team or tag was saved or deleted (signal receiver, cases.apps)."""
    cache.set(CHOICES_VERSION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(CHOICES_VERSION_KEY, uuid.uuid4().hex, None))


def filter_bar_key(filterset: CaseFilterSet, query: str, user) -> str:
    """The filter bar's cache key for `query` (the clean query) as `user` sees it, or "" (no cache)
    when a value in the address is invalid: then the bar shows the error."""
    if filterset.form.errors:
        return ""
    ids = visible_tenant_ids(user)
    scope = "all" if ids is None else ",".join(str(pk) for pk in sorted(ids))
    return f"{filter_choices_version()}|{scope}|{query}"


def _chosen(values) -> bool:
    """Whether a multiple-choice filter's cleaned value chose anything, without running it: a model
    choice cleans to a queryset, whose truth would be one more statement (and its `none()` a
    compiled query) per filter and request."""
    if values is None:
        return False
    query = getattr(values, "query", None)
    if query is not None:
        return not query.is_empty()
    return len(values) > 0


NOT_FILTERS = {"sort", "cols"}  # in the URL, but how the rows are shown, not which rows


@dataclass(frozen=True)
class Pill:
    name: str
    label: str
    value: str
    remove_query: str


def owner_name(username: str) -> str:
    from .selectors import person_name

    return person_name(username)


def clean_query(params: QueryDict, *, page: bool = False) -> str:
    """The queue's address as it should read: only the queue's own parameters, in the filter bar's
    order, no empty values, not the default sort, not the default columns, and no page unless
    `page`. `?priority=critical&tenant=globex`, never
    `?q=&priority=critical&tenant=globex&owner=&created_after=`. Two addresses that select and show
    the same have the same clean query (a saved view is "current" when they are equal)."""
    out = QueryDict(mutable=True)
    for key in [*CaseFilterSet.base_filters, *(["page"] if page else [])]:
        values = list(dict.fromkeys(v for v in params.getlist(key) if v.strip()))
        if key == "sort" and values == [DEFAULT_SORT]:
            continue
        if key == "cols" and values:
            shown = columns_in(params)
            if shown == list(DEFAULT_COLUMNS):
                continue
            values = shown or [NO_COLUMNS]
        if values:
            out.setlist(key, values)
    return out.urlencode()


def view_query(view) -> str:
    """A saved view's clean query, its own columns included: the queue's address for it."""
    q = QueryDict(view.query, mutable=True)
    if view.columns:
        q.setlist("cols", view.columns)
    return clean_query(q)


def columns_in(params) -> list[str]:
    """The optional columns `params` (a QueryDict or a list of names) asks for, in table order."""
    names = params.getlist("cols") if hasattr(params, "getlist") else list(params or [])
    if not [n for n in names if n.strip()]:
        return list(DEFAULT_COLUMNS)
    wanted = set(names)
    return [key for key, _ in COLUMNS if key in wanted]


def _without(data: QueryDict, name: str, value: str) -> str:
    q = data.copy()
    q.setlist(name, [v for v in data.getlist(name) if v != value])
    return clean_query(q)
