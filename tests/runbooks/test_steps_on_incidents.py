"""A runbook step run on a case goes on each linked incident's timeline, and the case's incident
panel lists it (issue 15, point 1; issue 13, point 3)."""

from __future__ import annotations

import pytest

from incidents import services as incident_services
from incidents.models import IncidentEntry
from incidents.selectors import case_incidents
from runbooks import services
from runbooks.models import RunbookStep
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_a_step_run_on_a_case_is_on_its_incidents_and_their_panel(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a)
    incident = incident_services.incident_declare(actor=agent, title="Gateway 5xx", severity="SEV2", tenants=[tenant_a])
    incident_services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[case.pk])
    step = RunbookStep.objects.select_related("runbook").order_by("pk").first()
    services.runbook_step_execute(actor=agent, case_id=case.pk, step_id=step.pk)
    entry = IncidentEntry.objects.get(incident=incident, data__runbook_step=step.pk)
    assert not entry.public and case.key in entry.body and step.title in entry.body
    (shown,) = case_incidents(case)
    assert shown.runbook_steps == [f"{step.title} ({case.key})"]
