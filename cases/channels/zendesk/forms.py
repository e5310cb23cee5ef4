"""The field-mapping form: one select per status and priority each way, a custom field id per
mappable field of ours, and whether tags sync."""

from __future__ import annotations

from django import forms

from ...choices import PRIORITY_SLUG_CHOICES, Status
from .mapping import CUSTOM_FIELD_CHOICES, ZENDESK_PRIORITIES, ZENDESK_STATUSES

SELECT = {"class": "input"}


def _theirs(values) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class MappingForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    sync_tags = forms.BooleanField(required=False, label="Sync tags both ways")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ours_status = [("", "— leave as is —"), *Status.choices]
        ours_priority = [("", "— leave as is —"), *PRIORITY_SLUG_CHOICES]
        for value, label in Status.choices:
            self.fields[f"status_out__{value}"] = forms.ChoiceField(
                label=label, choices=_theirs(ZENDESK_STATUSES), widget=forms.Select(attrs=SELECT)
            )
        for theirs in ZENDESK_STATUSES:
            self.fields[f"status_in__{theirs}"] = forms.ChoiceField(
                label=theirs, choices=ours_status, required=False, widget=forms.Select(attrs=SELECT)
            )
        for slug, label in PRIORITY_SLUG_CHOICES:
            self.fields[f"priority_out__{slug}"] = forms.ChoiceField(
                label=label, choices=_theirs(ZENDESK_PRIORITIES), widget=forms.Select(attrs=SELECT)
            )
        for theirs in ZENDESK_PRIORITIES:
            self.fields[f"priority_in__{theirs}"] = forms.ChoiceField(
                label=theirs, choices=ours_priority, required=False, widget=forms.Select(attrs=SELECT)
            )
        for ours, label in CUSTOM_FIELD_CHOICES.items():
            self.fields[f"custom__{ours}"] = forms.IntegerField(
                label=label,
                required=False,
                min_value=1,
                max_value=2**53,
                widget=forms.NumberInput(attrs={"class": "input mono", "placeholder": "custom field id"}),
            )

    @classmethod
    def initial_from(cls, row) -> dict:
        initial = {"version": row.version, "sync_tags": row.sync_tags}
        for prefix, table in (
            ("status_out", row.status_out),
            ("status_in", row.status_in),
            ("priority_out", row.priority_out),
            ("priority_in", row.priority_in),
        ):
            for key, value in table.items():
                initial[f"{prefix}__{key}"] = value
        for key, value in (row.custom_fields or {}).items():
            initial[f"custom__{key}"] = value
        return initial

    @property
    def groups(self) -> dict:
        """The bound fields by table: status_out, status_in, priority_out, priority_in, custom."""
        groups: dict = {}
        for name in self.fields:
            if "__" in name:
                groups.setdefault(name.split("__", 1)[0], []).append(self[name])
        return groups

    def mapping(self) -> dict:
        data = self.cleaned_data
        out = {"status_out": {}, "status_in": {}, "priority_out": {}, "priority_in": {}, "custom_fields": {}}
        for name, value in data.items():
            if "__" not in name:
                continue
            prefix, key = name.split("__", 1)
            if prefix == "custom":
                if value:
                    out["custom_fields"][key] = int(value)
            else:
                out[prefix][key] = value or ""
        out["sync_tags"] = bool(data.get("sync_tags"))
        return out


class ProblemFilterForm(forms.Form):
    """The sync-problems list's filter (in the URL)."""

    state = forms.ChoiceField(
        required=False,
        choices=[
            ("stuck", "Stuck or dead"),
            ("dead", "Dead"),
            ("pending", "All pending"),
            ("all", "All open and recent"),
        ],
        widget=forms.Select(attrs={"class": "input", "aria-label": "Show"}),
    )
