"""companyos.customer_text: the sandboxed engine for customer-facing text."""

from __future__ import annotations

import pytest

from companyos.customer_text import CustomerTextError, check, render, variables_in


def test_renders_the_variables_given():
    text = "Hi {{ customer_name }}, {{ case_key }} is {{ status }}.{% if incident %} See {{ incident }}.{% endif %}"
    assert render(text, {"customer_name": "Ada", "case_key": "CS-7", "status": "resolved", "incident": ""}) == (
        "Hi Ada, CS-7 is resolved."
    )
    assert variables_in(text) == {"customer_name", "case_key", "status", "incident"}


def test_an_unknown_variable_is_a_clear_error_not_an_empty_hole():
    with pytest.raises(CustomerTextError, match="Unknown variable custmer_name. Available: case_key"):
        render("Hi {{ custmer_name }}", {"case_key": "CS-1"})
    with pytest.raises(CustomerTextError, match="Unknown variable"):
        check("{{ secret }}", {"case_key"})


@pytest.mark.parametrize(
    "template",
    [
        "{{ name.__class__ }}",
        "{{ name.upper() }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{% for x in name.__class__.__subclasses__() %}{{ x }}{% endfor %}",
    ],
)
def test_no_attribute_access_or_calls(template):
    with pytest.raises(CustomerTextError):
        render(template, {"name": "Ada"})


def test_objects_are_refused_as_variables():
    class Secretive:
        secret = "s3cr3t"

    with pytest.raises(TypeError, match="plain value"):
        render("{{ thing }}", {"thing": Secretive()})


def test_syntax_errors_name_the_line():
    with pytest.raises(CustomerTextError, match="line 2"):
        render("ok\n{% if %}", {})


def test_dict_keys_are_allowed_and_missing_keys_are_errors():
    assert render("{{ sla.due }}", {"sla": {"due": "14:00"}}) == "14:00"
    with pytest.raises(CustomerTextError, match="Unknown value"):
        render("{{ sla.missing }}", {"sla": {"due": "14:00"}})


def test_output_is_plain_text_not_escaped():
    assert render("{{ x }}", {"x": "<b>&</b>"}) == "<b>&</b>"
