"""The case's Audit tab in words, for a compliance reviewer: each django-auditlog entry of the case,
its timeline entries and its attachments (`cases.selectors.case_audit_entries`) becomes a row saying
who did what, with field labels, choice labels and related objects by name ("changed priority from
P3 Medium to P1 Critical", "viewed the case", "denied: not visible"). Rows of one request share its
correlation id (auditlog's `cid`) and are shown as one group.

The related names are looked up once per page (one query per related model), never per entry.
A value recorded only as a hash ("sha256:…", or {"hashed": true}: personal data the trail keeps no
clear copy of) reads "changed <field> (value not recorded)".
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from companyos import timefmt
from companyos.audit import is_denied

from .choices import Priority
from .models import Attachment, Case, Interaction

User = get_user_model()

# Kept up to date by every write: the change that matters is on the same entry.
QUIET_FIELDS = {"updated_at", "status_changed_at", "version", "id"}
NONE = {"None", "", None}


@dataclass
class AuditRow:
    entry: LogEntry
    kind: str  # "change" | "view" | "denial"
    actor: str
    verb: str  # the headline: "changed the case", "viewed the case", "denied: not visible"
    lines: list[str] = field(default_factory=list)  # one sentence per changed field
    cid: str = ""

    @property
    def when(self) -> datetime:
        return self.entry.timestamp

    @property
    def raw(self) -> str:
        """The entry as stored, for the <details> one click away."""
        return json.dumps(
            {
                "id": self.entry.pk,
                "action": self.entry.get_action_display(),
                "object": f"{self.entry.content_type.app_label}.{self.entry.content_type.model} {self.entry.object_pk}",
                "actor_id": self.entry.actor_id,
                "changes": self.entry.changes,
                "additional_data": self.entry.additional_data,
                "cid": self.entry.cid,
                "remote_addr": self.entry.remote_addr,
                "timestamp": self.entry.timestamp.isoformat(),
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )

    @property
    def text(self) -> str:
        return "; ".join([self.verb] + self.lines)


@dataclass
class AuditGroup:
    """The entries of one request (one correlation id), newest first."""

    cid: str
    rows: list[AuditRow]

    @property
    def first(self) -> AuditRow:
        return self.rows[0]


def entry_kind(entry: LogEntry) -> str:
    if entry.action == LogEntry.Action.ACCESS:
        return "denial" if is_denied(entry) else "view"
    return "change"


def describe(entries, case: Case, *, tz=None) -> list[AuditRow]:
    """`entries` (actor and content type loaded) as rows in words; times in `tz` (the viewer's)."""
    entries = list(entries)
    tz = tz or timezone.get_current_timezone()
    names = _related_names(entries)
    return [_row(entry, case, names, tz) for entry in entries]


def group(rows: list[AuditRow]) -> list[AuditGroup]:
    """Consecutive rows of one request as one group (an entry with no cid is a group of its own)."""
    groups: list[AuditGroup] = []
    for row in rows:
        if groups and row.cid and groups[-1].cid == row.cid:
            groups[-1].rows.append(row)
        else:
            groups.append(AuditGroup(cid=row.cid, rows=[row]))
    return groups


def actor_name(user) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()


# --- one entry ---------------------------------------------------------------------------------------


def _row(entry: LogEntry, case: Case, names: dict, tz) -> AuditRow:
    model = entry.content_type.model_class()
    kind = entry_kind(entry)
    row = AuditRow(entry=entry, kind=kind, actor=actor_name(entry.actor), verb="", cid=entry.cid or "")
    data = entry.additional_data or {}
    what = _object_words(model, entry, names)
    if kind == "denial":
        row.verb = f"denied: {data.get('reason') or 'not visible'}"
        if data.get("path"):
            row.lines.append(f"tried {data['path']}")
        return row
    if kind == "view":
        view = data.get("view", "")
        if model is Attachment and view == "download":
            row.verb = f"downloaded {what}"
        else:
            row.verb = f"viewed {what}" + (f" ({view})" if view and view != "case page" else "")
            if data.get("kind") and data.get("kind") != "all":
                row.lines.append(f"filter: {data['kind']}")
        return row
    changes = entry.changes_dict or {}
    if entry.action == LogEntry.Action.CREATE:
        row.verb = _created_words(model, changes, what)
        return row
    if entry.action == LogEntry.Action.DELETE:
        row.verb = f"deleted {what}"
        return row
    row.verb = f"changed {what}"
    for name, change in changes.items():
        if name in QUIET_FIELDS:
            continue
        line = _change_words(model, name, change, names, tz)
        if line:
            row.lines.append(line)
    return row


def _object_words(model, entry: LogEntry, names: dict) -> str:
    if model is Case:
        return "the case"
    if model is Attachment:
        return f"attachment {entry.object_repr}"
    if model is Interaction:
        return "a timeline entry"
    return str(model._meta.verbose_name) if model else entry.object_repr


def _created_words(model, changes: dict, what: str) -> str:
    new = {
        name: (value[1] if isinstance(value, (list, tuple)) and len(value) == 2 else value)
        for name, value in changes.items()
    }
    if model is Interaction:
        kind = new.get("kind")
        try:
            label = str(Interaction.Kind(kind).label).lower()
        except ValueError:
            label = "timeline entry"
        return f"added a timeline entry: {label}"
    if model is Attachment:
        return f"attached {new.get('filename') or what}"
    if model is Case:
        return "opened the case"
    return f"created {what}"


def _change_words(model, name: str, change, names: dict, tz) -> str:
    if isinstance(change, dict) and change.get("type") == "m2m":
        objects = ", ".join(str(o) for o in change.get("objects", []))
        label = _label(model, name, singular=True)
        verb = "added" if change.get("operation") == "add" else "removed"
        return f"{verb} {label} {objects}".strip()
    if not isinstance(change, (list, tuple)) or len(change) != 2:
        return f"changed {_label(model, name)}"
    old, new = change
    label = _label(model, name)
    if _hashed(old) or _hashed(new):
        return f"changed {label} (value not recorded)"
    before, after = _value(model, name, old, names, tz), _value(model, name, new, names, tz)
    if old in NONE:
        return f"set {label} to {after}"
    if new in NONE:
        return f"cleared {label} (was {before})"
    return f"changed {label} from {before} to {after}"


def _hashed(value) -> bool:
    if isinstance(value, dict):
        return bool(value.get("hashed"))
    if isinstance(value, str):
        if value.startswith("sha256:"):
            return True
        if value.startswith("{") and '"hashed"' in value:
            try:
                return bool(json.loads(value).get("hashed"))
            except (ValueError, AttributeError):
                return False
    return False


def _field(model, name: str):
    try:
        return model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return None


def _label(model, name: str, *, singular: bool = False) -> str:
    f = _field(model, name)
    if f is None:
        return name.replace("_", " ")
    if singular and f.many_to_many:
        return str(f.related_model._meta.verbose_name)
    return str(f.verbose_name)


def _value(model, name: str, value, names: dict, tz) -> str:
    if value in NONE:
        return "—"
    f = _field(model, name)
    if f is None:
        return str(value)
    if name == "priority" and model is Case:
        try:
            p = Priority(int(value))
            return f"{p.code} {p.label}"
        except (TypeError, ValueError):
            return str(value)
    if f.choices:
        return str(dict((str(k), v) for k, v in f.flatchoices).get(str(value), value))
    if f.is_relation and f.many_to_one:
        return names.get((f.related_model, str(value)), f"#{value} (deleted)")
    if isinstance(f, models.DateTimeField):
        parsed = parse_datetime(str(value))
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = parsed.replace(tzinfo=UTC)
            return timefmt.local(parsed, tz)
    if isinstance(f, models.BooleanField):
        return "yes" if str(value) == "True" else "no"
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _related_names(entries) -> dict:
    """{(model, "pk"): name} for every foreign key value in the entries' changes: one query per model."""
    wanted: dict = {}
    for entry in entries:
        model = entry.content_type.model_class()
        for name, change in (entry.changes_dict or {}).items():
            f = _field(model, name)
            if f is None or not (f.is_relation and f.many_to_one) or not isinstance(change, (list, tuple)):
                continue
            for value in change:
                if value not in NONE and str(value).isdigit():
                    wanted.setdefault(f.related_model, set()).add(int(value))
    names = {}
    for related, pks in wanted.items():
        for obj in related._default_manager.filter(pk__in=pks):
            names[(related, str(obj.pk))] = actor_name(obj) if related is User else str(obj)
    return names


# --- the CSV export ----------------------------------------------------------------------------------

EXPORT_MAX_ROWS = 50_000  # a case's whole trail; far past any real case's
CSV_COLUMNS = ["time", "timezone", "who", "kind", "what", "details", "request (correlation id)", "address", "entry"]


def to_csv(rows: list[AuditRow], *, tz=None) -> str:
    """The rows as the tab shows them (same words, same filter), times in the viewer's zone with the
    zone named in its own column, the raw entry id last so any row can be found in the raw trail."""
    tz = tz or timezone.get_current_timezone()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                str(tz),
                row.actor,
                row.kind,
                _safe_cell(row.verb),
                _safe_cell("; ".join(row.lines)),
                row.cid,
                row.entry.remote_addr or "",
                row.entry.pk,
            ]
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """No formula injection: a cell a spreadsheet would run (=, +, -, @) is quoted with a '."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
