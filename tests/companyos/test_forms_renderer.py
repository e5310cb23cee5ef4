"""The console's form renderer makes, in Python, exactly what Django's widget templates make."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from companyos.forms_renderer import ConsoleFormRenderer

CHOICES = [("", "— any —"), ("a", "Alpha & <b>"), (1, "One"), ('q"uote', mark_safe("<i>safe</i>"))]
GROUPED = [("", "—"), ("Team <1>", [("ann", "Ann"), ("bob", "Bob")]), ("Other", [("cy", "Cy")])]


class Everything(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"class": "input", "placeholder": 'Say "hi" <now>'}))
    blank = forms.CharField(required=False)
    hidden = forms.IntegerField(widget=forms.HiddenInput)
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 0, "step": "any"}))
    email = forms.EmailField()
    url = forms.URLField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    when = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    search = forms.CharField(widget=forms.SearchInput(attrs={"autofocus": True, "disabled": False}))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "data-x": "a&b"}))
    empty_body = forms.CharField(required=False, widget=forms.Textarea)
    flag = forms.BooleanField(required=False)
    choice = forms.ChoiceField(choices=CHOICES, widget=forms.Select(attrs={"class": "input", "data-searchable": True}))
    grouped = forms.ChoiceField(choices=GROUPED, required=False)
    many = forms.MultipleChoiceField(choices=CHOICES[1:], required=False)
    radio = forms.ChoiceField(choices=CHOICES[1:], widget=forms.RadioSelect, required=False)
    boxes = forms.MultipleChoiceField(choices=CHOICES[1:], widget=forms.CheckboxSelectMultiple, required=False)


DATA = [
    {},
    {
        "text": "<script>alert(1)</script>",
        "hidden": "7",
        "number": "3",
        "email": "a@b.example",
        "password": "p&ss",
        "date": "2026-12-02",
        "when": "2026-12-02T10:00",
        "search": "x",
        "body": "line 1\n<b>line 2</b>",
        "flag": "on",
        "choice": "a",
        "grouped": "bob",
        "many": ["a", "1"],
        "radio": "1",
        "boxes": ['q"uote'],
    },
    {"choice": 'q"uote', "many": ["nope"], "flag": ""},
]


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("bound", [True, False])
def test_every_widget_renders_the_same_markup_as_djangos_templates(data, bound):
    fast, slow = ConsoleFormRenderer(), DjangoTemplates()
    initial = {"text": "start", "choice": 1, "number": 2, "flag": True, "grouped": "cy", "many": ["a"]}
    for name in Everything.base_fields:
        a = Everything(data if bound else None, initial=initial, renderer=fast)[name]
        b = Everything(data if bound else None, initial=initial, renderer=slow)[name]
        assert str(a) == str(b), name
        assert a.as_widget() == b.as_widget(), name
        # One option of a radio or checkbox group, as the case page's composer draws them.
        for option_a, option_b in zip(a.subwidgets, b.subwidgets, strict=True):
            assert option_a.tag() == option_b.tag(), name
            assert str(option_a) == str(option_b), name


def test_the_renderer_is_the_consoles_and_is_used_by_its_forms(settings):
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "companyos.forms_renderer.ConsoleFormRenderer"
    assert isinstance(get_default_renderer(), ConsoleFormRenderer)
    html = str(Everything(renderer=ConsoleFormRenderer())["choice"])
    assert html.startswith('<select name="choice" class="input" data-searchable required id="id_choice">')
    assert "Alpha &amp; &lt;b&gt;" in html and "<i>safe</i>" in html


def test_a_whole_form_layout_still_goes_through_the_templates():
    html = Everything(renderer=ConsoleFormRenderer()).as_div()
    assert html == Everything(renderer=DjangoTemplates()).as_div()
    assert '<label for="id_text">Text:</label>' in html
