import pytest

from cases.choices import Priority, Status
from incidents.escalations.models import Component
from tests.factories import CaseFactory, TeamFactory, UserFactory


@pytest.fixture
def engineer(db):
    return UserFactory(username="eli", role="engineer", first_name="Eli", last_name="Eng")


@pytest.fixture
def ingest_team(db, engineer):
    lead = UserFactory(username="lena", role="engineer", email="lena@companyos.example")
    team = TeamFactory(name="Ingest", slug="ingest", manager=lead)
    team.members.add(engineer)
    return team


@pytest.fixture
def component(ingest_team):
    return Component.objects.create(
        name="Ingest API", team=ingest_team, tracker_project="ING", categories=["performance", "integration"]
    )


@pytest.fixture
def critical_case(tenant_a):
    return CaseFactory(
        tenant=tenant_a,
        subject="Ingest API returns 503 on batch upload",
        description="Steps: POST /v1/batch with 500 events.\nGot HTTP 503 ERR_THROTTLED after 2 s.",
        priority=Priority.CRITICAL,
        status=Status.IN_PROGRESS,
        category="performance",
    )
