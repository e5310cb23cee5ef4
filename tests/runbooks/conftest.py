import pytest

from cases import services as case_services
from cases.choices import Status
from tests.factories import CaseFactory, RequesterFactory


@pytest.fixture
def open_case(tenant_a, agent):
    """A case in progress, as an agent has it after triage."""
    requester = RequesterFactory(tenant=tenant_a, name="Jo Doe")
    case = CaseFactory(tenant=tenant_a, requester=requester, subject="Login fails with 401", status=Status.NEW)
    case_services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=agent)
    case_services.case_transition(case_id=case.pk, to=Status.IN_PROGRESS, actor=agent)
    case.refresh_from_db()
    return case
