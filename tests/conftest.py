import pytest
from django.test import Client

from tests.factories import CaseFactory, TenantFactory, UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def tenant_a(db):
    return TenantFactory(name="Acme Corp", slug="acme")


@pytest.fixture
def tenant_b(db):
    return TenantFactory(name="Globex", slug="globex")


@pytest.fixture
def agent(tenant_a):
    """An agent granted tenant A only."""
    return UserFactory(username="kari", role="agent", tenants=[tenant_a])


@pytest.fixture
def other_agent(tenant_a):
    return UserFactory(username="ana", role="agent", tenants=[tenant_a])


@pytest.fixture
def manager(db):
    return UserFactory(username="mona", role="manager")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent):
    return login(agent)


@pytest.fixture
def case_a(tenant_a):
    return CaseFactory(tenant=tenant_a, subject="All API calls return 500 since 10:00 UTC")


@pytest.fixture
def case_b(tenant_b):
    return CaseFactory(tenant=tenant_b, subject="Globex webhook failures")
