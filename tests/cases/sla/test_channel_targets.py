"""Per-channel first-response targets within an SLA policy (issue 11 point 6, seed 001's channel table):
the first-response clock takes the case's channel target when the policy sets one, else the
priority's; a changed target re-applies; the admin form edits and validates them; the seed 001
preset carries the table."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from cases import services
from cases.choices import Priority
from cases.models import SLAClock, SLAPolicy
from cases.sla import clocks, selectors
from cases.sla import services as sla_services
from cases.sla.presets import preset_channel_targets
from companyos.models import Profile
from tests.cases.sla.test_admin import HX, post_data, text
from tests.conftest import login
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
Kind = SLAClock.Kind


@pytest.fixture
def policy(db):
    """Seed 001's table as one policy: e-mail targets as the base, Slack and phone per channel (24×7)."""
    return clocks.load_preset(preset="seed-001", column="channels", name="Channels test")


@pytest.fixture
def tenant(policy):
    return TenantFactory(name="Fjord AS", slug="fjord", sla_policy=policy)


@pytest.fixture
def agent(tenant):
    return UserFactory(username="kari", role="agent", tenants=[tenant])


def open_case(tenant, agent, *, channel: str, priority=Priority.HIGH, when=T0):
    with mock.patch("django.utils.timezone.now", return_value=when):
        return services.case_create(
            actor=agent,
            tenant=tenant,
            requester=RequesterFactory(tenant=tenant),
            subject="Webhooks are delayed",
            priority=priority,
            channel=channel,
        )


def first_response(case) -> SLAClock:
    return SLAClock.objects.get(case=case, kind=Kind.FIRST_RESPONSE)


# --- the preset ----------------------------------------------------------------------------------------


def test_seed_001_preset_carries_the_channel_table():
    table = preset_channel_targets("seed-001", "channels")
    assert table["email"]["high"] == (timedelta(hours=2), False)
    assert table["slack"]["high"] == (timedelta(hours=1), False)
    assert table["slack"]["critical"] == (timedelta(minutes=15), False)
    assert table["phone"] == {"critical": (timedelta(minutes=15), False)}  # N/A below critical
    assert preset_channel_targets("seed-003", "standard") == {}


def test_loaded_preset_stores_the_channel_targets(policy):
    assert policy.channel_targets["slack"]["high"] == {"minutes": 60, "business": False}
    assert policy.channel_targets["phone"] == {"critical": {"minutes": 15, "business": False}}
    assert policy.target("high", "first_response", "slack") == (timedelta(hours=1), False)
    assert policy.target("high", "first_response", "email") == (timedelta(hours=2), False)
    # A channel without its own target, or a kind other than first response, gets the priority's.
    assert policy.target("high", "first_response", "widget") == (timedelta(hours=2), False)
    assert policy.target("high", "first_response", "phone") == (timedelta(hours=2), False)
    assert policy.target("critical", "update", "slack") == (timedelta(minutes=30), False)


# --- the clocks ----------------------------------------------------------------------------------------


def test_a_slack_case_gets_the_slack_target(tenant, agent):
    slack = open_case(tenant, agent, channel="slack")
    email = open_case(tenant, agent, channel="email")
    assert first_response(slack).target == timedelta(hours=1)
    assert first_response(slack).due_at == T0 + timedelta(hours=1)
    assert first_response(email).target == timedelta(hours=2)
    note = slack.interactions.get(kind="inbound").data["sla"][0]
    assert "(Slack target)" in note
    assert "Slack target of the policy" in selectors.explain(slack, first_response(slack), T0)


def test_critical_phone_case_gets_15_minutes_and_a_high_one_the_priority_target(tenant, agent):
    critical = open_case(tenant, agent, channel="phone", priority=Priority.CRITICAL)
    high = open_case(tenant, agent, channel="phone", priority=Priority.HIGH)
    assert first_response(critical).due_at == T0 + timedelta(minutes=15)
    assert first_response(high).target == timedelta(hours=2)


def test_priority_change_retargets_to_the_channel_target_of_the_new_priority(tenant, agent):
    case = open_case(tenant, agent, channel="slack", priority=Priority.MEDIUM)
    assert first_response(case).target == timedelta(hours=4)
    with mock.patch("django.utils.timezone.now", return_value=T0 + timedelta(minutes=10)):
        services.case_classify(case_id=case.pk, actor=agent, priority=Priority.HIGH)
    clock = first_response(case)
    assert clock.target == timedelta(hours=1)
    assert clock.due_at == T0 + timedelta(hours=1)


def test_changing_the_channel_target_reapplies_to_open_cases(policy, tenant, agent):
    admin = UserFactory(username="ada", role="admin")
    case = open_case(tenant, agent, channel="slack")
    targets = {
        **policy.channel_targets,
        "slack": {**policy.channel_targets["slack"], "high": {"minutes": 30, "business": False}},
    }
    saved, changed = sla_services.policy_update(policy_id=policy.pk, actor=admin, channel_targets=targets)
    assert changed and saved.version == policy.version + 1
    assert first_response(case).target == timedelta(hours=1)  # saving never moves running clocks
    assert selectors.clocks_moved_by(saved) == 1
    with mock.patch("django.utils.timezone.now", return_value=T0 + timedelta(minutes=5)):
        assert sla_services.policy_reapply(policy_id=policy.pk, actor=admin) == (1, 1)
    clock = first_response(case)
    assert clock.target == timedelta(minutes=30)
    assert clock.due_at == T0 + timedelta(minutes=30)
    # An e-mail case on the same policy does not move: its target did not change.
    email = open_case(tenant, agent, channel="email")
    assert selectors.clocks_moved_by(SLAPolicy.objects.get(pk=policy.pk)) == 0
    assert first_response(email).target == timedelta(hours=2)


