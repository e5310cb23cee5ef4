"""The demo's context snapshots (issue 9, point 14): `seed_demo` leaves its open cases with a
snapshot, the most urgent first within the bound, and its realistic waits say what for."""

from __future__ import annotations

import pytest

from cases.choices import Priority, Status
from cases.models import Case, CaseContext, Interaction
from companyos import roles
from demo.snapshots import snapshot_open_cases
from demo.timelines import realistic_cases
from demo.world import build_demo_world
from tests.factories import CaseFactory


@pytest.mark.django_db
def test_open_cases_get_a_snapshot_most_urgent_first_and_bounded():
    world = build_demo_world()
    tenant = world.tenants[0]
    low = CaseFactory(tenant=tenant, requester=world.requesters[tenant.pk][0], priority=Priority.LOW)
    critical = CaseFactory(tenant=tenant, requester=world.requesters[tenant.pk][0], priority=Priority.CRITICAL)
    closed = CaseFactory(tenant=tenant, requester=world.requesters[tenant.pk][0], status=Status.CLOSED)

    assert snapshot_open_cases(limit=1) == 1
    assert list(CaseContext.objects.values_list("case_id", flat=True)) == [critical.pk]
    assert snapshot_open_cases() == 1  # the rest; a case with a snapshot is skipped
    assert set(CaseContext.objects.values_list("case_id", flat=True)) == {critical.pk, low.pk}
    assert not closed.contexts.exists()
    assert snapshot_open_cases() == 0
    entry = critical.interactions.get(kind=Interaction.Kind.AUTOMATION)
    assert roles.is_system(entry.actor) and entry.body.startswith("context captured")


@pytest.mark.django_db
def test_realistic_demo_cases_waiting_on_the_customer_say_what_for():
    world = build_demo_world()
    realistic_cases(world, 60, seed=3, service_share=0.5)
    waiting = Case.objects.filter(status=Status.WAITING_ON_CUSTOMER)
    assert waiting.exists()
    assert not waiting.filter(waiting_for="").exists()
    assert all(case.waiting_for_text for case in waiting)
    moves = Interaction.objects.filter(kind=Interaction.Kind.STATUS, data__to=Status.WAITING_ON_CUSTOMER)
    assert moves.exists() and not moves.filter(data__waiting_text__isnull=True).exists()
