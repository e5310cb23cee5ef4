import importlib

import pytest
from django.test import Client

from tests.factories import CaseFactory, TenantFactory, UserFactory


def pytest_configure(config):
    """Users made by the factories get a fast password hash: PBKDF2's 1,000,000 rounds are the point
    in production and cost seconds per user here (the suite makes thousands). Sign-in, lockout and
    the password validators behave the same with any hasher."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The tests run as the application's role (DATABASE_URL); the test databases are created, migrated
    and dropped by the owner role (MIGRATE_DATABASE_URL), and the flush after a transactional test runs
    as the owner too (companyos' `flush` command). Without MIGRATE_DATABASE_URL one role does all."""
    from django.test import utils

    from companyos.db import as_owner

    setup, teardown = utils.setup_databases, utils.teardown_databases

    def setup_as_owner(*args, **kwargs):
        with as_owner():
            return setup(*args, **kwargs)

    def teardown_as_owner(*args, **kwargs):
        with as_owner():
            return teardown(*args, **kwargs)

    utils.setup_databases, utils.teardown_databases = setup_as_owner, teardown_as_owner


@pytest.fixture(scope="session", autouse=True)
def _celery_in_process():
    """Tasks queued with .delay() run in the test process (tests/companyos/test_celery.py drives a
    real worker over Redis with send_task, which this does not affect)."""
    from companyos.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _data_migrations(request):
    """Transactional tests (live server, threads) end with a TRUNCATE that also empties the rows the
    data migrations made (role groups, built-in saved views); put them back when a test needs the DB."""
    if not any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    ) and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
    from django.apps import apps
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name="agent").exists():
        roles = importlib.import_module("companyos.migrations.0002_roles")
        views = importlib.import_module("cases.migrations.0003_search_and_builtin_views")
        roles.create_roles(apps, None)
        importlib.import_module("companyos.migrations.0050_roles_admin_restrictions").restrict(apps, None)
        from cases.models import SavedView

        for name, query, position in views.BUILTIN_VIEWS:
            SavedView.objects.update_or_create(
                name=name, builtin=True, owner=None, defaults={"query": query, "position": position}
            )
    from cases.models import SLAPolicy

    if not SLAPolicy.objects.exists():
        importlib.import_module("cases.migrations.0006_default_sla_policies").forward(apps, None)
    from incidents.models import SeverityMapping

    if not SeverityMapping.objects.exists():
        importlib.import_module("incidents.migrations.0101_default_severity_mapping").forwards(apps, None)
    from runbooks.models import Macro

    if not Macro.objects.filter(builtin__isnull=False).exists():
        from django.db import connection

        importlib.import_module("runbooks.migrations.0101_builtins").forward(apps, None)
        editor = type("Editor", (), {"connection": connection})()
        importlib.import_module("runbooks.migrations.0103_runbook_search_head").fill(apps, editor)


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    )


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


@pytest.fixture
def role_groups(db):
    """The role groups made by companyos migration 0002. A `transaction=True` test runs after an
    earlier one's flush has emptied every table, data-migration rows included: recreate them (by
    name; the permission sets only matter to the admin)."""
    from django.contrib.auth.models import Group

    from companyos.roles import ALL_ROLES

    return {name: Group.objects.get_or_create(name=name)[0] for name in ALL_ROLES}
