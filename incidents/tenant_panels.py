"""The tenant console's Incidents panel, registered into tenants.extensions from
IncidentsConfig.ready() (tenants imports no incidents code): the incidents touching the tenant,
through its cases or its resources, active first."""

from __future__ import annotations

from django.db.models import Case as SQLCase
from django.db.models import IntegerField, Prefetch, Value, When

from cases.models import Case
from tenants import extensions
from tenants.models import Resource
from tenants.selectors import ROWS

from .models import Incident
from .selectors import incidents_touching_tenant


def incidents_panel(tenant, **_) -> dict:
    incidents = list(
        incidents_touching_tenant(tenant.pk)
        .annotate(
            active_rank=SQLCase(
                When(status__in=Incident.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .select_related("commander")
        .prefetch_related(
            Prefetch(
                "cases",
                queryset=Case.objects.filter(tenant=tenant).only("pk", "tenant_id").order_by("pk"),
                to_attr="tenant_cases",
            ),
            Prefetch(
                "resources",
                queryset=Resource.objects.filter(tenant=tenant).only("pk", "external_id").order_by("external_id"),
                to_attr="tenant_resources",
            ),
        )
        .order_by("active_rank", "-started_at")[:ROWS]
    )
    starts = [i.started_at for i in incidents if i.started_at]
    return {
        "incidents": incidents,
        "active_count": sum(1 for i in incidents if i.active),
        "empty": not incidents,
        "data_at": max(starts) if starts else None,
    }


def register() -> None:
    extensions.register_panel("incidents", incidents_panel)