def test_same_channel_targets_in_another_unit_is_no_change(policy):
    admin = UserFactory(username="ada", role="admin")
    targets = {
        c: {p: {**row, "unit": "minutes"} for p, row in rows.items()} for c, rows in policy.channel_targets.items()
    }
    _, changed = sla_services.policy_update(policy_id=policy.pk, actor=admin, channel_targets=targets)
    assert not changed


def test_model_clean_refuses_unknown_channels_and_bad_durations(policy):
    policy.channel_targets = {"fax": {"high": {"minutes": 5, "business": False}}}
    with pytest.raises(Exception, match="not a channel"):
        policy.clean()
    policy.channel_targets = {"slack": {"high": {"minutes": 0, "business": False}}}
    with pytest.raises(Exception, match="positive duration"):
        policy.clean()
    policy.channel_targets = {"slack": {"high": {"minutes": 60, "business": True}}}
    with pytest.raises(Exception, match="business calendar"):
        policy.clean()


# --- the admin page ---------------------------------------------------------------------------------------


@pytest.fixture
def client(admin_user):
    Profile.objects.update_or_create(user=admin_user, defaults={"timezone": "UTC"})
    return login(admin_user)


def ch(channel: str, priority: str, part: str = "amount") -> str:
    return f"ch__{channel}__{priority}__{part}"


# Seed 001 gives no resolution targets and the form needs one per priority: the admin adds them.
RESOLUTION = {
    **{f"{p}__resolution__amount": "8" for p in ("critical", "high", "medium", "low")},
    **{f"{p}__resolution__business": None for p in ("critical", "high", "medium", "low")},  # 24×7
}


def test_edit_page_shows_the_channel_grid_filled_from_the_policy(client, policy):
    page = text(client.get(reverse("sla:policy_edit", args=[policy.pk])))
    assert "First response by channel" in page
    slack_high = re.search(r'data-cell="slack-high">(.*?)</td>', page).group(1)
    assert 'value="1"' in slack_high and '<option value="hours" selected>' in slack_high
    phone_high = re.search(r'data-cell="phone-high">(.*?)</td>', page).group(1)
    assert 'name="ch__phone__high__amount"' in phone_high and "value=" not in phone_high.split("amount")[1][:40]


def test_admin_sets_a_channel_target_and_clears_another(client, policy):
    data = post_data(
        policy,
        **RESOLUTION,
        **{ch("widget", "high"): "45", ch("widget", "high", "unit"): "minutes", ch("slack", "low"): ""},
    )
    response = client.post(reverse("sla:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 302, text(response)[:2000]
    policy.refresh_from_db()
    assert policy.channel_targets["widget"] == {"high": {"minutes": 45, "business": False, "unit": "minutes"}}
    assert "low" not in policy.channel_targets["slack"]
    assert policy.target("low", "first_response", "slack") == (timedelta(hours=24), False)


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        ("abc", "hours", "is not a number"),
        ("0", "hours", "Must be more than 0 (leave it empty to use the priority"),
        ("0.5", "minutes", "The shortest target is 1 minute."),
        ("400", "calendar_days", "More than a year"),
        ("2", "business_days", "Business days need a calendar"),
    ],
)
def test_invalid_channel_target_is_refused_next_to_its_cell_and_kept(client, policy, value, unit, message):
    data = post_data(policy, **RESOLUTION, **{ch("slack", "high"): value, ch("slack", "high", "unit"): unit})
    response = client.post(reverse("sla:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 422
    cell = re.search(r'data-cell="slack-high">(.*?)</td>', text(response)).group(1)
    assert message in cell and f'value="{value}"' in cell
    policy.refresh_from_db()
    assert policy.channel_targets["slack"]["high"]["minutes"] == 60  # nothing saved


def test_business_time_channel_target_needs_a_calendar(client, policy):
    data = post_data(policy, **RESOLUTION, **{ch("slack", "high", "business"): "on"})
    response = client.post(reverse("sla:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 422
    assert "need a business calendar" in text(response)


def test_preview_by_channel(client, policy, tenant):
    data = post_data(
        policy,
        **RESOLUTION,
        preview_tenant=tenant.slug,
        preview_priority="high",
        preview_opened_at="2026-03-04T10:00",
        preview_channel="slack",
    )
    page = text(client.post(reverse("sla:policy_preview"), data, **HX))
    assert "by <b>Slack</b> →" in page
    first = re.search(r'data-kind="first_response">(.*?)</dd>', page).group(1)
    assert "11:00" in first and "(Slack target)" in first
    data["preview_channel"] = "email"
    first = re.search(
        r'data-kind="first_response">(.*?)</dd>', text(client.post(reverse("sla:policy_preview"), data, **HX))
    ).group(1)
    assert "12:00" in first
