from datetime import date, time

import pytest

from incidents.oncall import services
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def people(db):
    return [
        UserFactory(username=n, first_name=n.title(), email=f"{n}@example.com", role="SRE")
        for n in ("ann", "bob", "cy", "dee")
    ]


@pytest.fixture
def schedule(people):
    schedule = services.schedule_create(actor=people[0], name="SRE primary", timezone_name="Europe/Oslo")
    services.layer_add(
        actor=people[0],
        schedule_id=schedule.pk,
        participants=people[:3],
        start_date=date(2020, 1, 6),
        handoff_time=time(9, 0),
        handoff_weekday=0,
    )
    return schedule


@pytest.fixture
def chain(schedule, people):
    """Step 1: the schedule's on-call, wait 5 min; step 2: dee, wait 10 min; repeat once; fallback: a team."""
    team = TeamFactory(name="Leads", slug="leads")
    boss = UserFactory(username="boss", email="boss@example.com")
    team.members.add(boss)
    return services.chain_create(
        actor=people[0],
        name="SRE chain",
        is_default=True,
        repeat=1,
        fallback_team=team,
        steps=[
            {"target": "schedule", "schedule": schedule, "wait_minutes": 5},
            {"target": "user", "user": people[3], "wait_minutes": 10},
        ],
    )
