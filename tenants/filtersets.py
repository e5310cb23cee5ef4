"""The tenant list's filters. Every value lives in the URL, so a filtered list is a link."""

from __future__ import annotations

import django_filters as df
from django import forms
from django.db.models import Case, F, IntegerField, Q, Value, When

from .choices import BillingStatus, Health, Region, Segment, SupportTier
from .extensions import BREACHED_CASES, OPEN_CASES
from .models import Tenant
from .selectors import HEALTH_RANK

W = {"class": "input"}
CB = forms.CheckboxSelectMultiple

TIER_RANK = Case(
    *[When(support_tier=tier, then=Value(rank)) for rank, tier in enumerate(reversed(SupportTier.values))],
    default=Value(9),
    output_field=IntegerField(),
)  # enterprise first

SORTS = {
    "name": (("name", "pk"), "Name"),
    "-name": (("-name", "-pk"), "Name, Z–A"),
    "health": (("health_rank", "name", "pk"), "Health, worst first"),
    "breached": ((F(BREACHED_CASES).desc(), F(OPEN_CASES).desc(), "name", "pk"), "Most breached cases"),
    "open": ((F(OPEN_CASES).desc(), "name", "pk"), "Most open cases"),
    "tier": ((TIER_RANK.asc(), "name", "pk"), "Support tier, highest first"),
    "segment": (("segment", "name", "pk"), "Segment"),
}
DEFAULT_SORT = "name"

HEALTH_CHOICES = [
    (Health.RED.value, "Unhealthy (red)"),
    (Health.AMBER.value, "Degraded (amber)"),
    (Health.GREEN.value, "Healthy (green)"),
    (Health.UNKNOWN.value, "Unknown"),
]


class TenantFilterSet(df.FilterSet):
    """Filters a queryset from tenants.selectors.tenant_list (it carries the health rank and the
    case-count summary columns, tenants.extensions, that the health, breached and sort filters read)."""

    q = df.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={**W, "type": "search", "placeholder": "Name or slug"}),
    )
    segment = df.MultipleChoiceFilter(widget=CB, choices=Segment.choices, label="Segment")
    tier = df.MultipleChoiceFilter(
        widget=CB, field_name="support_tier", choices=SupportTier.choices, label="Support tier"
    )
    region = df.MultipleChoiceFilter(widget=CB, choices=Region.choices, label="Region")
    billing = df.MultipleChoiceFilter(
        widget=CB, field_name="billing_status", choices=BillingStatus.choices, label="Billing"
    )
    health = df.MultipleChoiceFilter(widget=CB, choices=HEALTH_CHOICES, method="filter_health", label="Health")
    has_breached = df.BooleanFilter(
        method="filter_has_breached",
        label="Breached cases",
        widget=forms.Select(
            attrs=W, choices=[("", "Breached: any"), ("true", "Has breached cases"), ("false", "No breached cases")]
        ),
    )
    sort = df.ChoiceFilter(
        choices=[(k, v[1]) for k, v in SORTS.items()],
        method="filter_noop",
        label="Sort",
        empty_label=None,
        widget=forms.Select(attrs=W),
    )

    CHIPS = [
        "segment",
        "tier",
        "region",
        "billing",
        "health",
    ]  # the filter bar's chips (templates/includes/filter_bar.html)
    INLINE = ["has_breached"]  # shown in place in the filter bar

    class Meta:
        model = Tenant
        fields: list[str] = []

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(name__icontains=value) | Q(slug__icontains=value)) if value else qs

    def filter_health(self, qs, name, values):
        return qs.filter(health_rank__in=[HEALTH_RANK[v] for v in values]) if values else qs

    def filter_has_breached(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(**{f"{BREACHED_CASES}__gt": 0}) if value else qs.filter(**{BREACHED_CASES: 0})

    def filter_noop(self, qs, name, value):
        return qs

    @property
    def qs(self):
        if self.is_bound and not self.is_valid():
            return self.queryset.none()  # a bad value matches nothing rather than widening the list
        return super().qs.order_by(*SORTS[self.sort_key][0])

    @property
    def sort_key(self) -> str:
        self.is_valid()  # validates the form, so cleaned_data holds every valid value
        value = getattr(self.form, "cleaned_data", {}).get("sort")
        return value if value in SORTS else DEFAULT_SORT
