"""The form renderer: Django's own (`DjangoTemplates`), with its most used widget templates written
in Python.

A `<select>` rendered through the widget templates costs a template include per option and per
attribute (`attrs.html`): the case page's classification card alone spent ~7 ms in them (issue 10).
The functions below make exactly the markup the templates of Django 5.2 make — same attributes in
the same order, the same escaping (`conditional_escape`, so safe strings stay as they are), the same
whitespace — and any other template (a form's own layout, a widget with a template of its own) is
rendered by the templates as before. `tests/companyos/test_forms_renderer.py` renders every widget
both ways and compares them."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

_W = "django/forms/widgets/"


def _attrs(attrs: dict) -> str:
    # attrs.html: ` name="value"`, a bare ` name` for True, nothing for False (None is rendered "None").
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(out)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _option(option: dict) -> str:
    return (
        f'<option value="{conditional_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>"
    )


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option.get("template_name") != _W + "select_option.html":
                return ""  # an option of its own kind: the templates render the whole select
            parts.append(f"\n  {_option(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{conditional_escape(value) if value else ''}</textarea>"
    )


def _input_option(widget: dict) -> str:
    # input_option.html (a radio's or a checkbox's option): the input, in its label when wrapped.
    html = _input(widget)
    if not widget.get("wrap_label"):
        return html
    for_id = widget["attrs"].get("id")
    label_for = f' for="{conditional_escape(for_id)}"' if for_id else ""
    return f"<label{label_for}>{html}\n {conditional_escape(widget['label'])}</label>"  # input.html's newline


_INPUTS = ("text", "hidden", "number", "email", "url", "password", "search", "tel", "date", "time")
_INPUTS += ("datetime", "checkbox", "color")
FAST = {f"{_W}{name}.html": _input for name in _INPUTS} | {
    _W + "input.html": _input,
    _W + "select.html": _select,
    _W + "textarea.html": _textarea,
    _W + "radio_option.html": _input_option,
    _W + "checkbox_option.html": _input_option,
    _W + "input_option.html": _input_option,
}


class ConsoleFormRenderer(DjangoTemplates):
    """`FORM_RENDERER`: the widgets above in Python, every other template through Django's."""

    def render(self, template_name, context, request=None):
        fast = FAST.get(template_name)
        if fast is not None and "widget" in context:
            html = fast(context["widget"])
            if html:
                return html.strip()
        return super().render(template_name, context, request=request)
