"""The incident pages' forms: they clean and bound what the user typed; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from cases.selectors import parse_case_key
from companyos.customer_text import TEMPLATE_MAX_CHARS

from .choices import SEVERITY_HELP, TEXT_MAX, TITLE_MAX, ActionStatus, Role, Severity, Status
from .customer_templates import TEMPLATES

W = {"class": "input"}
User = get_user_model()
VERSION = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
SEVERITY_CHOICES = [(s, f"{s} — {SEVERITY_HELP[s]}") for s in Severity.values]


class UserField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=User.objects.filter(is_active=True).order_by("username"),
            to_field_name="username",
            required=False,
            widget=forms.Select(attrs=W),
            **kwargs,
        )

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


def share_people(*fields: UserField) -> None:
    """The incident page shows three people selects (commander, comms lead, action owner): read the
    people once for all of them (the same options each field's own queryset renders) instead of one
    query per select. Validation still goes through each field's queryset."""
    if not fields:
        return
    people = fields[0].queryset.only("username", "first_name", "last_name")
    choices = [("", fields[0].empty_label)] + [(u.get_username(), fields[0].label_from_instance(u)) for u in people]
    for field in fields:
        field.widget.choices = choices


class DeclareForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX, widget=forms.TextInput(attrs={**W, "autofocus": True}))
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, widget=forms.Select(attrs=W))
    summary = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 4}))
    comms_channel = forms.CharField(
        required=False, max_length=100, widget=forms.TextInput(attrs={**W, "placeholder": "#inc-…"})
    )
    tenant = forms.CharField(
        required=False, max_length=60, widget=forms.TextInput(attrs={**W, "placeholder": "tenant slug"})
    )


class FromCaseForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX, widget=forms.TextInput(attrs=W))
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, widget=forms.Select(attrs=W))
    summary = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 4}))


class StatusForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 2}))
    public = forms.BooleanField(required=False)
    version = VERSION


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=SEVERITY_CHOICES, widget=forms.Select(attrs=W))
    version = VERSION


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    user = UserField()
    version = VERSION


class UpdateForm(forms.Form):
    body = forms.CharField(max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 3}))
    public = forms.BooleanField(required=False)


class EditForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX, widget=forms.TextInput(attrs=W))
    summary = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 3}))
    comms_channel = forms.CharField(required=False, max_length=100, widget=forms.TextInput(attrs=W))
    current_mitigation = forms.CharField(
        required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 2})
    )
    version = VERSION


class PostmortemForm(forms.Form):
    postmortem = forms.CharField(required=False, max_length=TEXT_MAX * 5, widget=forms.Textarea(attrs={**W, "rows": 8}))
    version = VERSION


def _case_keys(value: str) -> list[int]:
    keys = [k for k in value.replace(",", " ").split() if k]
    if not keys:
        raise forms.ValidationError("Name at least one case (e.g. CS-1042).")
    if len(keys) > 500:
        raise forms.ValidationError("Link at most 500 cases at a time here.")
    ids = []
    for key in keys:
        pk = parse_case_key(key if not key.isdigit() else f"CS-{key}")
        if pk is None:
            raise forms.ValidationError(f"{key[:40]} is not a case key (e.g. CS-1042).")
        ids.append(pk)
    return ids


class LinkCasesForm(forms.Form):
    cases = forms.CharField(max_length=20_000, widget=forms.TextInput(attrs={**W, "placeholder": "CS-1042 CS-1043"}))

    def clean_cases(self):
        return _case_keys(self.cleaned_data["cases"])


class UnlinkForm(forms.Form):
    case = forms.CharField(max_length=40)
    reason = forms.CharField(required=False, max_length=500)

    def clean_case(self):
        return _case_keys(self.cleaned_data["case"])[0]


class ActionForm(forms.Form):
    title = forms.CharField(
        max_length=TITLE_MAX, widget=forms.TextInput(attrs={**W, "placeholder": "What will stop it happening again"})
    )
    owner = UserField()
    due_on = forms.DateField(required=False, widget=forms.DateInput(attrs={**W, "type": "date"}))
    case = forms.CharField(
        required=False, max_length=40, widget=forms.TextInput(attrs={**W, "placeholder": "CS-… (optional)"})
    )

    def clean_case(self):
        value = self.cleaned_data["case"].strip()
        return _case_keys(value)[0] if value else None


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)
    version = VERSION


class CustomerUpdateForm(forms.Form):
    template = forms.ChoiceField(choices=[(t.key, t.label) for t in TEMPLATES.values()], widget=forms.Select(attrs=W))
    text = forms.CharField(
        required=False, max_length=TEMPLATE_MAX_CHARS, widget=forms.Textarea(attrs={**W, "rows": 10})
    )
    message = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={**W, "rows": 3}))
    root_cause = forms.CharField(required=False, max_length=4000, widget=forms.TextInput(attrs=W))
    solution = forms.CharField(required=False, max_length=4000, widget=forms.TextInput(attrs=W))
    verification = forms.CharField(required=False, max_length=4000, widget=forms.TextInput(attrs=W))
    publish = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 2}))
    confirm = forms.BooleanField(required=False)

    def extra(self) -> dict:
        return {k: self.cleaned_data.get(k, "") for k in ("message", "root_cause", "solution", "verification")}

    def template_text(self) -> str:
        return self.cleaned_data.get("text") or TEMPLATES[self.cleaned_data["template"]].text


class ResolveForm(forms.Form):
    note = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={**W, "rows": 2}))
    resolve_cases = forms.BooleanField(required=False)
    root_cause = forms.CharField(required=False, max_length=4000, widget=forms.TextInput(attrs=W))
    solution = forms.CharField(required=False, max_length=4000, widget=forms.TextInput(attrs=W))
    verification = forms.CharField(required=False, max_length=4000, widget=forms.TextInput(attrs=W))
    confirm = forms.BooleanField(required=False)
    version = VERSION

    def extra(self) -> dict:
        return {k: self.cleaned_data.get(k, "") for k in ("root_cause", "solution", "verification")}
