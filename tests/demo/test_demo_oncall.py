"""The demo on-call (issue 14): two schedules (Oslo weekly, New York three-day), an override, the
default chain; someone is on call now on each; idempotent."""

import pytest

from demo.oncall import CHAIN, ENG_SCHEDULE, build_demo_oncall
from incidents.escalations.models import Component
from incidents.oncall import selectors
from incidents.oncall.models import EscalationChain, Schedule
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_oncall(role_groups):
    for name, role in [("sre", "SRE"), ("engineer", "engineer"), ("senior", "senior agent"), ("manager", "manager")]:
        UserFactory(username=name, role=role)
    TeamFactory(name="Engineering", slug="engineering")
    assert build_demo_oncall(out=lambda *_: None) is True
    assert Schedule.objects.count() == 2
    assert all(row.now_user is not None for row in selectors.on_call_overview())
    chain = EscalationChain.objects.get(name=CHAIN)
    assert chain.is_default and chain.steps.count() == 2 and chain.fallback_user.username == "manager"
    # The ownership map's demo component pages engineering's schedule.
    assert Component.objects.get(name="Ingest API").oncall_schedule.name == ENG_SCHEDULE
    assert build_demo_oncall(out=lambda *_: None) is False  # idempotent
