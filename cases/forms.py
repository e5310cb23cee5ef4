from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from companyos.converters import row_id
from tenants.choices import Channel
from tenants.models import Requester, Resource
from tenants.selectors import tenant_visible_to

from .choices import (
    PRIORITY_SLUG_CHOICES,
    REQUIRED_TO_RESOLVE,
    SEVERITY_HELP,
    Category,
    Environment,
    IssueType,
    Priority,
    Severity,
    Status,
    WaitingFor,
)
from .closure import rules as closure_rules
from .models import SavedView, Team
from .selectors import parse_case_key

User = get_user_model()
W = {"class": "input"}


class PrioritySlugField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=PRIORITY_SLUG_CHOICES, coerce=lambda v: int(Priority.from_slug(v)), **kwargs)


NOT_SET = [("", "— not set —")]


def unset_choice_field(choices, **kwargs) -> forms.ChoiceField:
    """A classification select that may stay unset: blank ("— not set —") means nobody chose, so
    the case stores the default and lists the field in `Case.unclassified`."""
    return forms.ChoiceField(choices=NOT_SET + list(choices), required=False, widget=forms.Select(attrs=W), **kwargs)


class ResourceChoiceField(forms.ModelMultipleChoiceField):
    """Resources by id; a value that cannot be a row id is a form error, never a database error."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(queryset=Resource.objects.none(), required=False, **kwargs)

    def _check_values(self, value):
        if any(row_id(v) is None for v in value):
            raise forms.ValidationError("Choose resources from the list.", code="invalid_pk_value")
        return super()._check_values(value)


class CaseCreateForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=None, to_field_name="slug", widget=forms.Select(attrs=W))
    requester = forms.ModelChoiceField(queryset=Requester.objects.none(), widget=forms.Select(attrs=W))
    subject = forms.CharField(
        max_length=250, widget=forms.TextInput(attrs={**W, "placeholder": "What is happening, in one line"})
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={**W, "rows": 6}))
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.EMAIL, widget=forms.Select(attrs=W))
    priority = PrioritySlugField(initial="medium", widget=forms.Select(attrs=W))
    category = unset_choice_field(Category.choices)
    issue_type = unset_choice_field(IssueType.choices)
    environment = unset_choice_field(Environment.choices)
    affected_resources = ResourceChoiceField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenant_visible_to(user)
        tenant_slug = self.data.get("tenant") or self.initial.get("tenant")
        if tenant_slug:
            self.fields["requester"].queryset = Requester.objects.filter(
                tenant__in=tenant_visible_to(user), tenant__slug=tenant_slug
            )
            self.fields["affected_resources"].queryset = Resource.objects.filter(
                tenant__in=tenant_visible_to(user), tenant__slug=tenant_slug
            ).order_by("external_id")

    @property
    def classification(self) -> dict:
        """The classification to open the case with: the chosen values, and `unclassified` naming
        those left unset (stored as the model's defaults)."""
        data = self.cleaned_data
        defaults = {"category": Category.OTHER, "issue_type": IssueType.QUESTION, "environment": Environment.UNKNOWN}
        values = {name: data.get(name) or defaults[name] for name in REQUIRED_TO_RESOLVE}
        return {**values, "unclassified": [name for name in REQUIRED_TO_RESOLVE if not data.get(name)]}

    def clean(self):
        data = super().clean()
        tenant, requester = data.get("tenant"), data.get("requester")
        if tenant and requester and requester.tenant_id != tenant.pk:
            self.add_error("requester", f"{requester} is not a contact of {tenant}.")
        return data


class ReplyForm(forms.Form):
    visibility = forms.ChoiceField(
        choices=[("public", "Public reply"), ("internal", "Internal note")], initial="public", widget=forms.RadioSelect
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={**W, "rows": 5, "placeholder": "Write a reply…"}),
        error_messages={"required": "Write something before sending."},
    )
    attachment = forms.FileField(required=False)

    @property
    def public(self) -> bool:
        return self.cleaned_data.get("visibility", "public") == "public"


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    expected_status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(required=False, max_length=500)
    waiting_for = forms.ChoiceField(choices=WaitingFor.choices, required=False, widget=forms.RadioSelect)
    waiting_note = forms.CharField(required=False, max_length=200)
    # The resolution record (cases.closure.rules: required for critical and high, checked by the service).
    summary = forms.CharField(required=False, max_length=4000)
    root_cause = forms.CharField(required=False, max_length=4000)
    solution = forms.CharField(required=False, max_length=4000)
    verification = forms.CharField(required=False, max_length=4000)
    evidence = forms.CharField(required=False, max_length=4000)
    preventive_actions = forms.CharField(required=False, max_length=4000)
    # Closing: the feedback backlog the agent confirms (cases.closure.rules.FEEDBACK).
    feedback = forms.ChoiceField(choices=[("", "—"), *closure_rules.FEEDBACK.items()], required=False)

    RESOLUTION = ("summary", "root_cause", "solution", "verification", "evidence", "preventive_actions")

    def resolution(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.RESOLUTION}


