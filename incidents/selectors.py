"""Reads of the incidents app."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from .models import Incident


def incidents_touching_tenant(tenant_id: int) -> QuerySet[Incident]:
    """The incidents that touch a tenant: through one of its cases or one of its resources (the one
    definition, for the tenant console's panel and a case's context snapshot). EXISTS, not a join,
    so an incident linked to many of the tenant's cases is one row."""
    through_cases, through_resources = Incident.cases.through, Incident.resources.through
    return Incident.objects.filter(
        Exists(through_cases.objects.filter(incident_id=OuterRef("pk"), case__tenant_id=tenant_id))
        | Exists(through_resources.objects.filter(incident_id=OuterRef("pk"), resource__tenant_id=tenant_id))
    )
