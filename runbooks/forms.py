from __future__ import annotations

import json

from django import forms

from cases.choices import Category
from cases.models import Team

from .choices import MacroKind, MacroVisibility

W = {"class": "input"}


class RunbookForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs=W))
    summary = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs=W))
    category = forms.ChoiceField(choices=[("", "—"), *Category.choices], required=False, widget=forms.Select(attrs=W))
    tags = forms.CharField(max_length=500, required=False, help_text="comma-separated", widget=forms.TextInput(attrs=W))
    body = forms.CharField(
        required=False, max_length=100_000, widget=forms.Textarea(attrs={**W, "rows": 14}), help_text="Markdown"
    )
    steps = forms.CharField(
        required=False, max_length=20_000, widget=forms.Textarea(attrs={**W, "rows": 6}), help_text="one step per line"
    )
    internal = forms.BooleanField(required=False, initial=True, label="Internal (staff only)")
    reviewed = forms.BooleanField(required=False, label="Mark reviewed today")
    note = forms.CharField(max_length=200, required=False, label="What changed", widget=forms.TextInput(attrs=W))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "summary": d["summary"],
            "category": d["category"],
            "tags": [t.strip() for t in d["tags"].split(",") if t.strip()],
            "body": d["body"],
            "steps": d["steps"].splitlines(),
            "internal": d["internal"],
            "reviewed": d["reviewed"],
            "note": d["note"],
        }


class ApplyMacroForm(forms.Form):
    version = forms.IntegerField(min_value=1)
    known_issue = forms.IntegerField(required=False, min_value=1)
    suggested = forms.BooleanField(required=False)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="a Markdown file in the shape of docs/errors.md")
    dry_run = forms.BooleanField(required=False, label="Only report what would change")


class FixedForm(forms.Form):
    version = forms.CharField(max_length=40, widget=forms.TextInput(attrs={**W, "placeholder": "e.g. 2.14.1"}))


class MacroForm(forms.Form):
    name = forms.CharField(max_length=120, widget=forms.TextInput(attrs=W))
    description = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs=W))
    kind = forms.ChoiceField(choices=MacroKind.choices, widget=forms.Select(attrs=W))
    visibility = forms.ChoiceField(choices=MacroVisibility.choices, initial="personal", widget=forms.Select(attrs=W))
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, to_field_name="slug", widget=forms.Select(attrs=W)
    )
    body = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={**W, "rows": 8}))
    actions = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={**W, "rows": 4}),
        help_text='JSON, e.g. [{"type": "status", "to": "in_progress"}, {"type": "tags", "add": ["auth"]}]',
    )

    def clean_actions(self):
        text = (self.cleaned_data.get("actions") or "").strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"The actions are not valid JSON: {error}.") from None
        if not isinstance(value, list):
            raise forms.ValidationError("The actions are a JSON list.")
        return value
