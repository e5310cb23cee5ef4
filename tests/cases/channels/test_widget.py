"""The in-app widget's panel and thread (cases.channels.widget): a signed context opens the form and files
a case (channel "widget", the page's error ids and trace links as evidence, the requester matched or
created in the tenant); a missing, forged, expired or other-tenant context is refused clearly and
audited; frame-ancestors follows the integration (the console keeps 'none'); the signed thread link
shows the case and the agents' public replies, audited, without a login."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from auditlog.models import LogEntry
from django.core import signing
from django.template import Template
from django.test import Client

from cases import services
from cases.channels.widget import context as widget_context
from cases.channels.widget.extensions import _sections
from cases.models import Case, Interaction
from tenants import ingest
from tenants import services as tenant_services
from tenants.models import Requester
from tenants.widget import sign_context
from tests.conftest import login
from tests.factories import RequesterFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://app.acme.example"


@pytest.fixture
def widget(admin_user, tenant_a):
    integration, _ = ingest.integration_create(name="Acme app", actor=admin_user, tenant_ids=[tenant_a.pk])
    config, secret = tenant_services.widget_configure(
        integration_id=integration.pk, actor=admin_user, enabled=True, allowed_origins=[ORIGIN]
    )
    return config


def ctx(config, *, tenant="acme", email="jane@acme.example", name="Jane Doe", ttl=600, secret=None) -> str:
    return sign_context(
        key_id=config.key_id,
        secret=secret or config.secret,
        tenant=tenant,
        email=email,
        name=name,
        expires_at=int(time.time()) + ttl,
    )


def csp(response) -> dict[str, list[str]]:
    out = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def denials():
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__denied=True)


def form(config, **extra) -> dict:
    return {
        "ctx": ctx(config),
        "subject": "Export fails",
        "description": "The CSV export shows an error.",
        "error_ids": "ERR-EXPORT-17\nERR-5XX-1042\nERR-EXPORT-17",
        "trace_links": "https://traces.acme.example/t/4bf92f\njavascript:alert(1)",
        "page_url": "https://app.acme.example/reports?id=3",
        "browser": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156",
        "app_version": "4.2.1",
        **extra,
    }


# --- the panel ----------------------------------------------------------------------------------------


def test_a_signed_context_opens_the_form_framable_by_the_integrations_origins(widget):
    response = Client().get("/widget/panel/", {"ctx": ctx(widget)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Contact support" in page and "Acme Corp" in page and "jane@acme.example" in page
    policy = csp(response)
    assert policy["frame-ancestors"] == [ORIGIN]
    assert policy["default-src"] == ["'none'"] and policy["script-src"] == ["'self'"]
    assert not any("unsafe" in v for values in policy.values() for v in values)
    assert "X-Frame-Options" not in response
    assert f'data-parent-origins="{ORIGIN}"' in page


def test_frame_ancestors_follow_each_integration_and_the_console_keeps_none(widget, admin_user, tenant_a):
    other, _ = ingest.integration_create(name="Acme admin app", actor=admin_user, tenant_ids=[tenant_a.pk])
    second, _ = tenant_services.widget_configure(
        integration_id=other.pk,
        actor=admin_user,
        enabled=True,
        allowed_origins=["https://admin.acme.example", "http://localhost:8080"],
    )
    first = Client().get("/widget/panel/", {"ctx": ctx(widget)})
    assert csp(first)["frame-ancestors"] == [ORIGIN]
    response = Client().get("/widget/panel/", {"ctx": ctx(second)})
    assert csp(response)["frame-ancestors"] == ["https://admin.acme.example", "http://localhost:8080"]
    console = login(admin_user).get("/cases/")
    assert csp(console)["frame-ancestors"] == ["'none'"] and console["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "token, message",
    [
        ("", "without a signed context"),
        ("v1.wk_nosuchkey1.e30.abc", "no known widget key"),
        ("garbage", "malformed"),
    ],
)
def test_an_unsigned_or_malformed_context_is_refused_clearly(widget, token, message):
    response = Client().get("/widget/panel/", {"ctx": token} if token else {})
    assert response.status_code == 403
    assert message in response.content.decode()
    assert "<form" not in response.content.decode()
    assert csp(response)["frame-ancestors"] == ["'none'"]
    assert denials().count() == 1


def test_a_forged_context_is_refused_inside_the_hosts_frame(widget):
    response = Client().get("/widget/panel/", {"ctx": ctx(widget, secret="wsk_guessed")})
    assert response.status_code == 403
    assert "not correctly signed" in response.content.decode()
    assert csp(response)["frame-ancestors"] == [ORIGIN]  # the refusal reaches the visitor in the host's page
    assert denials().get().additional_data["reason"].startswith("widget refused")


def test_an_expired_context_is_refused(widget):
    response = Client().get("/widget/panel/", {"ctx": ctx(widget, ttl=-5)})
    assert response.status_code == 403
    assert "This help session has expired" in response.content.decode()
    # …and at submit time too: the form was opened, the context expired while the visitor typed.
    data = form(widget)
    with mock.patch("cases.channels.widget.context.time.time", return_value=time.time() + 601):
        response = Client().post("/widget/panel/", data)
    assert response.status_code == 403 and "expired" in response.content.decode()
    assert not Case.objects.exists()


def test_a_context_for_another_tenant_is_refused(widget, tenant_b):
    """Signed with this integration's real secret, naming a tenant the integration does not serve."""
    response = Client().get("/widget/panel/", {"ctx": ctx(widget, tenant="globex")})
    assert response.status_code == 403
    assert "cannot file cases for that organisation" in response.content.decode()
    response = Client().post("/widget/panel/", form(widget, ctx=ctx(widget, tenant="globex")))
    assert response.status_code == 403
    assert not Case.objects.exists() and not Requester.objects.exists()


