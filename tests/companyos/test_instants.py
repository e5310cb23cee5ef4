"""Stored text holds instants, not formatted times: each reader sees them in their own timezone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from cases import services
from cases.choices import Status
from cases.models import Notification, SLAClock
from cases.sla.sweep import send_pending_notifications
from companyos import timefmt
from companyos.models import Profile
from tests.conftest import login
from tests.factories import RequesterFactory, TenantFactory, UserFactory

OSLO, NEW_YORK = ZoneInfo("Europe/Oslo"), ZoneInfo("America/New_York")
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_token_round_trip_and_rendering():
    text = f"due {timefmt.instant_token(NOON)}"
    assert text == "due <t:2026-11-23T12:00:00Z>"
    assert timefmt.split_instants(text) == ["due ", NOON]
    assert timefmt.render_instants(text, OSLO) == "due 2026-11-23 13:00 CET"
    assert timefmt.render_instants(text, NEW_YORK) == "due 2026-11-23 07:00 EST"


def test_rows_written_before_the_tokens_are_read_as_instants_when_utc():
    assert timefmt.render_instants("due 2026-11-23 12:00 UTC", OSLO) == "due 2026-11-23 13:00 CET"
    assert timefmt.render_instants("due 2026-11-23 13:00 CET", NEW_YORK) == "due 2026-11-23 13:00 CET"


@pytest.mark.django_db
def test_sla_notes_store_the_instant_and_each_viewer_sees_their_zone():
    tenant = TenantFactory()
    agent = UserFactory(username="kari", role="agent", tenants=[tenant])
    Profile.objects.create(user=agent, timezone="Europe/Oslo")
    case = services.case_create(
        actor=agent, tenant=tenant, requester=RequesterFactory(tenant=tenant), subject="Webhooks fail"
    )
    note = case.interactions.get().data["sla"][0]
    assert "UTC" not in note and "<t:" in note  # the instant, not a time in the writer's zone
    due = SLAClock.objects.get(case=case).due_at
    page = login(agent).get(f"/cases/{case.key}/").content.decode()
    assert f">{due.astimezone(OSLO):%Y-%m-%d %H:%M}</time>" in page
    assert "Times in Europe/Oslo" in page and "&lt;t:" not in page
    viewer = UserFactory(username="tom", role="manager")
    Profile.objects.create(user=viewer, timezone="America/New_York")
    other = login(viewer).get(f"/cases/{case.key}/").content.decode()
    assert f">{due.astimezone(NEW_YORK):%Y-%m-%d %H:%M}<" in other and "Times in America/New_York" in other


@pytest.mark.django_db
def test_notifications_are_written_in_the_recipients_zone_when_sent(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tenant = TenantFactory()
    agent = UserFactory(username="kari", role="agent", tenants=[tenant], email="kari@example.com")
    Profile.objects.create(user=agent, timezone="Europe/Oslo")
    case = services.case_create(actor=agent, tenant=tenant, requester=RequesterFactory(tenant=tenant), subject="x")
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=agent)
    headline = f"{case.key}: resolution SLA breached — due {timefmt.instant_token(NOON)}"
    for recipient in ("kari@example.com", "nobody@example.com"):
        Notification.objects.create(
            case=case, channel=Notification.Channel.EMAIL, recipient=recipient, subject=headline, body=headline
        )
    assert send_pending_notifications() == 2
    sent = {m.to[0]: m for m in mail.outbox}
    assert sent["kari@example.com"].subject.endswith("due 2026-11-23 13:00 CET")
    assert sent["nobody@example.com"].body.endswith("due 2026-11-23 12:00 UTC")  # no profile: TIME_ZONE
