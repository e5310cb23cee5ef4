"""What the cases app shows on the tenant pages, registered into tenants.extensions from
CasesConfig.ready() (tenants imports no cases code): the tenant list's open and breached case counts,
the console's Cases panel (counts; its rows come from the queue's own partial, loaded by URL) and the
SLA policy in force on the console header and the Entitlements panel."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tenants import extensions

from .choices import OPEN_STATUSES
from .models import Case


def _case_count(**filters):
    # COUNT(*), not COUNT(id): the count can then come from an index alone.
    rows = (
        Case.objects.filter(tenant_id=OuterRef("pk"), **filters)
        .order_by()
        .values("tenant_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def open_cases(now):
    return _case_count(status__in=OPEN_STATUSES)


def breached_cases(now):
    return _case_count(status__in=OPEN_STATUSES, sla_due_at__lt=now)


SATISFACTION_WINDOW = timedelta(days=90)


def cases_panel(tenant, **_) -> dict:
    """Counts only: the rows come from the queue's own partial, loaded by URL. The list is the
    tenant's open cases, breaches first: the same cases the "open" count counts."""
    counts = Case.objects.filter(tenant=tenant, status__in=OPEN_STATUSES).aggregate(
        open=Count("*"), breached=Count("sla_due_at", filter=Q(sla_due_at__lt=timezone.now()))
    )  # both from an index alone
    queue = "/cases/?"
    from .closure.selectors import tenant_satisfaction

    satisfaction = tenant_satisfaction(tenant.pk, since=timezone.now() - SATISFACTION_WINDOW)
    return {
        "satisfaction": satisfaction,
        "satisfaction_days": SATISFACTION_WINDOW.days,
        "open": counts["open"],
        "breached": counts["breached"],
        "queue_url": queue + urlencode({"tenant": tenant.slug, "sort": "sla"}),
        "open_url": queue + urlencode({"tenant": tenant.slug, "sort": "sla"}),
        "breached_url": queue + urlencode({"tenant": tenant.slug, "sla": "breached", "sort": "sla"}),
        "all_url": queue + urlencode({"tenant": tenant.slug, "status": "all", "sort": "newest"}),
        "empty": False,
    }


def register() -> None:
    from .sla.clocks import policy_for_tenant

    extensions.register_summary(extensions.OPEN_CASES, open_cases)
    extensions.register_summary(extensions.BREACHED_CASES, breached_cases)
    extensions.register_panel("cases", cases_panel)
    extensions.register_policy_lookup(policy_for_tenant)
