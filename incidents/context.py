"""The incidents app's contribution to a case's context snapshot (registered in apps.py into
`cases.context`): the active incidents touching the case's tenant, through a linked case of the
tenant or one of its resources."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from cases.context import Contribution

from .models import Incident


def active_incidents_touching_tenant(case, now: datetime) -> Contribution:
    tenant_id = case.tenant_id
    incidents = list(
        Incident.objects.filter(
            Q(cases__tenant_id=tenant_id) | Q(resources__tenant_id=tenant_id), status__in=Incident.ACTIVE
        )
        .distinct()
        .order_by("-started_at")[:10]
    )
    rows = [{"key": i.key, "severity": i.severity, "title": i.title} for i in incidents]
    return Contribution(data={"incidents": rows}, signals={"active_incidents": rows})
