"""The console's `thousands` filter gives humanize's `intcomma` output, faster (the managers'
dashboards render ~1,300 numbers)."""

from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template

from companyos.templatetags.console import thousands

VALUES = [
    0,
    7,
    999,
    1000,
    -1234,
    12345678,
    10**12,
    0.5,
    1234.5,
    -98765.25,
    1e-05,
    1.5e20,
    Decimal("1234.50"),
    "1234",
    "n/a",
    None,
    True,
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_thousands_is_intcomma(value):
    assert str(thousands(value)) == str(intcomma(value))


def test_in_a_template_it_renders_like_intcomma():
    context = Context({"n": 1234567, "f": 2345.5})
    fast = Template("{% load console %}{{ n|thousands }} {{ f|thousands }}").render(context)
    assert (
        fast == Template("{% load humanize %}{{ n|intcomma }} {{ f|intcomma }}").render(context) == "1,234,567 2,345.5"
    )
