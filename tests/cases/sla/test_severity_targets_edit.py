"""Editing the targets keyed on the case's severity (issue 13 point 4: seed 004's time to acknowledge
and time to mitigate per Sev-1..3) on the admins' policy page, like the policy's other targets: the
grid validates with a message per cell, a save bumps the policy's version (new cases take it, running
clocks keep their snapshot until a re-apply), a stale save is a 409 that keeps what was typed, the
change is in the audit log, and only admins may make it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from cases import services
from cases.choices import Priority, Severity
from cases.models import SLAClock, SLAPolicy
from cases.sla import clocks, selectors
from cases.sla import services as sla_services
from tests.cases.sla.test_admin import post_data, text
from tests.conftest import login
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = SLAClock.Kind
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


def sev(severity: str, kind: str, part: str = "amount") -> str:
    return f"sev__{severity}__{kind}__{part}"


@pytest.fixture
def policy(db):
    return clocks.load_preset(preset="seed-004", column=None, name="Sev policy")  # 24×7: no calendar


@pytest.fixture
def tenant(policy):
    return TenantFactory(name="Nordic Freight", slug="nordic", sla_policy=policy)


@pytest.fixture
def agent(tenant):
    return UserFactory(username="kari", role="agent", tenants=[tenant])


@pytest.fixture
def client(admin_user):
    return login(admin_user)


def sev1_case(tenant, agent, when=T0):
    with mock.patch("django.utils.timezone.now", return_value=when):
        case = services.case_create(
            actor=agent,
            tenant=tenant,
            requester=RequesterFactory(tenant=tenant),
            subject="Message delivery is down",
            priority=Priority.HIGH,
        )
        return services.case_classify(case_id=case.pk, actor=agent, severity=Severity.SEV1)


def clock(case, kind) -> SLAClock:
    return SLAClock.objects.get(case=case, kind=kind)


def test_the_grid_shows_the_presets_targets_in_its_own_units(client, policy):
    page = text(client.get(reverse("sla:policy_edit", args=[policy.pk])))
    assert "data-severity-targets" in page and "Time to acknowledge" in page and "Time to mitigate" in page
    form = client.get(reverse("sla:policy_edit", args=[policy.pk])).context["form"]
    assert form[sev("sev1", "acknowledge")].value() == "30" and form[sev("sev1", "acknowledge", "unit")].value() == (
        "minutes"
    )
    assert form[sev("sev1", "mitigate")].value() == "4" and form[sev("sev1", "mitigate", "unit")].value() == "hours"
    # Stored as 8 h of calendar time on a policy without a calendar (no business days without one).
    assert form[sev("sev3", "acknowledge")].value() == "8"


def test_the_priority_grid_heads_only_its_own_three_targets(client, policy):
    """The severity targets have their own grid: the priority grid's header names first response,
    resolution and customer update, not two more columns without cells."""
    body = client.get(reverse("sla:policy_edit", args=[policy.pk])).content.decode()
    assert body.count('<th scope="col">Time to acknowledge</th>') == 1  # the severity grid's
    head = re.search(r"<thead><tr><th scope=\"col\">Priority</th>(.*?)</tr></thead>", body, re.S).group(1)
    assert re.findall(r"<th scope=\"col\">([^<]+)", head) == ["First response", "Resolution", "Customer update "]


def test_a_valid_edit_moves_new_cases_clocks_and_leaves_running_ones(client, policy, tenant, agent):
    before = sev1_case(tenant, agent)
    assert clock(before, Kind.ACKNOWLEDGE).due_at == T0 + timedelta(minutes=30)
    data = post_data(
        policy,
        **{
            sev("sev1", "acknowledge"): "15",
            sev("sev1", "acknowledge", "unit"): "minutes",
            sev("sev1", "mitigate"): "2",
            sev("sev1", "mitigate", "unit"): "hours",
        },
    )
    response = client.post(reverse("sla:policy_edit", args=[policy.pk]), data, follow=True)
    assert response.status_code == 200
    assert "Saved “Sev policy” v2" in text(response)
    policy.refresh_from_db()
    assert policy.version == 2
    assert policy.severity_targets["sev1"]["acknowledge"] == {"minutes": 15, "business": False, "unit": "minutes"}
    assert policy.severity_targets["sev2"]["acknowledge"]["minutes"] == 240  # untouched cells stay
    # New cases take the new version's targets …
    after = sev1_case(tenant, agent, when=T0 + timedelta(hours=1))
    assert after.sla_snapshot["version"] == 2
    assert clock(after, Kind.ACKNOWLEDGE).due_at == T0 + timedelta(hours=1, minutes=15)
    assert clock(after, Kind.MITIGATE).due_at == T0 + timedelta(hours=3)
    # … a running case keeps its snapshot until a re-apply, which the page counts.
    assert clock(before, Kind.ACKNOWLEDGE).due_at == T0 + timedelta(minutes=30)
    assert selectors.clocks_moved_by(policy) == 2  # the first case's acknowledge and mitigate
    with mock.patch("django.utils.timezone.now", return_value=T0 + timedelta(minutes=5)):
        sla_services.policy_reapply(policy_id=policy.pk, actor=UserFactory(role="admin"))
    assert clock(before, Kind.ACKNOWLEDGE).due_at == T0 + timedelta(minutes=15)
    assert selectors.clocks_moved_by(SLAPolicy.objects.get(pk=policy.pk)) == 0
    # Audited: the change and the version, and the page's history names the field.
    entry = LogEntry.objects.get_for_object(policy).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert "severity_targets" in entry.changes_dict and entry.changes_dict["version"] == ["1", "2"]
    assert entry.actor.username == "root"
    assert re.search(r"root · v1 → v2: [^<]*severity targets", text(response))


def test_emptying_a_cell_means_no_such_clock(client, policy, tenant, agent):
    data = post_data(policy, **{sev("sev1", "mitigate"): ""})
    assert client.post(reverse("sla:policy_edit", args=[policy.pk]), data).status_code == 302
    policy.refresh_from_db()
    assert "mitigate" not in policy.severity_targets["sev1"] and "acknowledge" in policy.severity_targets["sev1"]
    case = sev1_case(tenant, agent)
    assert clock(case, Kind.ACKNOWLEDGE).due_at == T0 + timedelta(minutes=30)
    assert not SLAClock.objects.filter(case=case, kind=Kind.MITIGATE).exists()


def test_a_policy_without_severity_targets_gets_them_from_the_grid(client, admin_user, tenant, agent):
    plain = clocks.load_preset(preset="seed-003", column="standard", name="Plain 24x7")
    assert plain.severity_targets == {}
    tenant.sla_policy = plain
    tenant.save(update_fields=["sla_policy"])
    data = post_data(plain, **{sev("sev1", "acknowledge"): "1", sev("sev1", "acknowledge", "unit"): "hours"})
    data.pop(sev("sev1", "acknowledge", "business"), None)
    assert client.post(reverse("sla:policy_edit", args=[plain.pk]), data).status_code == 302
    plain.refresh_from_db()
    assert plain.severity_targets == {"sev1": {"acknowledge": {"minutes": 60, "business": False, "unit": "hours"}}}
    case = sev1_case(tenant, agent)
    assert clock(case, Kind.ACKNOWLEDGE).due_at == T0 + timedelta(hours=1)
    assert not SLAClock.objects.filter(case=case, kind=Kind.MITIGATE).exists()


@pytest.mark.parametrize(
    ("value", "unit", "business", "message"),
    [
        ("abc", "minutes", False, "“abc” is not a number"),
        ("0", "minutes", False, "Must be more than 0 (leave it empty for no such clock at this severity)."),
        ("-5", "hours", False, "Must be more than 0"),
        ("0.5", "minutes", False, "The shortest target is 1 minute."),
        ("400", "calendar_days", False, "More than a year"),
        ("2", "hours", True, "Targets in business time need a business calendar"),
        ("1", "business_days", False, "Business days need a calendar with weekly hours"),
    ],
)
def test_invalid_input_is_a_422_with_the_message_and_saves_nothing(client, policy, value, unit, business, message):
    data = post_data(policy, **{sev("sev2", "mitigate"): value, sev("sev2", "mitigate", "unit"): unit})
    if business:
        data[sev("sev2", "mitigate", "business")] = "on"
    response = client.post(reverse("sla:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 422
    page = text(response)
    assert message in page and "Nothing was saved" in page
    assert f'value="{value}"' in page  # what was typed is kept
    policy.refresh_from_db()
    assert policy.version == 1 and policy.severity_targets["sev2"]["mitigate"]["minutes"] == 480


def test_a_stale_edit_is_a_409_that_keeps_what_was_typed(client, policy):
    stale = post_data(policy, **{sev("sev1", "acknowledge"): "20", sev("sev1", "acknowledge", "unit"): "minutes"})
    sla_services.policy_update(policy_id=policy.pk, actor=UserFactory(role="admin"), description="someone else")
    response = client.post(reverse("sla:policy_edit", args=[policy.pk]), stale)
    assert response.status_code == 409
    page = text(response)
    assert "Someone saved version 2" in page
    form = response.context["form"]
    assert form[sev("sev1", "acknowledge")].value() == "20"  # the input is kept
    assert 'name="version" value="2"' in page  # saving again replaces it on purpose
    policy.refresh_from_db()
    assert policy.version == 2 and policy.severity_targets["sev1"]["acknowledge"]["minutes"] == 30


def test_the_same_targets_in_another_unit_are_no_change(client, policy):
    data = post_data(policy, **{sev("sev1", "mitigate"): "240", sev("sev1", "mitigate", "unit"): "minutes"})
    response = client.post(reverse("sla:policy_edit", args=[policy.pk]), data, follow=True)
    assert "No changes" in text(response)
    policy.refresh_from_db()
    assert policy.version == 1


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_only_admins_edit_them(role, policy, tenant):
    user = UserFactory(role=role, tenants=[tenant])
    data = post_data(policy, **{sev("sev1", "acknowledge"): "1", sev("sev1", "acknowledge", "unit"): "minutes"})
    response = login(user).post(reverse("sla:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.version == 1 and policy.severity_targets["sev1"]["acknowledge"]["minutes"] == 30
    assert LogEntry.objects.filter(additional_data__denied=True, actor=user).exists()


def test_the_model_refuses_what_the_form_cannot_send(policy):
    bad = {"sev9": {"acknowledge": {"minutes": 5, "business": False}}}
    with pytest.raises(Exception, match="not a severity"):
        sla_services.policy_update(policy_id=policy.pk, actor=UserFactory(role="admin"), severity_targets=bad)
    policy.refresh_from_db()
    assert policy.version == 1
