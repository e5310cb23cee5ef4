"""The Django admin is branded and lists cases by their key (issue 9, finding 24)."""

import pytest

from tests.conftest import login
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_admin_is_branded(admin_user):
    body = login(admin_user).get("/admin/").content.decode()
    assert "<title>Configuration and records | CompanyOS Support Console admin</title>" in body
    branding = body.split('id="site-name"', 1)[1].split("</div>", 1)[0]
    assert "CompanyOS Support Console admin" in branding
    assert "Django administration" not in body


def test_admin_case_list_shows_case_keys(admin_user, tenant_a):
    case = CaseFactory(tenant=tenant_a, subject="Webhooks missing")
    body = login(admin_user).get("/admin/cases/case/").content.decode()
    assert f">{case.key}</a>" in body  # the first column, linking to the case
    assert f">{case.pk}</a>" not in body
    assert str(case) == f"{case.key} Webhooks missing"