def test_a_switched_off_widget_refuses(widget, admin_user):
    tenant_services.widget_configure(
        integration_id=widget.integration_id, actor=admin_user, enabled=False, allowed_origins=[ORIGIN]
    )
    response = Client().get("/widget/panel/", {"ctx": ctx(widget)})
    assert response.status_code == 403 and "switched off" in response.content.decode()
    assert csp(response)["frame-ancestors"] == ["'none'"]


def test_filing_opens_a_widget_case_with_the_pages_evidence(widget, tenant_a):
    response = Client().post("/widget/panel/", form(widget))
    assert response.status_code == 303
    case = Case.objects.get()
    assert (case.tenant, case.channel, case.subject) == (tenant_a, "widget", "Export fails")
    assert (case.requester.email, case.requester.name) == ("jane@acme.example", "Jane Doe")
    assert case.requester.tenant == tenant_a
    assert set(case.unclassified) == {"category", "issue_type", "environment"}
    opening = case.interactions.get(kind=Interaction.Kind.INBOUND)
    assert opening.actor is None and opening.requester == case.requester and opening.channel == "widget"
    assert opening.data["evidence"] == {
        "error_ids": ["ERR-EXPORT-17", "ERR-5XX-1042"],
        "trace_links": ["https://traces.acme.example/t/4bf92f"],
    }
    facts = opening.data["channel_data"]
    assert facts["page_url"] == "https://app.acme.example/reports?id=3"
    assert facts["app_version"] == "4.2.1" and "Chrome/156" in facts["browser"]
    assert facts["left_out"] == 1 and facts["widget"] == "Acme app"  # the javascript: "trace link"
    assert response["Location"].startswith("/widget/t/") and response["Location"].endswith("?filed=1")
    assert csp(response)["frame-ancestors"] == [ORIGIN]


def test_an_existing_contact_is_matched_and_another_tenants_never_used(widget, tenant_a, tenant_b):
    theirs = RequesterFactory(tenant=tenant_b, email="jane@acme.example")
    mine = RequesterFactory(tenant=tenant_a, email="Jane@Acme.example", name="Jane D.")
    Client().post("/widget/panel/", form(widget))
    case = Case.objects.get()
    assert case.requester == mine and case.requester != theirs
    assert Requester.objects.filter(tenant=tenant_a).count() == 1


def test_a_form_without_subject_is_re_rendered_with_what_was_typed(widget):
    response = Client().post("/widget/panel/", form(widget, subject="", description="Still typed"))
    assert response.status_code == 422
    page = response.content.decode()
    assert "Say in a few words what went wrong." in page and "Still typed" in page
    assert "ERR-5XX-1042" in page  # the page facts stay in their hidden fields
    assert not Case.objects.exists()


