from __future__ import annotations

from django import forms

from cases.choices import PRIORITY_SLUG_CHOICES, Category, Environment, IssueType, Status, WaitingFor
from cases.models import Team
from incidents.models import Incident
from incidents.selectors import parse_incident_key

from . import actions
from .choices import ArticleCategory, ArticleStatus, MacroKind, MacroVisibility
from .markdown import MAX_CHARS as MAX_MARKDOWN
from .models import Article, Runbook
from .variables import VARIABLES

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
    """A macro's text and settings; its actions are the ActionFormSet's rows (one per action)."""

    name = forms.CharField(max_length=120, widget=forms.TextInput(attrs=W))
    description = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs=W))
    kind = forms.ChoiceField(choices=MacroKind.choices, widget=forms.Select(attrs=W))
    visibility = forms.ChoiceField(
        choices=MacroVisibility.choices,
        initial="personal",
        widget=forms.Select(attrs=W),
        help_text="team and shared macros: admins and senior agents",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, to_field_name="slug", widget=forms.Select(attrs=W)
    )
    body = forms.CharField(
        required=False,
        max_length=20_000,
        label="Text",
        help_text="the reply or note, with variables like {{ customer_name }}",
        widget=forms.Textarea(attrs={**W, "rows": 8}),
    )
    runbook = forms.ModelChoiceField(
        queryset=Runbook.objects.only("id", "slug", "title").order_by("title"),
        required=False,
        to_field_name="slug",
        help_text="{{ runbook_link }}, and “Link a runbook” without a choice",
        widget=forms.Select(attrs=W),
    )
    article = forms.ModelChoiceField(
        queryset=Article.objects.only("id", "slug", "title").order_by("title"),
        required=False,
        to_field_name="slug",
        label="Knowledge-base article",
        help_text="{{ kb_link }}",
        widget=forms.Select(attrs=W),
    )
    keywords = forms.CharField(
        max_length=1_000,
        required=False,
        help_text="comma-separated words that suggest it when found in a case",
        widget=forms.TextInput(attrs=W),
    )
    error_codes = forms.CharField(
        max_length=1_000,
        required=False,
        help_text="comma-separated codes that suggest it",
        widget=forms.TextInput(attrs=W),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "description": d["description"],
            "kind": d["kind"],
            "visibility": d["visibility"],
            "team": d["team"],
            "body": d["body"],
            "runbook": d["runbook"],
            "article": d["article"],
            "keywords": _list(d["keywords"]),
            "error_codes": _list(d["error_codes"]),
        }

    @staticmethod
    def initial_for(macro) -> dict:
        return {
            "name": macro.name,
            "description": macro.description,
            "kind": macro.kind,
            "visibility": macro.visibility,
            "team": macro.team.slug if macro.team_id else "",
            "body": macro.body,
            "runbook": macro.runbook.slug if macro.runbook_id else "",
            "article": macro.article.slug if macro.article_id else "",
            "keywords": ", ".join(macro.keywords),
            "error_codes": ", ".join(macro.error_codes),
            "version": macro.version,
        }


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


# --- the macro editor's action builder ---------------------------------------------------------------

ACTION_LABELS = {
    "status": "Set status",
    "priority": "Set priority",
    "category": "Set category",
    "issue_type": "Set issue type",
    "environment": "Set environment",
    "tags": "Add / remove tags",
    "assign": "Assign owner / team",
    "note": "Add an internal note",
    "link_runbook": "Link a runbook",
    "link_known_issue": "Link the known issue",
    "request_info": "Request information",
}
# Which of a row's fields each action type uses (the editor shows those only; runbooks.actions
# says what each means).
ACTION_FIELDS = {
    "status": ["to", "waiting_for"],
    "priority": ["priority"],
    "category": ["category"],
    "issue_type": ["issue_type"],
    "environment": ["environment"],
    "tags": ["tags_add", "tags_remove"],
    "assign": ["owner", "team"],
    "note": ["text"],
    "link_runbook": ["runbook"],
    "link_known_issue": [],
    "request_info": ["items", "waiting_for"],
}
FIELD_TYPES = {
    name: [kind for kind, names in ACTION_FIELDS.items() if name in names]
    for name in dict.fromkeys(n for names in ACTION_FIELDS.values() for n in names)
}
NOBODY = "nobody"


def _choices(pairs, blank="—"):
    return [("", blank), *pairs]


