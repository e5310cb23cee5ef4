"""Hand-offs: one prompt per rotation change, the outgoing asked an hour before with a prefilled note,
the incoming told at the change (e-mail and the console's home)."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from cases.choices import Priority, Status
from cases.models import Notification
from incidents.oncall import handoff
from incidents.oncall.models import HandoffPrompt
from tests.conftest import login
from tests.factories import CaseFactory

# the fixture's weekly rotation hands off on Mondays at 09:00 Oslo: Monday 9 March 2026 08:00 UTC
CHANGE = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def at(instant):
    """The home panel's clock (the hand-offs of the fixture's rotation are in March 2026)."""
    return mock.patch.object(handoff, "timezone", mock.Mock(now=lambda: instant))


@pytest.mark.django_db
def test_prompt_once_prefilled_then_delivered(schedule, people, tenant_a):
    CaseFactory(tenant=tenant_a, subject="Payments failing", priority=Priority.HIGH, status=Status.IN_PROGRESS)
    handoff.handoff_sweep(now=CHANGE - timedelta(hours=2))
    assert not HandoffPrompt.objects.exists()  # more than an hour ahead
    for _ in range(3):
        handoff.handoff_sweep(now=CHANGE - timedelta(minutes=50))
    prompt = HandoffPrompt.objects.get()
    weeks = (CHANGE - datetime(2020, 1, 6, 8, tzinfo=UTC)).days // 7
    assert prompt.outgoing == people[(weeks - 1) % 3] and prompt.incoming == people[weeks % 3]
    assert prompt.state == "prompted"
    assert "Payments failing" in prompt.note and "Active incidents" in prompt.note
    assert (
        Notification.objects.filter(recipient=prompt.outgoing.email, subject__startswith="Hand-off note").count() == 1
    )

    client = login(prompt.outgoing)
    with at(CHANGE - timedelta(minutes=40)):
        response = client.get("/oncall/handoff/mine/")
        assert response.status_code == 200 and "Payments failing" in response.content.decode()
        response = client.post(
            "/oncall/handoff/mine/", {"prompt": prompt.pk, "note": "DB failover at 07:00 went fine."}
        )
        assert response.status_code == 200
        other = login(prompt.incoming).post("/oncall/handoff/mine/", {"prompt": prompt.pk, "note": "x"})
        assert other.status_code == 422

    handoff.handoff_sweep(now=CHANGE + timedelta(minutes=1))
    handoff.handoff_sweep(now=CHANGE + timedelta(minutes=2))
    prompt.refresh_from_db()
    assert prompt.state == "delivered"
    mails = Notification.objects.filter(recipient=prompt.incoming.email, subject__startswith="You are on call")
    assert mails.count() == 1 and "DB failover" in mails.get().body
    with at(CHANGE + timedelta(hours=3)):
        home = login(prompt.incoming).get("/oncall/handoff/mine/").content.decode()
    assert "Hand-off from" in home and "DB failover" in home


@pytest.mark.django_db
def test_nothing_to_show_is_empty(people):
    response = login(people[0]).get("/oncall/handoff/mine/")
    assert response.status_code == 200 and response.content == b""