def test_the_rendered_case_page_shows_the_evidence(widget, admin_user):
    Client().post("/widget/panel/", form(widget))
    case = Case.objects.get()
    page = login(admin_user).get(f"/cases/{case.key}/").content.decode()
    assert "ERR-EXPORT-17" in page and "ERR-5XX-1042" in page
    assert "https://traces.acme.example/t/4bf92f" in page and "4.2.1" in page
    assert "javascript:alert" not in page


def test_the_panel_shows_registered_sections_above_the_form(widget, monkeypatch):
    """The knowledge base's hook: nothing registered, nothing shown; a provider's template is included."""
    assert "data-panel-section" not in Client().get("/widget/panel/", {"ctx": ctx(widget)}).content.decode()
    section = Template("<div data-panel-section>{{ section.who }}</div>")
    monkeypatch.setitem(_sections, "probe", lambda request, tenant, context: (section, {"who": context.email}))
    monkeypatch.setitem(_sections, "silent", lambda request, tenant, context: None)
    page = Client().get("/widget/panel/", {"ctx": ctx(widget)}).content.decode()
    assert page.count("data-panel-section") == 1
    assert "<div data-panel-section>jane@acme.example</div>" in page
    assert page.index("data-panel-section") < page.index("data-widget-form")


# --- the thread behind the signed link ----------------------------------------------------------------------


def _filed(widget) -> tuple[Case, str]:
    response = Client().post("/widget/panel/", form(widget))
    return Case.objects.get(), response["Location"]


def test_the_signed_link_shows_the_key_and_the_agents_public_replies_and_is_audited(widget, admin_user):
    case, location = _filed(widget)
    services.case_reply(case_id=case.pk, actor=admin_user, body="We are looking at the export.", public=True)
    services.case_reply(case_id=case.pk, actor=admin_user, body="Internal: suspect the new worker.", public=False)
    response = Client().get(location)
    assert response.status_code == 200
    page = response.content.decode()
    assert case.key in page and "Thanks — we have your request." in page
    assert "We are looking at the export." in page and "The CSV export shows an error." in page
    assert "Internal: suspect" not in page
    assert csp(response)["frame-ancestors"] == [ORIGIN]
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(case.pk)).latest("id")
    assert entry.additional_data["view"] == "widget: case thread"
    assert entry.additional_data["requester"] == case.requester_id
    assert entry.actor is None


def test_a_forged_or_expired_link_is_refused(widget, settings):
    case, location = _filed(widget)
    token = location.split("/")[3]
    response = Client().get(f"/widget/t/{token[:-2]}xx/")
    assert response.status_code == 403 and "This link is not valid." in response.content.decode()
    other = signing.dumps(
        {"c": case.pk, "r": case.requester_id + 1, "i": widget.integration_id}, salt=widget_context.THREAD_SALT
    )
    assert Client().get(f"/widget/t/{other}/").status_code == 404  # a link of another contact shows nothing
    settings.WIDGET_THREAD_LINK_MAX_AGE_DAYS = 1
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 2 * 86400):
        response = Client().get(location)
    assert response.status_code == 403 and "This link has expired" in response.content.decode()
    assert denials().count() == 3


def test_the_customer_can_write_back_in_the_thread(widget, admin_user):
    case, location = _filed(widget)
    services.case_transition(case_id=case.pk, to="triage", actor=admin_user)
    path = location.split("?")[0]
    response = Client().post(path, {"body": "It happens on every export."})
    assert response.status_code == 302
    message = case.interactions.filter(kind=Interaction.Kind.INBOUND).latest("id")
    assert (message.body, message.channel, message.requester_id) == (
        "It happens on every export.",
        "widget",
        case.requester_id,
    )
    assert Client().post(path, {"body": "  "}).status_code == 422


def test_the_console_needs_no_login_for_the_widget_only(widget):
    assert Client().get("/widget/panel/").status_code == 403  # refused by the widget, not sent to sign in
    assert Client().get("/cases/").status_code == 302
