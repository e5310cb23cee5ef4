"""The queue's bulk bar action "Link to incident…", registered into cases.bulk from
IncidentsConfig.ready() (cases imports no incidents code): the selected cases are linked through
incidents.services.incident_link_cases, which writes each case's timeline through the case services."""

from __future__ import annotations

from cases.bulk import BulkExtension, BulkResult, register_bulk_action
from cases.errors import CaseError
from companyos.converters import row_id

from . import selectors, services


def _incident(value: str, actor):
    pk = selectors.parse_incident_key(value) or row_id(value.strip())
    incident = selectors.incident_visible_to(actor).filter(pk=pk).first() if pk else None
    if incident is None:
        raise CaseError(f"{value.strip()[:40] or 'That'} is not an incident you can see (e.g. INC-12).")
    if not incident.active:
        raise CaseError(f"{incident.key} is resolved: reopen it before linking cases.")
    return incident


def describe(value: str, actor) -> str:
    incident = _incident(value, actor)
    return f"link to {incident.key} “{incident.title}” ({incident.severity})"


def apply(cases, actor, value: str) -> BulkResult:
    incident = _incident(value, actor)
    try:
        linked = services.incident_link_cases(incident_id=incident.pk, actor=actor, case_ids=[c.pk for c in cases])
    except services.IncidentError as error:
        raise CaseError(str(error)) from None
    return BulkResult(changed=linked.changed, skipped=linked.skipped)


def register() -> None:
    register_bulk_action(
        BulkExtension(
            action="incident", label="Link to incident…", placeholder="INC-12", describe=describe, apply=apply
        )
    )
