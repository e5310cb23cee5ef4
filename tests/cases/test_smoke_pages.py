import pytest

from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_queue_and_case_page_render(agent, case_a, case_b):
    client = login(agent)
    r = client.get("/cases/")
    assert r.status_code == 200
    body = r.content.decode()
    assert case_a.key in body and case_b.key not in body
    r = client.get(f"/cases/{case_a.key}/")
    assert r.status_code == 200, r.content.decode()[:2000]
    assert case_a.subject in r.content.decode()
