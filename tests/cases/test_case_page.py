"""The case page's regions: what re-renders after an action, the SLA panel's order, the timeline
order preference, and glyphs the machine's fonts can draw."""

import pathlib
import shutil
import subprocess

import pytest

from cases import services
from cases.choices import Status
from cases.sla import selectors as sla_selectors
from companyos.models import Profile
from tests.conftest import login
from tests.factories import RequesterFactory, ResourceFactory

pytestmark = pytest.mark.django_db
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_a_refused_action_re_renders_header_and_sla_panel_out_of_band(case_a, agent, other_agent):
    client = login(agent)
    # Someone else takes the case and moves it on while this agent's page still says "New".
    services.case_assign(case_id=case_a.pk, actor=other_agent, owner=other_agent)
    services.case_transition(case_id=case_a.pk, to=Status.TRIAGE, actor=other_agent)
    response = client.post(
        f"/cases/{case_a.key}/transition/",
        {"to": Status.TRIAGE, "expected_status": Status.NEW},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="actions",
    )
    body = response.content.decode()
    assert response.status_code == 409 and body.lstrip().startswith('<section id="actions"')
    header = body[body.index('<header id="case-header"') :]
    header = header[: header.index("</header>")]
    assert 'hx-swap-oob="true"' in header and "Triage" in header and other_agent.username in header
    assert '<section id="sla-panel"' in body and '<section id="timeline"' in body
    assert '<section id="composer"' not in body  # a draft being typed is never replaced


def test_a_done_action_re_renders_the_same_regions_and_says_so(case_a, agent):
    response = login(agent).post(
        f"/cases/{case_a.key}/assign/", {"owner": "me", "expected_owner": ""}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section id="actions"')
    assert "data-owner" in body and 'id="messages" hx-swap-oob="beforeend"' in body


def test_an_action_refreshes_the_version_the_classification_and_resources_forms_send(case_a, agent):
    """After Take (or any action) the forms that carry the case's version come back with the new one,
    so saving the classification next is not refused as a stale edit."""
    ResourceFactory(tenant=case_a.tenant)  # the resources form shows when the tenant has some
    response = login(agent).post(
        f"/cases/{case_a.key}/assign/", {"owner": "me", "expected_owner": ""}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    case_a.refresh_from_db()
    for region in ("classification", "resources"):
        start = body.index(f'<section id="{region}"')
        section = body[start : body.index("</section>", start)]
        assert 'hx-swap-oob="true"' in section
        assert f'name="version" value="{case_a.version}"' in section


def test_sla_panel_running_first_and_past_windows_in_history(tenant_a, agent):
    case = services.case_create(
        actor=agent, tenant=tenant_a, requester=RequesterFactory(tenant=tenant_a), subject="Webhooks fail"
    )
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=agent)
    services.case_reply(case_id=case.pk, actor=agent, body="On it", public=True)  # first response met
    panel = sla_selectors.clock_panel(case)
    assert [r["clock"].kind for r in panel["history"]] == ["first_response"]
    assert "resolution" in {r["clock"].kind for r in panel["current"]}
    dues = [r["clock"].due_at for r in panel["current"]]
    assert dues == sorted(dues)
    page = login(agent).get(f"/cases/{case.key}/").content.decode()
    panel_html = page[page.index('<section id="sla-panel"') :]
    panel_html = panel_html[: panel_html.index("</section>")]
    assert "History (1)" in panel_html
    assert panel_html.index("Resolution") < panel_html.index("History (1)") < panel_html.index("First response")
    header = page[page.index('<header id="case-header"') :]
    header = header[: header.index("</header>")]
    assert 'class="sla sla-running"' in header  # the queue's SLA badge, next to status and priority


def test_timeline_order_is_a_preference(case_a, agent):
    client = login(agent)
    services.case_reply(case_id=case_a.pk, actor=agent, body="first words", public=False)
    services.case_reply(case_id=case_a.pk, actor=agent, body="last words", public=False)
    page = client.get(f"/cases/{case_a.key}/").content.decode()
    assert page.index("first words") < page.index("last words") < page.index('<section id="composer"')
    response = client.post(
        "/accounts/preferences/timeline-order/", {"timeline_order": "newest", "next": f"/cases/{case_a.key}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case_a.key}/"
    assert Profile.objects.get(user=agent).timeline_order == "newest"
    page = client.get(f"/cases/{case_a.key}/").content.decode()
    assert page.index('<section id="composer"') < page.index("last words") < page.index("first words")
    assert client.post("/accounts/preferences/timeline-order/", {"timeline_order": "sideways"}).status_code == 400
    away = client.post(
        "/accounts/preferences/timeline-order/", {"timeline_order": "oldest", "next": "https://evil.example/"}
    )
    assert away["Location"] == "/"


def _characters_in_the_ui() -> dict[str, str]:
    found = {}
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/**/*.js"), *ROOT.glob("static/**/*.css")]
    files += [ROOT / "cases/templatetags/case_tags.py", ROOT / "companyos/templatetags/console.py"]
    files += [ROOT / "cases/sla/clocks.py", ROOT / "cases/sla/sweep.py", ROOT / "cases/services.py"]
    for path in files:
        for ch in path.read_text(encoding="utf-8"):
            if ord(ch) > 0x7F and ch not in found:
                found[ch] = str(path.relative_to(ROOT))
    return found


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig is not installed")
def test_every_glyph_the_console_shows_is_in_an_installed_font():
    missing = {
        f"U+{ord(ch):04X} {ch} ({where})"
        for ch, where in _characters_in_the_ui().items()
        if not subprocess.run(["fc-list", f":charset={ord(ch):x}", "family"], capture_output=True, text=True).stdout
    }
    assert not missing, "no installed font draws these (use static/img/icons.svg): " + ", ".join(sorted(missing))
