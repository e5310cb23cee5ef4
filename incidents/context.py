"""The incidents app's contribution to a case's context snapshot (registered in apps.py into
`cases.context`): the active incidents touching the case's tenant, through a linked case of the
tenant or one of its resources."""

from __future__ import annotations

from datetime import datetime

from cases.context import Contribution

from .models import Incident
from .selectors import incidents_touching_tenant


def active_incidents_touching_tenant(case, now: datetime) -> Contribution:
    incidents = list(
        incidents_touching_tenant(case.tenant_id).filter(status__in=Incident.ACTIVE).order_by("-started_at")[:10]
    )
    rows = [{"key": i.key, "severity": i.severity, "title": i.title} for i in incidents]
    return Contribution(data={"incidents": rows}, signals={"active_incidents": rows})
