"""The demo's telemetry integration shows when it was last used (issue 9, finding 24): the loader
records the use of the rows it stands in for, and repairs a demo database loaded before it did."""

import pytest

from demo.telemetry import DEMO_INTEGRATION, build_demo_telemetry
from tenants.models import SLI, Integration
from tests.factories import ResourceFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    tenant = TenantFactory(slug="acme", name="Acme Corp")
    ResourceFactory(tenant=tenant)
    return tenant


def test_demo_integration_that_sent_rows_has_a_last_used_time(tenant):
    assert build_demo_telemetry() is True
    integration = Integration.objects.get(name=DEMO_INTEGRATION)
    latest = SLI.objects.filter(integration=integration).latest("received_at").received_at
    assert SLI.objects.filter(integration=integration).exists()
    assert integration.last_used_at is not None and integration.last_used_at >= latest


def test_rerunning_the_loader_repairs_an_older_demo_database(tenant):
    build_demo_telemetry()
    Integration.objects.filter(name=DEMO_INTEGRATION).update(last_used_at=None)  # as the old loader left it
    assert build_demo_telemetry() is False  # idempotent: no new rows…
    integration = Integration.objects.get(name=DEMO_INTEGRATION)
    assert integration.last_used_at == SLI.objects.filter(integration=integration).latest("received_at").received_at
