import pytest

from cases.choices import Priority, Status
from incidents import services
from tests.factories import CaseFactory, ResourceFactory, UserFactory


@pytest.fixture
def sre(db):
    return UserFactory(username="sam", role="SRE", first_name="Sam", last_name="Reyes")


@pytest.fixture
def incident(tenant_a, agent):
    return services.incident_declare(actor=agent, title="API 5xx in EU", severity="SEV1", tenants=[tenant_a])


@pytest.fixture
def critical_case(tenant_a):
    resource = ResourceFactory(tenant=tenant_a, external_id="api-eu")
    case = CaseFactory(
        tenant=tenant_a, subject="All API calls return 500", priority=Priority.CRITICAL, status=Status.IN_PROGRESS
    )
    case.affected_resources.set([resource])
    return case
