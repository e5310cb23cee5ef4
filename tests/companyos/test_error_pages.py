"""The styled 400/403/404/500 pages (issue 9, finding 5): inside the console's layout with its nav
and a way back, used by Django's handlers, and the same with DEBUG on (the demo) as off."""

import re

import pytest
from django.template import loader
from django.test import Client

from tests.conftest import login
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

ERRORS_URLCONF = "tests.companyos.urls_errors"


def error_section(response) -> str:
    """The error page's own section (the rest of the page carries a per-request CSRF token)."""
    match = re.search(r'<section class="error-page.*?</section>', response.content.decode(), re.S)
    assert match, response.content.decode()[:1500]
    return match.group(0)


def assert_console_frame(response, *, nav: bool = True):
    body = response.content.decode()
    assert 'href="/static/css/errors.css"' in body or "css/errors.css" in body
    assert 'class="topbar"' in body, "the console's top bar (the nav) is missing"
    assert "Go to the queue" in body and "data-history-back" in body
    if nav:
        assert 'aria-label="Sections"' in body


@pytest.fixture
def hidden_case(tenant_b):
    return CaseFactory(tenant=tenant_b, subject="Globex secret")


@pytest.mark.parametrize("debug", [False, True], ids=["production", "demo (DEBUG on)"])
def test_forbidden_and_missing_case_answer_the_same_styled_404(agent_client, hidden_case, settings, debug):
    settings.DEBUG = debug
    forbidden = agent_client.get(f"/cases/{hidden_case.key}/")
    missing = agent_client.get(f"/cases/CS-{hidden_case.pk + 1000}/")
    assert forbidden.status_code == missing.status_code == 404
    for response in (forbidden, missing):
        assert_console_frame(response)
        section = error_section(response)
        assert "Page not found" in section
        assert "Using the URLconf" not in response.content.decode()  # Django's technical 404
        assert "No such case" not in response.content.decode()  # the exception's text is never shown
        assert "Globex secret" not in response.content.decode()
    # Nothing but the address tells them apart.
    assert error_section(forbidden).replace(hidden_case.key, "X") == error_section(missing).replace(
        f"CS-{hidden_case.pk + 1000}", "X"
    )


@pytest.mark.parametrize("debug", [False, True], ids=["production", "demo (DEBUG on)"])
def test_an_address_nothing_matches_gets_the_styled_404(agent_client, settings, debug):
    settings.DEBUG = debug
    response = agent_client.get("/no/such/page/")
    assert response.status_code == 404
    assert_console_frame(response)
    assert "Page not found" in error_section(response)
    assert "Using the URLconf" not in response.content.decode()


def test_manager_on_sla_policies_gets_the_styled_403_with_the_reason(manager):
    response = login(manager).get("/sla/policies/")
    assert response.status_code == 403
    assert_console_frame(response)
    section = error_section(response)
    assert "have access to this page" in section
    assert "SLA configuration is for admins." in section
    # The nav is the manager's own: the SLA dashboard link is there, the admin's links are not.
    body = response.content.decode()
    assert 'href="/sla/"' in body and 'href="/admin/"' not in body


def test_permission_denied_in_any_view_uses_the_403_page(agent, settings):
    settings.ROOT_URLCONF = ERRORS_URLCONF
    response = login(agent).get("/test-errors/denied/")
    assert response.status_code == 403
    assert_console_frame(response)
    assert "have access to this page" in error_section(response)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "demo (DEBUG on)"])
def test_bad_request_gets_the_styled_400(agent, settings, debug):
    settings.ROOT_URLCONF = ERRORS_URLCONF
    settings.DEBUG = debug
    response = login(agent).get("/test-errors/bad/")
    assert response.status_code == 400
    assert_console_frame(response)
    assert "Bad request" in error_section(response)


def test_server_error_gets_the_styled_500(agent, settings):
    settings.ROOT_URLCONF = ERRORS_URLCONF
    client = login(agent)
    client.raise_request_exception = False
    response = client.get("/test-errors/boom/")
    assert response.status_code == 500
    assert_console_frame(response)
    section = error_section(response)
    assert "Something went wrong" in section
    assert "a bug in a view" not in response.content.decode()


@pytest.mark.parametrize("name", ["400.html", "500.html"])
def test_400_and_500_render_without_any_context(name):
    """Django renders them context-free (the request may be what is broken): nothing in them may
    need the request, the user or a context processor."""
    html = loader.get_template(name).render()
    assert 'class="topbar"' in html and 'href="/cases/"' in html and "Go to the queue" in html


def test_anonymous_404_outside_the_login_wall_still_renders(db):
    response = Client().get("/static/no-such-file.css")
    assert response.status_code == 404
    assert "Page not found" in error_section(response)


def test_admin_only_page_is_403_for_an_agent_too(agent_client):
    response = agent_client.get("/tenants/integrations/")
    assert response.status_code == 403
    assert "have access to this page" in error_section(response)


def test_sla_admin_403_for_every_non_admin_role():
    for role in ("agent", "senior agent", "engineer", "SRE"):
        response = login(UserFactory(role=role)).get("/sla/calendars/")
        assert response.status_code == 403
        assert "SLA configuration is for admins." in error_section(response)
