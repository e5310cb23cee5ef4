"""The phone channel (issue 11 point 5): calls logged from the case page or as a new case, with the
tenant's phone entitlement and seed 001's "critical issues only" rule shown and recorded; a public
reply on a phone case becomes a callback the agent sees and marks done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from cases import services
from cases.channels.outbound import sender_for
from cases.choices import Priority
from cases.models import Case, Interaction, PhoneCallback, SLAClock
from tests.conftest import login
from tests.factories import RequesterFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(db):
    entitled = TenantFactory(name="Acme Corp", slug="acme", entitlements={"phone_support": True})
    plain = TenantFactory(name="Globex", slug="globex", entitlements={"phone_support": False})
    hidden = TenantFactory(name="Initech", slug="initech")
    agent = UserFactory(username="kari", first_name="Kari", role="agent", tenants=[entitled, plain])
    return {
        "entitled": entitled,
        "plain": plain,
        "hidden": hidden,
        "agent": agent,
        "client": login(agent),
        "caller": RequesterFactory(tenant=entitled, name="Jane Doe"),
        "plain_caller": RequesterFactory(tenant=plain, name="Bob"),
    }


def case_for(world, *, tenant="entitled", priority=Priority.CRITICAL, channel="phone"):
    requester = world["caller"] if tenant == "entitled" else world["plain_caller"]
    return services.case_create(
        actor=world["agent"],
        tenant=world[tenant],
        requester=requester,
        subject="Checkout is down",
        priority=priority,
        channel=channel,
    )


def log_call(world, case, **fields):
    data = {"direction": "inbound", "minutes": "12", "summary": "Customer reports checkout 500s since 09:40.", **fields}
    return world["client"].post(reverse("cases:phone", args=[case.key]), data)


def calls(case):
    return list(case.interactions.filter(kind=Interaction.Kind.CALL))


# --- logging a call on a case ---------------------------------------------------------------------------


def test_a_call_from_an_entitled_tenant_on_a_critical_case_is_logged_without_a_warning(world):
    case = case_for(world)
    response = log_call(world, case)
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    (entry,) = calls(case)
    assert entry.actor == world["agent"] and entry.channel == "phone" and not entry.public
    assert entry.body == "Customer reports checkout 500s since 09:40."
    assert entry.data["direction"] == "inbound" and entry.data["duration_seconds"] == 720
    assert entry.data["phone_flags"] == [] and entry.data["entitled"] is True
    page = world["client"].get(case.get_absolute_url()).content.decode()
    assert "phone call · customer called · 12 min" in page


def test_a_call_from_a_tenant_without_phone_support_is_logged_with_the_warning_recorded(world):
    case = case_for(world, tenant="plain", priority=Priority.HIGH)
    response = log_call(world, case, direction="outbound")
    assert response.status_code == 302
    (entry,) = calls(case)
    assert entry.data["entitled"] is False
    assert entry.data["phone_flags"] == [
        "phone support is not included in the tenant's plan",
        "phone support is for critical issues only; this case is High",
    ]
    page = world["client"].get(case.get_absolute_url(), follow=True).content.decode()
    assert "Recorded on the case: phone support is not included" in page  # the flash says it
    assert "⚠ phone support is for critical issues only; this case is High" in page  # and the timeline


def test_the_card_shows_the_entitlement_and_the_critical_only_rule_before_logging(world):
    plain = case_for(world, tenant="plain", priority=Priority.MEDIUM)
    card = world["client"].get(reverse("cases:phone", args=[plain.key]), **HX).content.decode()
    assert 'data-phone-entitled="no"' in card and "not in Globex's plan" in card
    assert "phone support is for critical issues only — this case is Medium" in card
    entitled = case_for(world)
    card = world["client"].get(reverse("cases:phone", args=[entitled.key]), **HX).content.decode()
    assert 'data-phone-entitled="yes"' in card and "this case is" not in card


def test_a_plan_whose_channels_leave_out_phone_is_not_entitled(world):
    world["entitled"].entitlements = {"phone_support": True, "channels": ["email", "slack"]}
    world["entitled"].save()
    case = case_for(world)
    log_call(world, case)
    (entry,) = calls(case)
    assert entry.data["entitled"] is False
    assert entry.data["phone_flags"] == ["channel “phone” is not in the tenant's plan (entitled: email, slack)"]


def test_an_outbound_call_is_a_first_response(world):
    case = case_for(world, channel="email")
    assert SLAClock.objects.get(case=case, kind="first_response").state == "running"
    log_call(world, case, direction="inbound")
    assert SLAClock.objects.get(case=case, kind="first_response").state == "running"  # the customer called
    log_call(world, case, direction="outbound")
    case.refresh_from_db()
    assert case.first_response_at is not None
    assert SLAClock.objects.get(case=case, kind="first_response").state == "stopped"
    assert calls(case)[-1].data["first_response"] is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"summary": "  "}, "Write a short summary of the call."),
        ({"minutes": "1441"}, "at most 24 hours"),
        ({"minutes": "-1"}, "0 minutes or more"),
        ({"minutes": "ten"}, "whole minutes"),
        ({"direction": "sideways"}, "Select a valid choice"),
    ],
)
def test_a_bad_call_is_refused_with_the_reason_and_nothing_logged(world, fields, message):
    case = case_for(world)
    response = log_call(world, case, **fields)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert calls(case) == []


def test_an_htmx_call_log_reloads_the_case_page(world):
    case = case_for(world)
    response = world["client"].post(
        reverse("cases:phone", args=[case.key]), {"direction": "inbound", "minutes": "3", "summary": "ok"}, **HX
    )
    assert response.status_code == 204 and response["HX-Location"] == f"/cases/{case.key}/"


def test_a_case_of_a_tenant_not_granted_is_404(world):
    other = services.case_create(
        actor=None, tenant=world["hidden"], requester=RequesterFactory(tenant=world["hidden"]), subject="x"
    )
    assert log_call(world, other).status_code == 404
    assert world["client"].get(reverse("cases:phone", args=[other.key])).status_code == 404
    assert calls(other) == []


# --- callbacks ---------------------------------------------------------------------------------------------


def test_a_public_reply_on_a_phone_case_creates_a_callback_the_agent_marks_done(world):
    case = case_for(world)
    services.case_reply(case_id=case.pk, actor=world["agent"], body="Internal: check LB", public=False)
    assert not PhoneCallback.objects.exists()  # internal notes never leave
    reply = services.case_reply(case_id=case.pk, actor=world["agent"], body="We rolled back the deploy.", public=True)
    callback = PhoneCallback.objects.get()
    assert (callback.case, callback.reply, callback.assigned_to, callback.done_at) == (
        case,
        reply,
        world["agent"],
        None,
    )
    assert sender_for("phone")(reply) == f"callback:{callback.pk}"  # the relay's delivery: the same task, once
    assert PhoneCallback.objects.count() == 1

    card = world["client"].get(reverse("cases:phone", args=[case.key]), **HX).content.decode()
    assert "Call Jane Doe back" in card and "We rolled back the deploy." in card
    done = reverse("cases:phone_callback_done", args=[case.key, callback.pk])
    response = world["client"].post(done, **HX)
    assert response.status_code == 200 and "Callback marked done." in response.content.decode()
    callback.refresh_from_db()
    first_done = callback.done_at
    assert first_done is not None and callback.done_by == world["agent"]
    world["client"].post(done, **HX)  # a second click changes nothing
    callback.refresh_from_db()
    assert callback.done_at == first_done


def test_no_callback_for_replies_on_other_channels(world):
    case = case_for(world, channel="email")
    services.case_reply(case_id=case.pk, actor=world["agent"], body="Answer by mail", public=True)
    assert not PhoneCallback.objects.exists()


def test_a_callback_of_another_case_is_404(world):
    case, other = case_for(world), case_for(world)
    services.case_reply(case_id=other.pk, actor=world["agent"], body="Calling you back", public=True)
    callback = PhoneCallback.objects.get()
    response = world["client"].post(reverse("cases:phone_callback_done", args=[case.key, callback.pk]))
    assert response.status_code == 404
    callback.refresh_from_db()
    assert callback.done_at is None


# --- a new case from a call --------------------------------------------------------------------------------


def test_a_call_opens_a_phone_case_with_the_call_on_its_timeline(world):
    url = reverse("cases:phone_create")
    page = world["client"].get(url).content.decode()
    assert "phone support is for critical issues only" in page
    response = world["client"].post(
        url,
        {
            "tenant": "globex",
            "requester": world["plain_caller"].pk,
            "subject": "Cannot log in",
            "priority": Priority.HIGH,
            "direction": "inbound",
            "minutes": "7",
            "summary": "SSO loop after IdP change.",
        },
    )
    case = Case.objects.get(subject="Cannot log in")
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    assert (case.channel, case.priority, case.description) == ("phone", Priority.HIGH, "SSO loop after IdP change.")
    opening = case.interactions.get(kind=Interaction.Kind.INBOUND)
    assert "phone support is not included in the tenant's plan" in opening.data["entitlement_flags"]
    (call,) = calls(case)
    assert call.data["duration_seconds"] == int(timedelta(minutes=7).total_seconds())
    assert "phone support is for critical issues only; this case is High" in call.data["phone_flags"]


def test_the_new_call_form_refuses_a_tenant_not_granted_and_keeps_what_was_typed(world):
    response = world["client"].post(
        reverse("cases:phone_create"),
        {
            "tenant": "initech",
            "subject": "Keep me",
            "priority": 1,
            "direction": "inbound",
            "minutes": "1",
            "summary": "s",
        },
    )
    assert response.status_code == 422
    assert 'value="Keep me"' in response.content.decode()
    assert not Case.objects.filter(subject="Keep me").exists()
