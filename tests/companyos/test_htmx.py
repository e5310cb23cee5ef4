"""companyos.htmx: which requests get a partial, and when a partial is embedded in another page."""

from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from companyos.htmx import htmx_partial, is_embedded


def request(**headers):
    r = RequestFactory().get("/cases/", headers=headers)
    r.htmx = HtmxDetails(r)
    return r


def test_a_plain_request_is_neither_a_partial_nor_embedded():
    assert not htmx_partial(request()) and not is_embedded(request(), "/cases/")


def test_a_partial_from_its_own_page_is_not_embedded():
    assert not is_embedded(request(HX_Request="true", HX_Current_URL="http://x/cases/?status=open"), "/cases/")
    assert not is_embedded(request(HX_Request="true"), "/cases/")  # no current URL: its own page


def test_a_partial_loaded_into_another_page_is_embedded():
    assert is_embedded(request(HX_Request="true", HX_Current_URL="http://x/tenants/acme/"), "/cases/")
