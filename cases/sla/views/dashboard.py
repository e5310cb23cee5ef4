"""The manager SLA dashboard (/sla/) and its CSV export (/sla/export.csv).

Thin views: the filter form parses the URL, `cases.sla.reports` computes (in the database, a fixed
number of queries), the page and the CSV render the same `Dashboard`. Managers and admins only.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

from django import forms
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from companyos import audit, roles
from companyos.access import audited_read, no_data
from companyos.htmx import partial
from tenants.choices import Segment, SupportTier
from tenants.models import Tenant

from ...choices import PRIORITY_SLUG_CHOICES, Priority
from .. import reports as sla_reports
from .. import selectors

TEMPLATE = "cases/sla_dashboard.html"
W = {"class": "input"}
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
TENANT_ROWS = 25  # the page shows the worst 25 tenants; the CSV has them all


class DashboardFilterForm(forms.Form):
    """The dashboard's filters, all in the URL: ?from=&to=&segment=&tier=&tenant=&team=&priority=.
    Missing dates mean the last 28 days (today included) in the viewer's timezone."""

    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={**W, "type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={**W, "type": "date"}, format="%Y-%m-%d"))
    segment = forms.ChoiceField(
        required=False, choices=[("", "All segments"), *Segment.choices], widget=forms.Select(attrs=W)
    )
    tier = forms.ChoiceField(
        required=False,
        label="Support tier",
        choices=[("", "All tiers"), *SupportTier.choices],
        widget=forms.Select(attrs=W),
    )
    tenant = forms.ModelChoiceField(
        required=False,
        queryset=None,
        to_field_name="slug",
        empty_label="All tenants",
        widget=forms.Select(attrs=W),
        error_messages={"invalid_choice": "There is no tenant with that slug that you can see."},
    )
    team = forms.ModelChoiceField(
        required=False,
        queryset=None,
        to_field_name="slug",
        empty_label="All teams",
        widget=forms.Select(attrs=W),
        error_messages={"invalid_choice": "There is no team with that slug."},
    )
    priority = forms.ChoiceField(
        required=False, choices=[("", "All priorities"), *PRIORITY_SLUG_CHOICES], widget=forms.Select(attrs=W)
    )

    URL_NAMES = {"date_from": "from", "date_to": "to"}

    def __init__(self, query: QueryDict, *, user, today: date):
        data = query.copy()
        if not data.get("to"):
            data["to"] = today.isoformat()
        if not data.get("from"):
            try:
                end = date.fromisoformat(data["to"])
            except ValueError:
                end = today
            data["from"] = max(end - timedelta(days=sla_reports.DEFAULT_RANGE_DAYS - 1), EARLIEST).isoformat()
        super().__init__(data)
        self.fields["tenant"].queryset = selectors.dashboard_tenant_choices(user)
        self.fields["team"].queryset = selectors.teams()

    def add_prefix(self, field_name):
        # `from` is a Python keyword: the fields are date_from/date_to, the URL says from/to.
        return self.URL_NAMES.get(field_name, field_name)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        for name, value in (("date_from", start), ("date_to", end)):
            if value and not EARLIEST <= value <= LATEST:
                self.add_error(name, f"Choose a date between {EARLIEST.year} and {LATEST.year}.")
                return data
        if start and end:
            if start > end:
                self.add_error("date_to", "The end date must be on or after the start date.")
            elif (end - start).days + 1 > sla_reports.MAX_RANGE_DAYS:
                self.add_error(
                    "date_to",
                    f"Choose at most {sla_reports.MAX_RANGE_DAYS} days (this range has {(end - start).days + 1}).",
                )
        return data

    def filters(self) -> sla_reports.Filters:
        data = self.cleaned_data
        return sla_reports.Filters(
            date_from=data["date_from"],
            date_to=data["date_to"],
            tz=timezone.get_current_timezone(),
            segment=data["segment"],
            tier=data["tier"],
            tenant_id=data["tenant"].pk if data["tenant"] else None,
            team_id=data["team"].pk if data["team"] else None,
            priority=int(Priority.from_slug(data["priority"])) if data["priority"] else None,
        )

    def query(self) -> str:
        """The filters as a normalised query string (for links, the CSV and the audit entry)."""
        data = self.cleaned_data
        q = QueryDict(mutable=True)
        q["from"], q["to"] = data["date_from"].isoformat(), data["date_to"].isoformat()
        for name in ("segment", "tier", "priority"):
            if data[name]:
                q[name] = data[name]
        for name in ("tenant", "team"):
            if data[name]:
                q[name] = data[name].slug
        return q.urlencode()

    def error_list(self) -> list[str]:
        return [
            f"{self[name].label}: {error}" if name != "__all__" else error
            for name, errors in self.errors.items()
            for error in errors
        ]


def _forbidden(request) -> HttpResponse:
    audit.log_denied(Tenant, "list", path=request.path, reason="the SLA dashboard is for managers and admins")
    return render(request, TEMPLATE, {"forbidden": True}, status=403)


def _form(request) -> DashboardFilterForm:
    return DashboardFilterForm(request.GET, user=request.user, today=timezone.localdate())


def _breach_page(request) -> int:
    """?page= of the breach list: a bad or missing number is page 1 (the list clamps to its last page)."""
    value = request.GET.get("page", "")
    return int(value) if value.isdigit() and len(value) < 9 else 1


@audited_read(Tenant, view="sla dashboard")
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def dashboard(request):
    if not roles.sees_sla_dashboard(request.user):
        return _forbidden(request)
    form = _form(request)
    context = {"form": form}
    if form.is_valid() and getattr(request, "htmx", None) and request.htmx.target == "sla-breaches":
        # Paging the breach list: only its two queries, not the whole dashboard's.
        dash = sla_reports.Dashboard.breaches_only(form.filters(), now=timezone.now())
        sla_reports.fill_breaches(dash, request.user, page=_breach_page(request))
        query = form.query()
        audit.log_list_access(Tenant, dash.tenant_ids, view="sla dashboard", query=query)
        return render(request, f"{TEMPLATE}#breaches", {"form": form, "dash": dash, "query": query})
    if form.is_valid():
        dash = sla_reports.dashboard(
            request.user, form.filters(), now=timezone.now(), breach_page=_breach_page(request)
        )
        query = form.query()
        audit.log_list_access(Tenant, dash.tenant_ids, view="sla dashboard", query=query)
        tenant_rows = dash.by_tenant[:TENANT_ROWS]
        context.update(
            dash=dash,
            query=query,
            trends=dash.trends,
            chart=dash.chart,
            bars={
                "priority": sla_reports.bar_chart(dash.by_priority, title="Attainment by priority"),
                "segment": sla_reports.bar_chart(dash.by_segment, title="Attainment by segment"),
                "tenant": sla_reports.bar_chart(tenant_rows, title="Attainment by tenant, most missed first"),
                "team": sla_reports.bar_chart(dash.by_team, title="Attainment by team"),
            },
            heat_legend=list(enumerate(sla_reports.HEAT_LEGEND)),
            tenant_rows=tenant_rows,
            more_tenants=max(len(dash.by_tenant) - TENANT_ROWS, 0),
        )
    # Invalid filters: the form says what is wrong (status 200, so htmx swaps it in) and no numbers
    # are shown, rather than numbers for filters the user did not ask for.
    # htmx 2 sends HX-Request when it restores history (Back): that needs the whole page.
    restoring = getattr(getattr(request, "htmx", None), "history_restore_request", False)
    response = render(request, TEMPLATE if restoring else partial(request, TEMPLATE, "results"), context)
    return response if "dash" in context else no_data(response)


@audited_read(Tenant, view="sla dashboard export")
@require_GET
def dashboard_csv(request):
    if not roles.sees_sla_dashboard(request.user):
        audit.log_denied(Tenant, "list", path=request.path, reason="the SLA dashboard is for managers and admins")
        return HttpResponse(
            "The SLA dashboard is for managers and admins.\n", status=403, content_type="text/plain; charset=utf-8"
        )
    form = _form(request)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + " ".join(form.error_list()) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters()
    dash = sla_reports.dashboard(request.user, filters, now=timezone.now(), breaches=False)
    audit.log_list_access(Tenant, dash.tenant_ids, view="sla dashboard", query="export.csv?" + form.query())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="sla-{filters.date_from.isoformat()}-to-{filters.date_to.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerows(sla_reports.csv_rows(dash))
    return response
