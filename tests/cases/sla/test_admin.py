"""The admins' SLA pages: policies (create, edit, presets, preview, re-apply), rules and calendars, as
an admin meets them; everyone else gets 403. PostgreSQL, like production."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import services
from cases.choices import Priority, Status
from cases.models import BusinessCalendar, Interaction, SLAClock, SLAPolicy, SLAPolicyRule
from cases.sla import clocks, selectors
from cases.sla.forms import PolicyForm, parse_closures, parse_extra_days, parse_windows, preset_policy_name
from cases.sla.presets import PRESETS, preset_targets
from companyos.models import Profile
from tenants.choices import Segment, SupportTier
from tests.conftest import login
from tests.factories import RequesterFactory, TeamFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
HX = {"HTTP_HX_REQUEST": "true"}
WEEKDAYS_8_16 = {str(day): [["08:00", "16:00"]] for day in range(5)}


# --- fixtures and helpers ------------------------------------------------------------------------------


@pytest.fixture
def admin(admin_user):
    Profile.objects.update_or_create(user=admin_user, defaults={"timezone": "Europe/Oslo"})
    return admin_user


@pytest.fixture
def client(admin):
    return login(admin)


@pytest.fixture
def oslo(db):
    calendar, _ = BusinessCalendar.objects.update_or_create(
        name="Test office (Oslo)",
        defaults={"timezone": "Europe/Oslo", "weekly_hours": WEEKDAYS_8_16, "holiday_country": "NO"},
    )
    return calendar


@pytest.fixture
def standard(oslo):
    """Seed 003's Standard column on Oslo office hours (a policy of the test's own)."""
    return clocks.load_preset(preset="seed-003", column="standard", name="Test Standard", calendar=oslo)


@pytest.fixture
def tenant_on_standard(standard):
    return TenantFactory(name="Fjord AS", slug="fjord", sla_policy=standard)


def post_data(instance: SLAPolicy | None = None, **overrides) -> dict:
    """What the edit form posts for a policy as it stands (its initial values), with overrides."""
    policy = instance
    form = PolicyForm(instance=policy or SLAPolicy())
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name.endswith("__business") or name in ("notify_business_hours_only", "root_cause_stops_resolution"):
            if value:
                data[name] = "on"
            continue
        if value is None:
            continue
        data[name] = value.pk if hasattr(value, "pk") else value
    if policy is not None:
        data["policy"] = policy.pk
    for name, value in overrides.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def cell(priority: str, kind: str, part: str = "amount") -> str:
    return f"{priority}__{kind}__{part}"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def open_case(tenant, actor, priority=Priority.CRITICAL, triage=False):
    case = services.case_create(
        actor=actor,
        tenant=tenant,
        requester=RequesterFactory(tenant=tenant),
        subject="API returns 500",
        priority=priority,
    )
    if triage:
        services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=actor)
    return case


# --- access ---------------------------------------------------------------------------------------------


def admin_urls(policy, calendar):
    return [
        reverse("sla:policy_list"),
        reverse("sla:policy_create"),
        reverse("sla:policy_edit", args=[policy.pk]),
        reverse("sla:policy_reapply", args=[policy.pk]),
        reverse("sla:rules"),
        reverse("sla:calendar_list"),
        reverse("sla:calendar_create"),
        reverse("sla:calendar_edit", args=[calendar.pk]),
    ]


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_agents_and_managers_get_403_everywhere(role, standard, oslo, tenant_a):
    user = UserFactory(role=role, tenants=[tenant_a])
    client = login(user)
    for url in admin_urls(standard, oslo):
        assert client.get(url).status_code == 403, url
    for url in [
        reverse("sla:policy_preset"),
        reverse("sla:policy_preview"),
        reverse("sla:policy_reapply", args=[standard.pk]),
        reverse("sla:rules"),
        reverse("sla:policy_edit", args=[standard.pk]),
        reverse("sla:calendar_edit", args=[oslo.pk]),
    ]:
        assert client.post(url, {"preset": "seed-002:default", "confirm": "yes", "name": "x"}).status_code == 403, url
    standard.refresh_from_db()
    assert standard.name == "Test Standard" and not SLAPolicy.objects.filter(name=PRESETS["seed-002"]["name"]).exists()
    assert LogEntry.objects.filter(additional_data__denied=True, actor=user).exists()


def test_admin_gets_every_page(client, standard, oslo):
    for url in admin_urls(standard, oslo):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<html" in response.content.decode()


def test_signed_out_is_sent_to_sign_in(standard):
    from django.test import Client

    response = Client().get(reverse("sla:policy_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the policies list -------------------------------------------------------------------------------------


def test_policy_list_shows_preset_calendar_rules_overrides_and_open_cases(client, admin, standard, oslo):
    SLAPolicyRule.objects.create(position=5, segment=Segment.PUBLIC_SECTOR, policy=standard)
    TenantFactory(name="Override Co", slug="override-co", sla_policy=standard)
    tenant = TenantFactory(name="Fjord AS", slug="fjord", sla_policy=standard)
    open_case(tenant, admin)
    closed = open_case(tenant, admin)
    for to in (Status.TRIAGE, Status.IN_PROGRESS, Status.RESOLVED):
        resolution = {"summary": "s", "evidence": "e", "preventive_actions": "p"}  # a critical case (closure)
        services.case_transition(case_id=closed.pk, to=to, actor=admin, resolution=resolution)
    response = client.get(reverse("sla:policy_list"))
    row = re.search(rf'<tr data-policy="{standard.pk}">(.*?)</tr>', text(response)).group(1)
    assert "Test Standard" in row and "Case &amp; escalation model · Standard" in row
    assert "Test office (Oslo)" in row and "v1" in row
    assert "#5 · Public sector · any tier" in row
    assert "Fjord AS" in row and "Override Co" in row
    assert re.search(r'<td class="num">1</td>', row), "one open case (the resolved one does not count)"
    for group in PRESETS.values():
        assert group["name"].replace("&", "&amp;") in text(response)


def test_policy_list_htmx_gets_the_table_only(client, standard):
    response = client.get(reverse("sla:policy_list"), **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="policies"' in body and "<html" not in body and "Load a preset" not in body


def test_policy_list_queries_do_not_grow_with_rows(client, admin, oslo, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sla:policy_list"))
    for n in range(6):
        policy = clocks.load_preset(preset="seed-002", column=None, name=f"Extra {n}", calendar=None)
        SLAPolicyRule.objects.create(position=100 + n, segment=Segment.SMB, policy=policy)
        tenant = TenantFactory(sla_policy=policy)
        open_case(tenant, admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("sla:policy_list"))


# --- create and edit -----------------------------------------------------------------------------------------


def test_create_policy_converts_units_and_starts_at_version_1(client, oslo):
    data = post_data(
        None, name="Gold", description="Our gold tier", calendar=oslo.pk, at_risk_percent=75, escalation="notify"
    )
    for priority in ("critical", "high", "medium", "low"):
        data[cell(priority, "first_response")], data[cell(priority, "first_response", "unit")] = "30", "minutes"
        data[cell(priority, "first_response", "business")] = "on"
        data[cell(priority, "resolution")], data[cell(priority, "resolution", "unit")] = "2", "business_days"
    data[cell("critical", "update")], data[cell("critical", "update", "unit")] = "1.5", "hours"
    data.pop(cell("critical", "update", "business"))  # unticked: calendar time
    data[cell("low", "resolution")], data[cell("low", "resolution", "unit")] = "7", "calendar_days"
    data[cell("low", "resolution", "business")] = "on"  # calendar days are calendar time whatever the box says
    response = client.post(reverse("sla:policy_create"), data)
    assert response.status_code == 302, text(response)[:3000]
    policy = SLAPolicy.objects.get(name="Gold")
    assert response["Location"] == reverse("sla:policy_edit", args=[policy.pk])
    assert policy.version == 1 and policy.calendar == oslo and policy.at_risk_percent == 75
    assert policy.target("critical", "first_response") == (timedelta(minutes=30), True)
    assert policy.target("high", "resolution") == (timedelta(hours=16), True)  # 2 business days of 8 h
    assert policy.target("low", "resolution") == (timedelta(days=7), False)
    assert policy.target("critical", "update") == (timedelta(minutes=90), False)  # box left unticked: calendar time
    assert policy.target("high", "update") is None
    assert policy.targets["high"]["resolution"]["unit"] == "business_days"
    assert LogEntry.objects.get_for_object(policy).filter(action=LogEntry.Action.CREATE).exists()
    # The form shows it back in the units typed.
    page = text(client.get(reverse("sla:policy_edit", args=[policy.pk])))
    assert re.search(r'name="high__resolution__amount" value="2"', page)
    assert re.search(r'<option value="business_days" selected>business days</option>', page)


def test_invalid_policy_says_what_is_wrong_next_to_the_field_and_keeps_what_was_typed(client, oslo):
    team_field_data = post_data(
        None, name="Broken", calendar="", at_risk_percent="150", escalation="reassign", escalation_team=""
    )
    team_field_data[cell("critical", "first_response")] = "abc"
    team_field_data[cell("critical", "first_response", "business")] = "on"
    team_field_data[cell("high", "first_response")] = "-2"
    team_field_data[cell("high", "resolution")] = "4"
    team_field_data[cell("high", "resolution", "business")] = "on"
    response = client.post(reverse("sla:policy_create"), team_field_data)
    assert response.status_code == 422
    page = text(response)
    assert "Nothing was saved" in page
    assert "“abc” is not a number" in page
    assert "Must be more than 0" in page
    assert "Required: how long until the resolution is due." in page
    assert "Between 1 and 99 percent." in page
    assert "Choose the team breached cases are reassigned to." in page
    assert not SLAPolicy.objects.filter(name="Broken").exists()
    # What was typed is still there.
    assert 'value="Broken"' in page and 'name="critical__first_response__amount" value="abc"' in page
    assert 'name="at_risk_percent" value="150"' in page
    # The error sits in the cell it is about.
    cell_html = re.search(r'data-cell="critical-first_response">(.*?)</td>', page).group(1)
    assert "is not a number" in cell_html


def test_business_time_needs_a_calendar(client, standard):
    data = post_data(standard, calendar="")
    response = client.post(reverse("sla:policy_edit", args=[standard.pk]), data)
    assert response.status_code == 422
    assert "Targets in business time need a business calendar" in text(response)
    standard.refresh_from_db()
    assert standard.calendar is not None and standard.version == 1


def test_taken_name_is_refused(client, standard, oslo):
    data = post_data(standard, name="Test Standard", policy=None, version=None)
    response = client.post(reverse("sla:policy_create"), data)
    assert response.status_code == 422
    assert "already exists" in text(response)
    assert SLAPolicy.objects.filter(name="Test Standard").count() == 1


def test_edit_bumps_the_version_and_is_audited(client, standard):
    data = post_data(standard, **{cell("critical", "resolution"): "3", cell("critical", "resolution", "unit"): "hours"})
    response = client.post(reverse("sla:policy_edit", args=[standard.pk]), data, follow=True)
    assert response.status_code == 200
    standard.refresh_from_db()
    assert standard.version == 2
    assert standard.target("critical", "resolution") == (timedelta(hours=3), True)
    assert "Saved “Test Standard” v2" in text(response) and "running clocks did not move" in text(response)
    entry = LogEntry.objects.get_for_object(standard).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert (
        entry.actor.username == "root"
        and "targets" in entry.changes_dict
        and entry.changes_dict["version"] == ["1", "2"]
    )
    assert 'id="policy-version"' in text(response) and ">v2<" in text(response)
    assert "root · v1 → v2: targets" in text(response)  # the page's change history, from the audit log


def test_reassign_escalation_with_a_team(client, standard):
    team = TeamFactory(name="Escalations", slug="escalations")
    data = post_data(
        standard, escalation="reassign", escalation_team=team.pk, notify_business_hours_only="on", at_risk_percent="70"
    )
    assert client.post(reverse("sla:policy_edit", args=[standard.pk]), data).status_code == 302
    standard.refresh_from_db()
    assert (
        standard.escalation,
        standard.escalation_team,
        standard.notify_business_hours_only,
        standard.at_risk_percent,
        standard.version,
    ) == ("reassign", team, True, 70, 2)


def test_saving_without_changes_keeps_the_version(client, standard):
    response = client.post(reverse("sla:policy_edit", args=[standard.pk]), post_data(standard), follow=True)
    standard.refresh_from_db()
    assert standard.version == 1
    assert "No changes" in text(response)


def test_saving_over_someone_elses_edit_is_refused_and_keeps_the_form(client, standard):
    stale = post_data(standard, description="mine")
    clocks.load_preset(
        preset="seed-003", column="premium", name="Test Standard", calendar=standard.calendar
    )  # someone else: v2
    response = client.post(reverse("sla:policy_edit", args=[standard.pk]), stale)
    assert response.status_code == 409
    page = text(response)
    assert "Someone saved version 2" in page and "mine" in page
    assert 'name="version" value="2"' in page  # saving again replaces it on purpose
    standard.refresh_from_db()
    assert standard.version == 2 and standard.description != "mine"


# --- presets ---------------------------------------------------------------------------------------------------


PRESET_COLUMNS = [f"{key}:{column}" for key, preset in PRESETS.items() for column in preset["columns"]]


@pytest.mark.parametrize("choice", PRESET_COLUMNS)
def test_load_each_preset(client, oslo, choice):
    key, column = choice.split(":")
    response = client.post(reverse("sla:policy_preset"), {"preset": choice, "calendar": oslo.pk})
    assert response.status_code == 302
    policy = SLAPolicy.objects.get(name=preset_policy_name(key, column))
    assert policy.preset == choice
    assert response["Location"] == reverse("sla:policy_edit", args=[policy.pk])
    assert PRESETS[key]["name"] in policy.name and policy.version == 1 and policy.calendar == oslo
    expected = preset_targets(key, column, hours_per_day=oslo.to_calendar().hours_per_day)
    for priority, kinds in expected.items():
        for kind, (duration, business) in kinds.items():
            assert policy.target(priority, kind) == (None if duration is None else (duration, business)), (
                priority,
                kind,
            )
    assert client.get(response["Location"]).status_code == 200


def test_seed_003_premium_critical_resolution_is_120_business_minutes(client, oslo):
    client.post(reverse("sla:policy_preset"), {"preset": "seed-003:premium", "calendar": oslo.pk})
    policy = SLAPolicy.objects.get(name=preset_policy_name("seed-003", "premium"))
    assert policy.targets["critical"]["resolution"] == {"minutes": 120, "business": True}
    assert policy.targets["medium"]["resolution"] == {"minutes": 480, "business": True}  # 1 business day of 8 h


def test_loading_a_preset_again_refreshes_it_with_a_new_version(client, oslo):
    client.post(reverse("sla:policy_preset"), {"preset": "seed-004:default", "calendar": oslo.pk})
    response = client.post(
        reverse("sla:policy_preset"), {"preset": "seed-004:default", "calendar": oslo.pk}, follow=True
    )
    policy = SLAPolicy.objects.get(preset="seed-004:default")
    assert policy.version == 2 and "now v2" in text(response)
    assert SLAPolicy.objects.filter(preset="seed-004:default").count() == 1


def test_business_time_preset_needs_a_calendar(client):
    response = client.post(reverse("sla:policy_preset"), {"preset": "seed-003:standard", "calendar": ""})
    assert response.status_code == 422
    assert "counts business time: choose the calendar" in text(response)
    assert client.post(reverse("sla:policy_preset"), {"preset": "seed-999:x"}).status_code == 422


def test_calendar_time_preset_loads_without_a_calendar(client):
    assert client.post(reverse("sla:policy_preset"), {"preset": "seed-002:default", "calendar": ""}).status_code == 302
    policy = SLAPolicy.objects.get(preset="seed-002:default")
    assert policy.calendar is None and policy.target("critical", "update") == (timedelta(minutes=30), False)


# --- preview -----------------------------------------------------------------------------------------------------


def preview(client, policy, opened: str, priority: str, tenant, **overrides):
    data = post_data(
        policy, preview_tenant=tenant.slug, preview_priority=priority, preview_opened_at=opened, **overrides
    )
    response = client.post(reverse("sla:policy_preview"), data, **HX)
    assert response.status_code == 200
    return text(response)


def due(page: str, kind: str) -> str:
    return re.search(rf'data-kind="{kind}">(.*?)</dd>', page).group(1)


def test_preview_critical_on_standard_friday_afternoon(client, standard, tenant_on_standard):
    page = preview(client, standard, "2026-03-06T15:00", "critical", tenant_on_standard)
    assert "<html" not in page and 'id="policy-preview"' in page
    assert "A <b>critical</b> case for <b>Fjord AS</b> opened" in page and "Fri 6 Mar 2026, 15:00 CET" in page
    assert "Fri 6 Mar, 15:15 CET" in due(page, "first_response")
    assert "15 min business time" in due(page, "first_response")


def test_preview_high_resolution_runs_over_the_weekend(client, standard, tenant_on_standard):
    page = preview(client, standard, "2026-03-06T15:30", "high", tenant_on_standard)
    assert "8 h business time" in due(page, "resolution")
    assert "Mon 9 Mar, 15:30 CET" in due(page, "resolution")


def test_preview_skips_easter_monday(client, standard, tenant_on_standard):
    page = preview(client, standard, "2026-04-01T15:00", "critical", tenant_on_standard)
    resolution = due(page, "resolution")
    assert "Easter Monday (2026-04-06) skipped" in resolution and "Good Friday (2026-04-03) skipped" in resolution
    assert "Tue 7 Apr, 11:00 CEST" in resolution


def test_preview_uses_the_unsaved_form_and_saves_nothing(client, standard, tenant_on_standard):
    page = preview(
        client,
        standard,
        "2026-03-06T15:00",
        "critical",
        tenant_on_standard,
        **{cell("critical", "first_response"): "30"},
    )
    assert "Fri 6 Mar, 15:30 CET" in due(page, "first_response")
    standard.refresh_from_db()
    assert standard.version == 1 and standard.target("critical", "first_response") == (timedelta(minutes=15), True)


def test_preview_in_the_viewers_timezone(client, admin, standard, tenant_on_standard):
    Profile.objects.filter(user=admin).update(timezone="America/New_York")
    page = preview(client, standard, "2026-03-06T09:00", "critical", tenant_on_standard)  # 15:00 in Oslo
    assert "Fri 6 Mar, 09:15 EST" in due(page, "first_response")
    assert "keeps hours in Europe/Oslo" in page


def test_preview_lists_the_problems_instead_of_numbers(client, standard, tenant_on_standard):
    page = preview(
        client, standard, "2026-03-06T15:00", "critical", tenant_on_standard, **{cell("critical", "resolution"): "x"}
    )
    assert "Critical resolution: “x” is not a number" in page and "due" not in page


def test_preview_without_javascript_renders_the_whole_page(client, standard, tenant_on_standard):
    data = post_data(
        standard, preview_tenant="fjord", preview_priority="critical", preview_opened_at="2026-03-06T15:00"
    )
    response = client.post(reverse("sla:policy_preview"), data)
    assert (
        response.status_code == 200
        and "<html" in response.content.decode()
        and "Fri 6 Mar, 15:15 CET" in text(response)
    )


def test_preview_of_a_new_policy(client, oslo, tenant_a):
    data = post_data(
        None,
        name="New",
        calendar=oslo.pk,
        preview_tenant=tenant_a.slug,
        preview_priority="low",
        preview_opened_at="2026-03-06T15:00",
    )
    for priority in ("critical", "high", "medium", "low"):
        data[cell(priority, "first_response")], data[cell(priority, "first_response", "unit")] = "1", "business_days"
        data[cell(priority, "resolution")], data[cell(priority, "resolution", "unit")] = "5", "business_days"
    page = text(client.post(reverse("sla:policy_preview"), data, **HX))
    assert "Mon 9 Mar, 15:00 CET" in due(page, "first_response")  # 8 business hours from Friday 15:00
    assert "no case runs on it" in page


# --- clocks a change would move, and the re-apply --------------------------------------------------------------------


def test_moved_clock_count_follows_the_form(client, admin, standard, tenant_on_standard):
    open_case(tenant_on_standard, admin, priority=Priority.CRITICAL, triage=True)  # first response + resolution running
    open_case(tenant_on_standard, admin, priority=Priority.LOW)  # first response running
    unchanged = preview(client, standard, "2026-03-06T15:00", "critical", tenant_on_standard)
    assert "Saving this does not move running clocks; <b>0 running clocks</b> would move if you re-apply" in unchanged
    changed = preview(
        client,
        standard,
        "2026-03-06T15:00",
        "critical",
        tenant_on_standard,
        **{cell("critical", "first_response"): "30", cell("critical", "resolution"): "3"},
    )
    assert "<b>2 running clocks</b> would move if you re-apply" in changed
    assert "(2 open cases on this policy)" in changed


def test_reapply_confirms_then_moves_clocks_with_audited_timeline_entries(client, admin, standard, tenant_on_standard):
    case = open_case(tenant_on_standard, admin, priority=Priority.CRITICAL, triage=True)
    other = open_case(tenant_on_standard, admin, priority=Priority.MEDIUM)
    data = post_data(standard, **{cell("critical", "resolution"): "8", cell("critical", "resolution", "unit"): "hours"})
    saved = client.post(reverse("sla:policy_edit", args=[standard.pk]), data, follow=True)
    assert "1 clock would move if you re-apply" in text(saved)
    resolution = SLAClock.objects.get(case=case, kind=SLAClock.Kind.RESOLUTION)
    assert resolution.target == timedelta(hours=4), "saving does not move running clocks"

    confirm = client.post(reverse("sla:policy_reapply", args=[standard.pk]), **HX)
    assert confirm.status_code == 200 and "<html" not in confirm.content.decode()
    assert "to 2 open cases?" in text(confirm) and "<b>1 running clock</b> will move" in text(confirm)
    assert SLAClock.objects.get(pk=resolution.pk).target == timedelta(hours=4), "the confirmation step changes nothing"

    done = client.post(reverse("sla:policy_reapply", args=[standard.pk]), {"confirm": "yes"}, follow=True)
    assert "Re-applied “Test Standard” v2 to 2 open cases: 1 clock moved" in text(done)
    resolution.refresh_from_db()
    assert resolution.target == timedelta(hours=8)
    for c in (case, other):
        entry = Interaction.objects.filter(case=c, kind=Interaction.Kind.AUTOMATION, body="SLA policy re-applied").get()
        assert entry.actor == admin and "Test Standard v2 re-applied" in entry.data["sla"][0]
        assert LogEntry.objects.get_for_object(entry).filter(actor=admin, action=LogEntry.Action.CREATE).exists()
        c.refresh_from_db()
        assert c.sla_snapshot["version"] == 2
    standard.refresh_from_db()
    assert selectors.clocks_moved_by(standard) == 0


def test_reapply_needs_post_to_act(client, admin, standard, tenant_on_standard):
    open_case(tenant_on_standard, admin)
    response = client.get(reverse("sla:policy_reapply", args=[standard.pk]) + "?confirm=yes")
    assert response.status_code == 200 and "Re-apply to 1 case" in text(response)
    assert not Interaction.objects.filter(body="SLA policy re-applied").exists()


# --- rules --------------------------------------------------------------------------------------------------------


@pytest.fixture
def policies(oslo):
    gold = clocks.load_preset(preset="seed-003", column="premium", name="Gold", calendar=oslo)
    base = clocks.load_preset(preset="seed-003", column="standard", name="Base", calendar=oslo)
    SLAPolicyRule.objects.all().delete()
    return gold, base


def test_rules_are_listed_in_order_with_the_first_match_note(client, policies):
    gold, base = policies
    SLAPolicyRule.objects.create(position=90, policy=base)
    SLAPolicyRule.objects.create(position=10, support_tier=SupportTier.ENTERPRISE, policy=gold)
    page = text(client.get(reverse("sla:rules")))
    assert "First match wins" in page and "A tenant's own override wins over rules." in page
    assert page.index('<td class="num">10</td>') < page.index('<td class="num">90</td>')


def test_add_edit_and_delete_a_rule(client, policies):
    gold, base = policies
    response = client.post(
        reverse("sla:rules"),
        {"action": "save", "position": "20", "segment": "", "support_tier": "premium", "policy": gold.pk},
    )
    assert response.status_code == 302
    rule = SLAPolicyRule.objects.get()
    assert (rule.position, rule.segment, rule.support_tier, rule.policy) == (20, "", "premium", gold)
    assert LogEntry.objects.get_for_object(rule).filter(action=LogEntry.Action.CREATE).exists()

    edit = client.get(reverse("sla:rules") + f"?edit={rule.pk}", **HX)
    assert 'id="rules"' in edit.content.decode() and 'name="edit-position"' in edit.content.decode()
    response = client.post(
        reverse("sla:rules"),
        {
            "action": "save",
            "rule": rule.pk,
            "edit-position": "30",
            "edit-segment": "enterprise",
            "edit-support_tier": "",
            "edit-policy": base.pk,
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.position, rule.segment, rule.support_tier, rule.policy) == (30, "enterprise", "", base)

    confirm = client.post(reverse("sla:rules"), {"action": "delete", "rule": rule.pk}, **HX)
    assert confirm.status_code == 200 and "Delete rule #30" in text(confirm)
    assert SLAPolicyRule.objects.filter(pk=rule.pk).exists()
    assert client.post(reverse("sla:rules"), {"action": "delete", "rule": rule.pk, "confirm": "yes"}).status_code == 302
    assert not SLAPolicyRule.objects.exists()


def test_invalid_rule_keeps_the_input(client, policies):
    response = client.post(
        reverse("sla:rules"), {"action": "save", "position": "0", "segment": "smb", "support_tier": "", "policy": ""}
    )
    assert response.status_code == 422
    page = text(response)
    assert "A position from 1 up." in page and "Choose the policy this rule selects." in page
    assert '<option value="smb" selected>' in page
    assert not SLAPolicyRule.objects.exists()


def test_first_match_wins_and_an_override_wins_over_rules(client, policies):
    gold, base = policies
    SLAPolicyRule.objects.create(position=10, support_tier=SupportTier.ENTERPRISE, policy=gold)
    SLAPolicyRule.objects.create(position=20, segment=Segment.ENTERPRISE, policy=base)
    SLAPolicyRule.objects.create(position=90, policy=base)
    big = TenantFactory(name="Big Corp", slug="big", segment=Segment.ENTERPRISE, support_tier=SupportTier.ENTERPRISE)
    small = TenantFactory(name="Small Shop", slug="small", segment=Segment.SMB, support_tier=SupportTier.STANDARD)
    pinned = TenantFactory(
        name="Pinned Ltd",
        slug="pinned",
        segment=Segment.ENTERPRISE,
        support_tier=SupportTier.ENTERPRISE,
        sla_policy=base,
    )

    page = text(client.get(reverse("sla:rules") + "?tenant=big", **HX, HTTP_HX_TARGET="rule-lookup"))
    assert 'id="rule-lookup"' in page and "<table" not in page
    assert "<b>Gold</b>" in page and "by rule #10" in page
    assert clocks.policy_for_tenant(big) == gold

    page = text(client.get(reverse("sla:rules") + "?tenant=Small Shop"))
    assert "<b>Base</b>" in page and "by rule #90" in page

    page = text(client.get(reverse("sla:rules") + "?tenant=pinned"))
    assert "<b>Base</b>" in page and "by its own override" in page
    assert clocks.policy_for_tenant(pinned) == base

    # Reordering changes who wins: move the segment rule first.
    rule = SLAPolicyRule.objects.get(position=20)
    client.post(
        reverse("sla:rules"),
        {
            "action": "save",
            "rule": rule.pk,
            "edit-position": "5",
            "edit-segment": "enterprise",
            "edit-support_tier": "",
            "edit-policy": base.pk,
        },
    )
    page = text(client.get(reverse("sla:rules") + "?tenant=big"))
    assert "<b>Base</b>" in page and "by rule #5" in page
    assert clocks.policy_for_tenant(big) == base and small.sla_policy is None


def test_rule_never_reached_is_flagged(client, policies):
    gold, base = policies
    SLAPolicyRule.objects.create(position=10, policy=base)
    SLAPolicyRule.objects.create(position=20, support_tier=SupportTier.PREMIUM, policy=gold)
    page = text(client.get(reverse("sla:rules")))
    assert "never matches: #10 comes first" in page


def test_bad_ids_are_404_not_500(client, standard):
    assert client.post(reverse("sla:policy_preview"), {"policy": "abc"}).status_code == 404
    assert client.post(reverse("sla:policy_preview"), {"policy": "999999"}).status_code == 404
    assert client.post(reverse("sla:rules"), {"action": "delete", "rule": "x"}).status_code == 404
    assert client.get(reverse("sla:policy_edit", args=[999999])).status_code == 404
    assert client.get(reverse("sla:rules") + "?edit=abc").status_code == 200


def test_lookup_with_several_or_no_matches(client, policies):
    TenantFactory(name="Nordic One", slug="nordic-one")
    TenantFactory(name="Nordic Two", slug="nordic-two")
    assert "Several tenants match" in text(client.get(reverse("sla:rules") + "?tenant=nordic"))
    assert "No tenant matches “zzz”" in text(client.get(reverse("sla:rules") + "?tenant=zzz"))


# --- calendars ------------------------------------------------------------------------------------------------------


def calendar_data(**overrides) -> dict:
    data = {
        "name": "Sydney office",
        "timezone": "Australia/Sydney",
        "holiday_country": "AU",
        "holiday_subdivision": "NSW",
        "day_0": "09:00-12:00, 13:00-17:00",
        "day_1": "09:00-17:00",
        "day_2": "09:00-17:00",
        "day_3": "09:00-17:00",
        "day_4": "09:00-17:00",
        "day_5": "",
        "day_6": "",
        "closures_text": "",
        "extra_days_text": "",
    }
    data.update(overrides)
    return data


def test_create_calendar_parses_hours_closures_and_extra_days(client):
    data = calendar_data(
        closures_text="2026-12-24 Christmas Eve closure\n\n2026-12-31   New Year's Eve",
        extra_days_text="2026-03-28 10:00-14:00 Migration weekend\n2026-03-29 8:00-12:00, 13:00-15:30 Cut-over",
        day_6="00:00-24:00",
    )
    response = client.post(reverse("sla:calendar_create"), data)
    assert response.status_code == 302, text(response)[:3000]
    calendar = BusinessCalendar.objects.get(name="Sydney office")
    assert calendar.weekly_hours["0"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert calendar.weekly_hours["6"] == [["00:00", "24:00"]] and "5" not in calendar.weekly_hours
    assert calendar.closures == [
        {"date": "2026-12-24", "name": "Christmas Eve closure"},
        {"date": "2026-12-31", "name": "New Year's Eve"},
    ]
    assert calendar.extra_days == [
        {"date": "2026-03-28", "name": "Migration weekend", "windows": [["10:00", "14:00"]]},
        {"date": "2026-03-29", "name": "Cut-over", "windows": [["08:00", "12:00"], ["13:00", "15:30"]]},
    ]
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("AU", "NSW")
    cal = calendar.to_calendar(years=[2026])
    assert cal.hours_per_day == timedelta(hours=8)
    from cases.sla import calendar as sla

    assert sla.is_open(datetime(2026, 3, 28, 11, 0, tzinfo=ZoneInfo("Australia/Sydney")), cal)
    assert not sla.is_open(datetime(2026, 12, 24, 10, 0, tzinfo=ZoneInfo("Australia/Sydney")), cal)
    # The form shows it back as typed (normalised).
    page = text(client.get(response["Location"]))
    assert 'value="09:00-12:00, 13:00-17:00"' in page and "2026-03-29 08:00-12:00, 13:00-15:30 Cut-over" in page


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("day_1", "25:00-26:00", "Tuesday: “25:00” is not a time of day"),
        ("day_1", "9-17", "Tuesday: “9” is not a time: write HH:MM"),
        ("day_2", "08:00-12:00, 11:00-16:00", "Wednesday: 08:00-12:00 and 11:00-16:00 overlap."),
        ("day_3", "17:00-09:00", "Thursday: 17:00-09:00 ends before it starts"),
        ("day_4", "08:00", "Friday: “08:00” is not a window"),
        ("holiday_country", "XX", "Unknown country &#x27;XX&#x27;"),
        ("holiday_subdivision", "ZZZ", "Unknown subdivision &#x27;ZZZ&#x27; for country AU"),
        ("closures_text", "2026-12-24 Christmas Eve\n2026-02-30 Bad day", "Line 2: “2026-02-30” is not a date"),
        ("closures_text", "2026-12-24 A\n2026-12-24 B", "Line 2: 2026-12-24 is already listed on line 1."),
        ("extra_days_text", "2026-03-28 Migration weekend", "Line 1: give the open hours after the date"),
        ("extra_days_text", "2026-03-28 14:00-10:00 Migration", "Line 1: 14:00-10:00 ends before it starts"),
    ],
)
def test_calendar_validation_says_what_and_where(client, field, value, message):
    response = client.post(reverse("sla:calendar_create"), calendar_data(**{field: value}))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert not BusinessCalendar.objects.filter(name="Sydney office").exists()
    assert "Sydney office" in page  # typed values kept
    assert "Fix the fields marked on the left" in page


def test_calendar_needs_some_hours_and_a_country_for_a_subdivision(client):
    page = text(
        client.post(
            reverse("sla:calendar_create"), calendar_data(**{f"day_{d}": "" for d in range(7)}, holiday_country="")
        )
    )
    assert "needs open hours on at least one weekday" in page and "Give the country code as well" in page


def test_closure_and_extra_day_on_the_same_date_is_refused(client):
    page = text(
        client.post(
            reverse("sla:calendar_create"),
            calendar_data(closures_text="2026-03-28 Closed", extra_days_text="2026-03-28 10:00-14:00 Open"),
        )
    )
    assert "2026-03-28 is both a closure and an extra open day" in page


def test_calendar_page_lists_the_next_12_months(client, oslo):
    from django.utils import timezone

    soon = timezone.localdate() + timedelta(days=20)
    oslo.closures = [{"date": soon.isoformat(), "name": "Team offsite"}]
    oslo.save()
    page = text(client.get(reverse("sla:calendar_edit", args=[oslo.pk])))
    upcoming = re.search(r'id="upcoming"(.*?)</section>', page).group(1)
    assert "Team offsite" in upcoming and "closure" in upcoming
    assert "Christmas Day" in upcoming and "Constitution Day" in upcoming  # public holidays of NO, within a year


def test_calendar_preview_of_upcoming_days_is_unsaved(client, oslo):
    data = calendar_data(
        name=oslo.name, timezone="Europe/Oslo", holiday_country="SE", holiday_subdivision="", action="preview"
    )
    response = client.post(reverse("sla:calendar_edit", args=[oslo.pk]), data, **HX)
    assert (
        response.status_code == 200
        and 'id="upcoming"' in response.content.decode()
        and "<html" not in response.content.decode()
    )
    assert "Midsummer" in text(response)
    oslo.refresh_from_db()
    assert oslo.holiday_country == "NO"


def test_editing_a_calendar_bumps_the_policies_on_it(client, standard, oslo):
    data = calendar_data(
        name=oslo.name,
        timezone="Europe/Oslo",
        holiday_country="NO",
        holiday_subdivision="",
        **{f"day_{d}": "08:00-15:00" for d in range(5)},
    )
    response = client.post(reverse("sla:calendar_edit", args=[oslo.pk]), data, follow=True)
    assert "1 policy counting business time on it moved to a new version" in text(response)
    oslo.refresh_from_db()
    standard.refresh_from_db()
    assert oslo.weekly_hours["0"] == [["08:00", "15:00"]] and standard.version == 2
    assert LogEntry.objects.get_for_object(oslo).filter(action=LogEntry.Action.UPDATE).exists()
    # Saving the same again changes nothing.
    client.post(reverse("sla:calendar_edit", args=[oslo.pk]), data)
    standard.refresh_from_db()
    assert standard.version == 2


# --- the parsers, on their own ----------------------------------------------------------------------------------------


def test_parse_windows():
    assert parse_windows("") == [] and parse_windows("closed") == []
    assert parse_windows("13:00-16:00, 08:00-12:00") == [["08:00", "12:00"], ["13:00", "16:00"]]
    assert parse_windows("00:00-24:00") == [["00:00", "24:00"]]
    assert parse_windows("8:00 – 12:00; 12:00-16:00") == [["08:00", "12:00"], ["12:00", "16:00"]]
    for bad in (
        "24:00-08:00",
        "08:00-08:00",
        "08:60-09:00",
        "morning",
        "08:00-12:00, 11:59-13:00",
        "20:00-24:00, 23:00-23:30",
    ):
        with pytest.raises(ValidationError):
            parse_windows(bad)


def test_parse_closures_and_extra_days():
    assert parse_closures("# comment\n2026-12-24 Christmas Eve closure\n2026-01-02") == [
        {"date": "2026-01-02", "name": "Closure"},
        {"date": "2026-12-24", "name": "Christmas Eve closure"},
    ]
    assert parse_extra_days("2026-03-28 10:00-14:00 Migration weekend") == [
        {"date": "2026-03-28", "name": "Migration weekend", "windows": [["10:00", "14:00"]]}
    ]
