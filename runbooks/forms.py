from __future__ import annotations

import json

from django import forms

from cases.choices import Category
from cases.models import Team
from incidents.models import Incident
from incidents.selectors import parse_incident_key

from .choices import ArticleCategory, ArticleStatus, MacroKind, MacroVisibility
from .markdown import MAX_CHARS as MAX_MARKDOWN

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


def _list(text: str) -> list[str]:
    return [t.strip() for t in (text or "").replace("\n", ",").split(",") if t.strip()]


class ArticleForm(forms.Form):
    """The console's knowledge-base article editor (runbooks.services.article_save checks the rest)."""

    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs=W))
    category = forms.ChoiceField(choices=ArticleCategory.choices, widget=forms.Select(attrs=W))
    status = forms.ChoiceField(
        choices=ArticleStatus.choices,
        widget=forms.Select(attrs=W),
        help_text="a draft is seen by editors only and never offered in replies",
    )
    summary = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs=W))
    tags = forms.CharField(max_length=500, required=False, help_text="comma-separated", widget=forms.TextInput(attrs=W))
    body = forms.CharField(
        required=False,
        max_length=MAX_MARKDOWN,
        widget=forms.Textarea(attrs={**W, "rows": 16, "data-markdown": ""}),
        help_text="Markdown; raw HTML is shown as text",
    )
    note = forms.CharField(max_length=200, required=False, label="What changed", widget=forms.TextInput(attrs=W))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "category": d["category"],
            "status": d["status"],
            "summary": d["summary"],
            "tags": _list(d["tags"]),
            "body": d["body"],
            "note": d["note"],
        }


class KnownIssueEditForm(forms.Form):
    """The console's known-issue editor: the signature cases are matched by and the workaround."""

    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs=W))
    component = forms.CharField(
        max_length=100, required=False, widget=forms.TextInput(attrs={**W, "placeholder": "e.g. ingestion API"})
    )
    symptoms = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea(attrs={**W, "rows": 4}))
    message_patterns = forms.CharField(
        max_length=5_000,
        required=False,
        label="Message phrases",
        help_text="one per line, three characters or more; any found in a case's text matches",
        widget=forms.Textarea(attrs={**W, "rows": 3}),
    )
    error_codes = forms.CharField(
        max_length=1_000,
        required=False,
        help_text="comma-separated, e.g. X400-E1042",
        widget=forms.TextInput(attrs=W),
    )
    endpoint = forms.CharField(
        max_length=200, required=False, widget=forms.TextInput(attrs={**W, "placeholder": "/v1/ingest"})
    )
    affected_versions = forms.CharField(
        max_length=1_000, required=False, help_text="comma-separated", widget=forms.TextInput(attrs=W)
    )
    workaround = forms.CharField(max_length=10_000, required=False, widget=forms.Textarea(attrs={**W, "rows": 4}))
    engineering_task = forms.CharField(
        max_length=200, required=False, widget=forms.TextInput(attrs={**W, "placeholder": "ENG-4411 or a URL"})
    )
    incident = forms.CharField(
        max_length=20,
        required=False,
        label="Incident",
        widget=forms.TextInput(attrs={**W, "placeholder": "INC-204"}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_incident(self):
        key = (self.cleaned_data.get("incident") or "").strip().upper()
        if not key:
            return None
        pk = parse_incident_key(key)
        incident = Incident.objects.filter(pk=pk).first() if pk else None
        if incident is None:
            raise forms.ValidationError(f"There is no incident {key}.")
        return incident

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "component": d["component"],
            "symptoms": d["symptoms"],
            "message_patterns": d["message_patterns"],
            "error_codes": _list(d["error_codes"]),
            "endpoint": d["endpoint"],
            "affected_versions": _list(d["affected_versions"]),
            "workaround": d["workaround"],
            "engineering_task": d["engineering_task"],
            "incident": d["incident"],
        }

    @staticmethod
    def initial_for(issue) -> dict:
        return {
            "title": issue.title,
            "component": issue.component,
            "symptoms": issue.symptoms,
            "message_patterns": issue.message_patterns,
            "error_codes": ", ".join(issue.error_codes),
            "endpoint": issue.endpoint,
            "affected_versions": ", ".join(issue.affected_versions),
            "workaround": issue.workaround,
            "engineering_task": issue.engineering_task,
            "incident": issue.incident.key if issue.incident_id else "",
            "version": issue.version,
        }
