"""The panel's contact form. The visitor types the subject and message; the page facts (error ids,
trace links, URL, browser, app version) arrive in hidden fields that the panel's script fills from
what the host page passed. Page facts are the host's, not the visitor's to fix: an entry that is not
usable (a trace link that is not a web link, one past the limits) is left out and counted, never a
reason to refuse the visitor's case."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

MAX_ERROR_IDS = 50  # the API's limits (cases.api.serializers)
MAX_ERROR_ID_LENGTH = 200
MAX_TRACE_LINKS = 20
MAX_URL_LENGTH = 2000

_web_link = URLValidator(schemes=["http", "https"])


def _lines(value: str) -> list[str]:
    seen: list[str] = []
    for line in (value or "").replace("\r", "\n").split("\n"):
        line = line.strip()
        if line and line not in seen:
            seen.append(line)
    return seen


def _is_web_link(value: str) -> bool:
    if len(value) > MAX_URL_LENGTH:
        return False
    try:
        _web_link(value)
    except ValidationError:
        return False
    return True


class ContactForm(forms.Form):
    subject = forms.CharField(
        max_length=200,
        error_messages={"required": "Say in a few words what went wrong."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. Export fails with an error"}),
    )
    description = forms.CharField(
        label="What happened?",
        max_length=10_000,
        error_messages={"required": "Describe what you did and what you saw."},
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    # The host page's facts (hidden; shown read-only in the panel as "Attached from this page").
    error_ids = forms.CharField(required=False, max_length=20_000, widget=forms.HiddenInput)
    trace_links = forms.CharField(required=False, max_length=50_000, widget=forms.HiddenInput)
    page_url = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    browser = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
    app_version = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)

    def page_facts(self) -> tuple[dict, dict]:
        """(evidence, channel data) for case_create, from the cleaned hidden fields."""
        data = self.cleaned_data
        ids = [i for i in _lines(data.get("error_ids", "")) if len(i) <= MAX_ERROR_ID_LENGTH]
        all_links = _lines(data.get("trace_links", ""))
        links = [link for link in all_links if _is_web_link(link)]
        left_out = (len(_lines(data.get("error_ids", ""))) - min(len(ids), MAX_ERROR_IDS)) + (
            len(all_links) - min(len(links), MAX_TRACE_LINKS)
        )
        evidence = {}
        if ids:
            evidence["error_ids"] = ids[:MAX_ERROR_IDS]
        if links:
            evidence["trace_links"] = links[:MAX_TRACE_LINKS]
        page_url = (data.get("page_url") or "").strip()
        channel_data = {
            "page_url": page_url if _is_web_link(page_url) else "",
            "browser": " ".join((data.get("browser") or "").split())[:300],
            "app_version": " ".join((data.get("app_version") or "").split())[:100],
        }
        channel_data = {k: v for k, v in channel_data.items() if v}
        if left_out:
            channel_data["left_out"] = left_out
        return evidence, channel_data