class ActionRowForm(forms.Form):
    """One action of a macro: a type and the fields that type needs. `clean` builds the action's
    dict (runbooks.actions' shape) and checks it with actions.validate, so a row's error is shown
    on its row; a row without a type is an empty row and is skipped."""

    type = forms.ChoiceField(
        choices=_choices(ACTION_LABELS.items(), "— choose an action —"),
        required=False,
        label="Action",
        widget=forms.Select(attrs={**W, "data-action-type": ""}),
    )
    to = forms.ChoiceField(
        choices=_choices(Status.choices), required=False, label="Status", widget=forms.Select(attrs=W)
    )
    waiting_for = forms.ChoiceField(
        choices=_choices(WaitingFor.choices), required=False, label="Waiting for", widget=forms.Select(attrs=W)
    )
    priority = forms.ChoiceField(
        choices=_choices(PRIORITY_SLUG_CHOICES), required=False, label="Priority", widget=forms.Select(attrs=W)
    )
    category = forms.ChoiceField(
        choices=_choices(Category.choices), required=False, label="Category", widget=forms.Select(attrs=W)
    )
    issue_type = forms.ChoiceField(
        choices=_choices(IssueType.choices), required=False, label="Issue type", widget=forms.Select(attrs=W)
    )
    environment = forms.ChoiceField(
        choices=_choices(Environment.choices), required=False, label="Environment", widget=forms.Select(attrs=W)
    )
    tags_add = forms.CharField(
        max_length=500,
        required=False,
        label="Add tags",
        widget=forms.TextInput(attrs={**W, "placeholder": "auth, sso"}),
    )
    tags_remove = forms.CharField(max_length=500, required=False, label="Remove tags", widget=forms.TextInput(attrs=W))
    owner = forms.CharField(
        max_length=150,
        required=False,
        label="Owner",
        help_text=f"“me”, a username, or “{NOBODY}” to unassign",
        widget=forms.TextInput(attrs={**W, "placeholder": "me"}),
    )
    team = forms.ChoiceField(choices=(), required=False, label="Team", widget=forms.Select(attrs=W))
    text = forms.CharField(
        max_length=5_000,
        required=False,
        label="Note",
        help_text="may use the variables",
        widget=forms.Textarea(attrs={**W, "rows": 2}),
    )
    runbook = forms.ChoiceField(choices=(), required=False, label="Runbook", widget=forms.Select(attrs=W))
    items = forms.CharField(
        max_length=5_000,
        required=False,
        label="Information to request",
        help_text="one item per line; appended to the reply as a numbered list",
        widget=forms.Textarea(attrs={**W, "rows": 3}),
    )

    def __init__(self, *args, options: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        options = options or {}
        self.fields["team"].choices = [("", "—"), *options.get("team", [])]
        self.fields["runbook"].choices = [("", "the macro's runbook"), *options.get("runbook", [])]

    def action_fields(self) -> list[dict]:
        """The row's fields after the type, each with the types that use it and whether the row's
        current type does (the others are rendered `hidden`; knowledge.js toggles them)."""
        current = self["type"].value() or ""
        return [
            {"field": self[name], "types": " ".join(types), "shown": current in types}
            for name, types in FIELD_TYPES.items()
        ]

    def clean(self):
        d = super().clean()
        kind = d.get("type") or ""
        self.action = None
        if not kind or self.errors:
            return d
        action = {"type": kind}
        if kind == "status":
            action["to"] = d.get("to") or ""
            if d.get("waiting_for"):
                action["waiting_for"] = d["waiting_for"]
        elif kind in actions.CLASSIFY:
            action["value"] = d.get(kind) or ""
        elif kind == "tags":
            action["add"] = [t.strip() for t in d.get("tags_add", "").split(",") if t.strip()]
            action["remove"] = [t.strip() for t in d.get("tags_remove", "").split(",") if t.strip()]
        elif kind == "assign":
            owner = (d.get("owner") or "").strip()
            if owner:
                action["owner"] = "" if owner.lower() == NOBODY else owner
            if d.get("team"):
                action["team"] = d["team"]
        elif kind == "note":
            action["text"] = d.get("text", "")
        elif kind == "link_runbook":
            if d.get("runbook"):
                action["slug"] = d["runbook"]
        elif kind == "request_info":
            action["items"] = [line.strip()[:300] for line in d.get("items", "").splitlines() if line.strip()]
            action["waiting_for"] = d.get("waiting_for") or WaitingFor.LOGS
        try:
            actions.validate([action], variables=VARIABLES)
        except actions.ActionError as error:
            raise forms.ValidationError(str(error).removeprefix("Action 1: ")) from None
        self.action = action
        return d

    @staticmethod
    def initial_for(action: dict) -> dict:
        """A stored action as the row's initial values."""
        kind = action.get("type", "")
        row = {"type": kind}
        if kind == "status":
            row |= {"to": action.get("to", ""), "waiting_for": action.get("waiting_for", "")}
        elif kind in actions.CLASSIFY:
            row[kind] = action.get("value", "")
        elif kind == "tags":
            row |= {"tags_add": ", ".join(action.get("add", [])), "tags_remove": ", ".join(action.get("remove", []))}
        elif kind == "assign":
            if "owner" in action:
                row["owner"] = action["owner"] or NOBODY
            row["team"] = action.get("team", "")
        elif kind == "note":
            row["text"] = action.get("text", "")
        elif kind == "link_runbook":
            row["runbook"] = action.get("slug", "")
        elif kind == "request_info":
            row |= {"items": "\n".join(action.get("items", [])), "waiting_for": action.get("waiting_for", "")}
        return row


class BaseActionFormSet(forms.BaseFormSet):
    """The rows share one read of the teams and runbooks to choose from (not two queries a row)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._options = None

    def get_form_kwargs(self, index):
        if self._options is None:
            self._options = {
                "team": list(Team.objects.order_by("name").values_list("slug", "name")),
                "runbook": list(Runbook.objects.order_by("title").values_list("slug", "title")[:1000]),
            }
        return {**super().get_form_kwargs(index), "options": self._options}

    def ordered_rows(self) -> list:
        """The rows as the editor shows them: by their Position as posted (a re-rendered form keeps
        the order the author gave), rows without one last."""

        def position(form):
            raw = form["ORDER"].value() if self.is_bound else form.initial.get("ORDER")
            try:
                return (0, int(raw), form.prefix)
            except (TypeError, ValueError):
                return (1, 0, form.prefix)

        return sorted(self.forms, key=position)

    def actions(self) -> list[dict]:
        """The rows' actions in their order (ORDER), without the removed (DELETE) and the empty rows."""
        rows = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        rows.sort(key=lambda f: (f.cleaned_data.get("ORDER") is None, f.cleaned_data.get("ORDER") or 0))
        return [f.action for f in rows if getattr(f, "action", None)]


ActionFormSet = forms.formset_factory(
    ActionRowForm,
    formset=BaseActionFormSet,
    extra=0,
    can_order=True,
    can_delete=True,
    max_num=actions.MAX_ACTIONS,
    validate_max=True,
    absolute_max=50,
)
