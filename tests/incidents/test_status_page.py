"""The public status page and its Atom feed: only what was published appears; internal notes never
do; a tenant's own page is at an unguessable URL and shows only its resources and incidents."""

from django.test import Client

from incidents import services
from incidents.models import StatusService, TenantStatusPage
from tests.factories import ResourceFactory


def test_status_page_shows_published_updates_only(incident, agent, tenant_a):
    resource = ResourceFactory(tenant=tenant_a, external_id="api-eu")
    incident.resources.add(resource)
    service = StatusService.objects.create(name="Public API")
    service.resources.add(resource)
    StatusService.objects.create(name="Dashboard")
    services.incident_post_update(
        incident_id=incident.pk, actor=agent, body="We are investigating errors.", public=True
    )
    services.incident_post_update(incident_id=incident.pk, actor=agent, body="INTERNAL db-7 is on fire", public=False)
    anonymous = Client()
    response = anonymous.get("/status/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "We are investigating errors." in body and "INTERNAL" not in body
    assert "Major outage" in body and "Public API" in body and "Operational" in body  # the SEV1 on its resource
    feed = anonymous.get("/status/feed.atom")
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert "We are investigating errors." in feed.content.decode() and "INTERNAL" not in feed.content.decode()


def test_an_incident_with_nothing_published_is_not_on_the_page(agent, tenant_a):
    quiet = services.incident_declare(actor=agent, title="Quiet internal thing", severity="SEV3", tenants=[tenant_a])
    services.incident_post_update(incident_id=quiet.pk, actor=agent, body="note", public=False)
    assert "Quiet internal thing" not in Client().get("/status/").content.decode()


def test_tenant_status_page_by_token(incident, agent, sre, tenant_a, tenant_b):
    services.incident_post_update(incident_id=incident.pk, actor=agent, body="Acme update", public=True)
    other = services.incident_declare(actor=sre, title="Globex only", severity="SEV2", tenants=[tenant_b])
    services.incident_post_update(incident_id=other.pk, actor=sre, body="Globex update", public=True)
    page = TenantStatusPage.objects.create(tenant=tenant_a)
    body = Client().get(f"/status/t/{page.token}/").content.decode()
    assert "Acme update" in body and "Globex update" not in body
    assert Client().get("/status/t/not-a-token/").status_code == 404
    assert "Acme update" in Client().get(f"/status/t/{page.token}/feed.atom").content.decode()


def test_status_times_are_utc(incident, agent, settings):
    settings.TIME_ZONE = "Europe/Oslo"
    entry = services.incident_post_update(incident_id=incident.pk, actor=agent, body="Timed", public=True)
    body = Client().get("/status/").content.decode()
    assert f"{entry.created_at:%Y-%m-%d %H:%M} UTC" in body