class ClassificationForm(forms.Form):
    """Blank category / issue type / environment ("— not set —") leaves an unset field unset."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    priority = PrioritySlugField(widget=forms.Select(attrs=W))
    category = unset_choice_field(Category.choices)
    issue_type = unset_choice_field(IssueType.choices)
    environment = unset_choice_field(Environment.choices)
    severity = forms.ChoiceField(
        choices=[("", "— not assessed —"), *[(v, f"{label} — {SEVERITY_HELP[v]}") for v, label in Severity.choices]],
        required=False,
        label="Severity (impact)",
        widget=forms.Select(attrs=W),
    )
    reason = forms.CharField(
        required=False, max_length=500, widget=forms.TextInput(attrs={**W, "placeholder": "Why (optional)"})
    )


class ResourcesForm(forms.Form):
    """The case's affected resources, chosen from its tenant's."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    resources = ResourceChoiceField()

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = Resource.objects.filter(tenant=tenant).order_by("external_id")


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        to_field_name="username",
        widget=forms.Select(attrs=W),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, to_field_name="slug", widget=forms.Select(attrs=W)
    )
    expected_owner = forms.CharField(required=False)


class TagForm(forms.Form):
    add = forms.CharField(
        required=False, max_length=200, widget=forms.TextInput(attrs={**W, "placeholder": "add tags, comma separated"})
    )
    remove = forms.CharField(required=False, max_length=50)

    def names(self, field: str) -> list[str]:
        return [n.strip() for n in self.cleaned_data.get(field, "").split(",") if n.strip()]


class AttachmentForm(forms.Form):
    file = forms.FileField()


class BulkForm(forms.Form):
    ACTIONS = [("assign", "Assign"), ("status", "Change status"), ("tag", "Add tag"), ("merge", "Merge into…")]
    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.CharField(error_messages={"required": "Select at least one case."})
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        to_field_name="username",
        widget=forms.Select(attrs=W),
    )
    status = forms.ChoiceField(choices=Status.choices, required=False, widget=forms.Select(attrs=W))
    tag = forms.SlugField(required=False, max_length=50, widget=forms.TextInput(attrs=W))
    into = forms.CharField(required=False, max_length=40, widget=forms.TextInput(attrs=W))
    waiting_for = forms.ChoiceField(choices=NOT_SET + list(WaitingFor.choices), required=False)
    waiting_note = forms.CharField(required=False, max_length=200)
    # The value of a bulk action added by an app above cases (cases.bulk.register_bulk_action).
    extra = forms.CharField(required=False, max_length=100, widget=forms.TextInput(attrs=W))
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .bulk import bulk_extensions  # bulk imports services, which the forms module must not load first

        self.fields["action"].choices = self.ACTIONS + [(e.action, e.label) for e in bulk_extensions()]

    def clean_ids(self):
        parsed = {row_id(v.strip()) for v in self.cleaned_data["ids"].split(",") if v.strip()}
        if None in parsed:  # not a number, or past the largest row id
            raise forms.ValidationError("The selection is not a list of cases.")
        ids = sorted(parsed)
        if not ids:
            raise forms.ValidationError("Select at least one case.")
        if len(ids) > 500:
            raise forms.ValidationError("Bulk actions work on at most 500 cases at a time.")
        return ids

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", "Choose the status to move the cases to.")
        if action == "tag" and not data.get("tag"):
            self.add_error("tag", "Type the tag to add.")
        if action == "merge":
            key = (data.get("into") or "").strip().upper()
            key = f"{settings.CASE_KEY_PREFIX}-{key}" if key.isdigit() else key
            if parse_case_key(key) is None:
                self.add_error("into", f"Name the case to merge into (e.g. {settings.CASE_KEY_PREFIX}-1042).")
            else:
                data["into"] = key
        if action and action not in dict(self.ACTIONS):
            from .bulk import bulk_extension

            if not (data.get("extra") or "").strip():
                self.add_error("extra", f"Type the {bulk_extension(action).placeholder} to use.")
        return data

    @property
    def value(self):
        action = self.cleaned_data["action"]
        return {
            "assign": self.cleaned_data.get("owner"),
            "status": self.cleaned_data.get("status"),
            "tag": self.cleaned_data.get("tag"),
            "merge": self.cleaned_data.get("into"),
        }.get(action, (self.cleaned_data.get("extra") or "").strip())


class MergeForm(forms.Form):
    into = forms.CharField(
        max_length=40,
        error_messages={"required": "Name the case to merge into (e.g. CS-1042)."},
        widget=forms.TextInput(attrs={**W, "placeholder": "CS-1042", "autocomplete": "off"}),
    )
    note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={**W, "rows": 3, "placeholder": "Optional public note to the requester"}),
    )
    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False)

    def clean_into(self):
        key = self.cleaned_data["into"].strip().upper()
        if key.isdigit():
            key = f"{settings.CASE_KEY_PREFIX}-{key}"
        if parse_case_key(key) is None:
            raise forms.ValidationError(f"“{key[:40]}” is not a case key (e.g. {settings.CASE_KEY_PREFIX}-1042).")
        return key


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "query", "shared"]
        widgets = {"name": forms.TextInput(attrs={**W, "placeholder": "Name this view"}), "query": forms.HiddenInput}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        from companyos.roles import is_admin

        if not is_admin(user):
            del self.fields["shared"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if SavedView.objects.filter(owner=self.user, name__iexact=name).exists():
            raise forms.ValidationError("You already have a view with that name.")
        return name

    def clean_query(self):
        """The clean query (cases.filtersets.clean_query: no page, no empty values), its columns
        taken out into `columns` (empty when they are the defaults)."""
        from django.http import QueryDict

        from .filtersets import NO_COLUMNS, clean_query, columns_in

        q = QueryDict(clean_query(QueryDict(self.cleaned_data.get("query", ""))), mutable=True)
        # clean_query keeps `cols` only when it differs from the defaults; "none" is every one off.
        self.columns = (columns_in(q) or [NO_COLUMNS]) if "cols" in q else []
        q.pop("cols", None)
        return q.urlencode()
