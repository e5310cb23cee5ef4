"""The demo incidents (issue 13 point 10): an active SEV1 with several tenants' cases linked and a
public update history, a resolved one with a postmortem, the status page's services; idempotent."""

import pytest

from demo.incidents import SEV1_TITLE, SEV2_TITLE, build_demo_incidents
from incidents.models import Incident, StatusService, TenantStatusPage
from tests.factories import CaseFactory, ResourceFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_incidents(role_groups):
    UserFactory(username="sre", role="SRE")
    UserFactory(username="agent", role="agent")
    for slug in ("globex", "acme", "initech"):
        tenant = TenantFactory(slug=slug, name=slug.title())
        ResourceFactory(tenant=tenant, external_id=f"{slug}-api-gateway")
        for _ in range(3):
            CaseFactory(tenant=tenant, status="in_progress")
    assert build_demo_incidents(out=lambda *_: None) is True
    sev1 = Incident.objects.get(title=SEV1_TITLE)
    assert sev1.active and sev1.severity == "SEV1"
    assert sev1.cases.values("tenant").distinct().count() == 3
    assert sev1.entries.filter(public=True).count() >= 3 and sev1.entries.filter(public=False).exists()
    sev2 = Incident.objects.get(title=SEV2_TITLE)
    assert sev2.status == "resolved" and "Root cause" in sev2.postmortem and sev2.actions.count() == 2
    assert StatusService.objects.filter(name="Public API", resources__isnull=False).exists()
    assert TenantStatusPage.objects.filter(tenant__slug="globex").exists()
    assert build_demo_incidents(out=lambda *_: None) is False  # idempotent
    assert Incident.objects.count() == 2
