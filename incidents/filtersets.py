"""The incident list's filters (django-filter): every value lives in the URL."""

from __future__ import annotations

import django_filters as df
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from tenants.models import Resource, Tenant

from .choices import ACTIVE, Severity, Status
from .models import ACTIVE_RANK, Incident

W = {"class": "input"}
CB = forms.CheckboxSelectMultiple
User = get_user_model()


SORTS = {
    "active": ((ACTIVE_RANK.asc(), "severity", "-started_at", "-pk"), "Active first, worst first"),
    "newest": (("-started_at", "-pk"), "Newest"),
    "oldest": (("started_at", "pk"), "Oldest"),
    "severity": (("severity", "-started_at", "-pk"), "Severity"),
    "cases": (("-case_count", "-started_at", "-pk"), "Most linked cases"),
}
DEFAULT_SORT = "active"


class IncidentFilterSet(df.FilterSet):
    q = df.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={**W, "type": "search", "placeholder": "INC-12 or words of the title"}),
    )
    status = df.MultipleChoiceFilter(widget=CB, choices=Status.choices, label="Status")
    severity = df.MultipleChoiceFilter(widget=CB, choices=Severity.choices, label="Severity")
    active = df.BooleanFilter(
        method="filter_active",
        label="Active",
        widget=forms.Select(
            attrs=W, choices=[("", "Active and resolved"), ("true", "Active only"), ("false", "Resolved only")]
        ),
    )
    commander = df.CharFilter(
        method="filter_commander", label="Commander", widget=forms.TextInput(attrs={**W, "placeholder": "username"})
    )
    tenant = df.CharFilter(
        method="filter_tenant",
        label="Tenant affected",
        widget=forms.TextInput(attrs={**W, "placeholder": "tenant slug"}),
    )
    resource = df.CharFilter(
        method="filter_resource", label="Resource", widget=forms.TextInput(attrs={**W, "placeholder": "resource id"})
    )
    started_after = df.DateFilter(
        field_name="started_at",
        lookup_expr="date__gte",
        label="Started from",
        widget=forms.DateInput(attrs={**W, "type": "date"}),
    )
    started_before = df.DateFilter(
        field_name="started_at",
        lookup_expr="date__lte",
        label="Started until",
        widget=forms.DateInput(attrs={**W, "type": "date"}),
    )
    sort = df.ChoiceFilter(
        choices=[(k, v[1]) for k, v in SORTS.items()],
        method="filter_noop",
        label="Sort",
        empty_label=None,
        widget=forms.Select(attrs=W),
    )

    CHIPS = ["status", "severity"]
    MORE = ["commander", "tenant", "resource", "started_after", "started_before"]
    INLINE = ["active"]

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_q(self, qs, name, value):
        from .selectors import parse_incident_key

        value = value.strip()[:100]
        if not value:
            return qs
        pk = parse_incident_key(value)
        return qs.filter(pk=pk) if pk else qs.filter(Q(title__icontains=value) | Q(summary__icontains=value))

    def filter_active(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(status__in=ACTIVE) if value else qs.exclude(status__in=ACTIVE)

    def filter_commander(self, qs, name, value):
        value = value.strip()[:150]
        return qs.filter(commander__username=value) if value else qs

    def filter_tenant(self, qs, name, value):
        value = value.strip()[:60]
        if not value:
            return qs
        tenant = Tenant.objects.filter(slug=value).only("id").first()
        if tenant is None:
            return qs.none()
        from .selectors import _touching

        return qs.filter(_touching([tenant.pk]))

    def filter_resource(self, qs, name, value):
        value = value.strip()[:200]
        if not value:
            return qs
        ids = list(Resource.objects.filter(external_id=value).values_list("pk", flat=True)[:50])
        return qs.filter(Q(resources__in=ids) | Q(cases__affected_resources__in=ids)).distinct() if ids else qs.none()

    def filter_noop(self, qs, name, value):
        return qs

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return super().qs.order_by(*SORTS[self.sort_key][0])

    @property
    def narrows(self) -> bool:
        """Whether a filter narrows the list (or the input is invalid); the sort alone does not."""
        if self.is_bound and not self.is_valid():
            return True
        data = getattr(self.form, "cleaned_data", {}) if self.is_bound else {}
        return any(value not in (None, "", [], ()) for name, value in data.items() if name != "sort")

    @property
    def sort_key(self) -> str:
        self.is_valid()
        value = getattr(self.form, "cleaned_data", {}).get("sort")
        return value if value in SORTS else DEFAULT_SORT
