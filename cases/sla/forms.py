"""Forms of the admins' SLA pages: a policy with its targets grid, the preview's inputs, loading a
preset, a selection rule, and a business calendar typed as text ("08:00-12:00, 13:00-16:00").

Every message says what is wrong and where (the cell, the weekday, the line), and a form that fails
keeps exactly what was typed. The model's own `clean()` runs as well, once the field checks pass.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.utils import timezone

from companyos.models import TIMEZONE_CHOICES
from tenants.choices import Segment, SupportTier
from tenants.models import Tenant

from ..choices import Priority
from ..models import BusinessCalendar, SLAClock, SLAPolicy, SLAPolicyRule, Team
from . import calendar as sla
from .models import CLOCK_KINDS, PRIORITY_SLUGS, WEEKDAYS
from .presets import PRESETS, UNITS

KIND_LABELS = dict(SLAClock.Kind.choices)  # the clock kinds' one wording
UNIT_LABELS = {
    "minutes": "minutes",
    "hours": "hours",
    "business_days": "business days",
    "calendar_days": "calendar days",
}
UNIT_CHOICES = [(unit, UNIT_LABELS[unit]) for unit in UNITS]
MAX_TARGET = timedelta(days=365)
DEFAULT_HOURS_PER_DAY = timedelta(hours=8)


# --- durations --------------------------------------------------------------------------------------


def unit_length(unit: str, hours_per_day: timedelta) -> timedelta:
    """How long one `unit` is: business days count the calendar's hours per day."""
    return {
        "minutes": timedelta(minutes=1),
        "hours": timedelta(hours=1),
        "business_days": hours_per_day,
        "calendar_days": timedelta(days=1),
    }[unit]


def format_amount(value: float | Decimal) -> str:
    """2 → "2", 1.5 → "1.5", 0.3333 → "0.33"."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _minutes(value: timedelta) -> int | float:
    minutes = round(value.total_seconds() / 60, 2)
    return int(minutes) if minutes == int(minutes) else minutes


def _preset_unit(policy: SLAPolicy, priority: str, kind: str, row: dict, hours_per_day: timedelta) -> str | None:
    """The unit the policy's preset states this target in, if the stored target is still that one."""
    key, _, column = (policy.preset or "").partition(":")
    try:
        target = PRESETS[key]["columns"][column]["targets"][priority][kind]
    except KeyError:
        return None
    if target is None or target.business != bool(row.get("business")):
        return None
    if abs(target.duration(hours_per_day).total_seconds() / 60 - float(row["minutes"])) > 0.01:
        return None
    return target.unit


def display_target(
    row: dict | None, *, hours_per_day: timedelta, preset_unit: str | None = None
) -> tuple[str, str, bool]:
    """A stored target ({"minutes", "business", optional "unit"}) as (amount, unit, business) for the
    grid: the unit the admin chose (or the preset's), else the largest unit that divides it."""
    if not row:
        return "", "hours", True
    minutes, business = float(row["minutes"]), bool(row.get("business"))
    unit = row.get("unit") if row.get("unit") in UNITS else preset_unit
    per_day = hours_per_day.total_seconds() / 60
    if unit == "business_days" and (not business or per_day <= 0):
        unit = None
    if unit is None:
        if business and per_day > 0 and minutes >= 2 * per_day and minutes % per_day == 0:
            unit = "business_days"
        elif not business and minutes >= 2880 and minutes % 1440 == 0:
            unit = "calendar_days"
        elif minutes >= 60 and minutes % 60 == 0:
            unit = "hours"
        else:
            unit = "minutes"
    amount = minutes / (unit_length(unit, hours_per_day).total_seconds() / 60)
    return format_amount(amount), unit, business


def _parse_amount(text: str) -> Decimal | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"“{text}” is not a number: write e.g. 4 or 1.5.") from None
    if not value.is_finite():
        raise ValidationError(f"“{text}” is not a number: write e.g. 4 or 1.5.")
    return value


# --- policy -----------------------------------------------------------------------------------------


def hours_text(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")


def _calendar_label(calendar: BusinessCalendar) -> str:
    hours = hours_per_day_of(calendar)
    return (
        f"{calendar.name} · {calendar.timezone} · business day {hours_text(hours)}"
        if hours
        else f"{calendar.name} · {calendar.timezone} · no hours"
    )


class FieldErrorsFirstMixin:
    """With field errors, skip the model's clean() (it would only repeat them at the top of the
    form) but still say whether the name is taken."""

    def _post_clean(self):
        if self._errors:
            try:
                self.instance = construct_instance(self, self.instance, self._meta.fields)
                self.instance.validate_unique()
            except ValidationError as error:
                self._update_errors(error)
            return
        super()._post_clean()


class PolicyForm(FieldErrorsFirstMixin, forms.ModelForm):
    """Name, calendar, escalation and the targets grid: rows critical..low, columns first response,
    resolution and update cadence; each cell an amount, a unit and a business-time checkbox."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind_labels = KIND_LABELS  # the grid's column headers

    class Meta:
        model = SLAPolicy
        fields = [
            "name",
            "description",
            "calendar",
            "at_risk_percent",
            "escalation",
            "escalation_team",
            "notify_business_hours_only",
        ]
        labels = {
            "at_risk_percent": "At risk at (% of target elapsed)",
            "notify_business_hours_only": "Send at-risk notifications in business hours only",
            "escalation_team": "Escalation team",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets: dict | None = None
        self.fields["name"].widget.attrs.update({"class": "input", "autocomplete": "off"})
        self.fields["description"].widget.attrs.update({"class": "input"})
        self.fields["calendar"].queryset = BusinessCalendar.objects.order_by("name")
        self.fields["calendar"].empty_label = "— none: every target counts calendar time (24×7) —"
        self.fields["calendar"].label_from_instance = _calendar_label
        self.fields["escalation_team"].queryset = Team.objects.order_by("name")
        self.fields["escalation_team"].empty_label = "— choose a team —"
        self.fields["at_risk_percent"] = forms.IntegerField(
            label=self.fields["at_risk_percent"].label,
            min_value=1,
            max_value=99,
            initial=self.fields["at_risk_percent"].initial,
            error_messages={
                "min_value": "Between 1 and 99 percent.",
                "max_value": "Between 1 and 99 percent.",
                "required": "Between 1 and 99 percent.",
            },
            widget=forms.NumberInput(attrs={"class": "input", "min": 1, "max": 99, "style": "width:6em"}),
        )
        for name in ("calendar", "escalation", "escalation_team"):
            self.fields[name].widget.attrs["class"] = "input"
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        else:  # a new policy starts on the first calendar: its targets default to business time
            self.fields["calendar"].initial = self.fields["calendar"].queryset.values_list("pk", flat=True).first()
        hours = (
            hours_per_day_of(self.instance.calendar) if self.instance.pk and self.instance.calendar_id else timedelta(0)
        ) or DEFAULT_HOURS_PER_DAY
        for priority in PRIORITY_SLUGS:
            for kind in CLOCK_KINDS:
                prefix = f"{priority}__{kind}"
                row = (self.instance.targets or {}).get(priority, {}).get(kind) if self.instance.pk else None
                amount, unit, business = display_target(
                    row,
                    hours_per_day=hours,
                    preset_unit=_preset_unit(self.instance, priority, kind, row, hours) if row else None,
                )
                label = f"{Priority.from_slug(priority).label} {KIND_LABELS[kind].lower()}"
                self.fields[f"{prefix}__amount"] = forms.CharField(
                    required=False,
                    initial=amount,
                    label=f"{label}: amount",
                    widget=forms.TextInput(
                        attrs={
                            "class": "input amount",
                            "inputmode": "decimal",
                            "size": 5,
                            "autocomplete": "off",
                            "aria-label": f"{label}: amount",
                        }
                    ),
                )
                self.fields[f"{prefix}__unit"] = forms.ChoiceField(
                    choices=UNIT_CHOICES,
                    initial=unit,
                    label=f"{label}: unit",
                    widget=forms.Select(attrs={"class": "input unit", "aria-label": f"{label}: unit"}),
                )
                self.fields[f"{prefix}__business"] = forms.BooleanField(
                    required=False,
                    initial=business if row else True,
                    label=f"{label}: business time",
                    widget=forms.CheckboxInput(attrs={"aria-label": f"{label}: business time"}),
                )

    # -- the grid, for the template ------------------------------------------------------------------
    def grid(self) -> list[dict]:
        rows = []
        for priority in PRIORITY_SLUGS:
            cells = []
            for kind in CLOCK_KINDS:
                prefix = f"{priority}__{kind}"
                amount = self[f"{prefix}__amount"]
                cells.append(
                    {
                        "kind": kind,
                        "amount": amount,
                        "unit": self[f"{prefix}__unit"],
                        "business": self[f"{prefix}__business"],
                        "errors": amount.errors,
                        "optional": kind == "update",
                    }
                )
            rows.append({"priority": Priority.from_slug(priority), "cells": cells})
        return rows

    def grid_errors(self) -> list[str]:
        """The grid's and calendar's problems, for the preview's "fix these first" note."""
        out = []
        for name in ["calendar"] + [f"{p}__{k}__amount" for p in PRIORITY_SLUGS for k in CLOCK_KINDS]:
            for error in self.errors.get(name, []):
                out.append(
                    error if name == "calendar" else f"{self.fields[name].label.removesuffix(': amount')}: {error}"
                )
        return out

    # -- validation ------------------------------------------------------------------------------------
    def clean(self):
        data = super().clean()
        calendar = data.get("calendar")
        hours = timedelta(0)
        if calendar is not None:
            try:
                hours = (
                    BusinessCalendar(timezone=calendar.timezone, weekly_hours=calendar.weekly_hours)
                    .to_calendar()
                    .hours_per_day
                )
            except (ValueError, KeyError, TypeError) as error:
                self.add_error("calendar", f"This calendar cannot be used: {error}")
                calendar = None
        targets: dict = {}
        business_used = business_days_used = False
        grid_ok = True
        for priority in PRIORITY_SLUGS:
            targets[priority] = {}
            for kind in CLOCK_KINDS:
                prefix = f"{priority}__{kind}"
                field = f"{prefix}__amount"
                unit = data.get(f"{prefix}__unit") or "hours"
                business = bool(data.get(f"{prefix}__business"))
                # A unit in days says which clock it counts on: business days are business time,
                # calendar days calendar time. Minutes and hours follow the checkbox.
                if unit == "business_days":
                    business = True
                elif unit == "calendar_days":
                    business = False
                try:
                    amount = _parse_amount(data.get(field, ""))
                except ValidationError as error:
                    self.add_error(field, error)
                    grid_ok = False
                    continue
                if amount is None:
                    targets[priority][kind] = None
                    if kind != "update":
                        self.add_error(field, f"Required: how long until the {KIND_LABELS[kind].lower()} is due.")
                        grid_ok = False
                    continue
                if amount <= 0:
                    self.add_error(field, "Must be more than 0 (leave the update cadence empty for none).")
                    grid_ok = False
                    continue
                if unit == "business_days":
                    business_days_used = True
                    if hours <= timedelta(0):
                        self.add_error(
                            field, "Business days need a calendar with weekly hours: their length is its hours per day."
                        )
                        grid_ok = False
                        continue
                duration = unit_length(unit, hours) * float(amount)
                if duration < timedelta(minutes=1):
                    self.add_error(field, "The shortest target is 1 minute.")
                    grid_ok = False
                    continue
                if duration > MAX_TARGET:
                    self.add_error(field, "More than a year: use a shorter target.")
                    grid_ok = False
                    continue
                business_used = business_used or business
                targets[priority][kind] = {"minutes": _minutes(duration), "business": business, "unit": unit}
        if business_used and data.get("calendar") is None and "calendar" not in self.errors:
            self.add_error(
                "calendar",
                "Targets in business time need a business calendar: choose one, or untick “business time” on every target.",
            )
        elif business_used and calendar is not None and hours <= timedelta(0) and not business_days_used:
            self.add_error(
                "calendar",
                f"{calendar.name} has no weekly hours, so business time never passes: choose another calendar.",
            )
        if data.get("escalation") == SLAPolicy.Escalation.REASSIGN and not data.get("escalation_team"):
            self.add_error("escalation_team", "Choose the team breached cases are reassigned to.")
        if grid_ok:
            self.targets = targets
            self.instance.targets = targets
        return data

    @property
    def preview_ready(self) -> bool:
        """Targets and calendar are usable: a preview can be computed even if, say, the name is taken."""
        return self.targets is not None and "calendar" not in self.errors

    def policy_fields(self) -> dict:
        """What the services take: the model fields and the targets."""
        fields = {name: self.cleaned_data[name] for name in self._meta.fields}
        fields["targets"] = self.targets
        return fields

    def unsaved_policy(self, existing: SLAPolicy | None) -> SLAPolicy:
        """An in-memory policy built from the form (never saved): for the preview and the count of
        clocks a re-apply would move (which needs the existing policy's pk)."""
        data = self.cleaned_data
        return SLAPolicy(
            pk=existing.pk if existing else None,
            name=data.get("name") or (existing.name if existing else "New policy"),
            calendar=data.get("calendar"),
            targets=self.targets,
            at_risk_percent=data.get("at_risk_percent") or 80,
            escalation=data.get("escalation") or SLAPolicy.Escalation.NOTIFY,
            escalation_team=data.get("escalation_team"),
            notify_business_hours_only=bool(data.get("notify_business_hours_only")),
            preset=existing.preset if existing else "",
            version=existing.version if existing else 1,
        )


class PreviewForm(forms.Form):
    """ "A <priority> case for <tenant> opened at <local time>": the preview's inputs, in the viewer's
    timezone (the browser's datetime-local has no zone)."""

    preview_tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.all(), to_field_name="slug", required=False, label="Tenant"
    )
    preview_priority = forms.ChoiceField(
        choices=[(p.slug, p.label) for p in Priority], initial="critical", label="Priority"
    )
    preview_opened_at = forms.DateTimeField(
        label="Opened at",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "input"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, tenant_default=None, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["preview_opened_at"].initial = now
        self.fields["preview_tenant"].initial = tenant_default.slug if tenant_default else None
        self.fields["preview_priority"].widget.attrs["class"] = "input"
        self.tenant_default = tenant_default

    def values(self) -> tuple[Tenant | None, Priority, datetime]:
        data = {}
        if self.is_bound:
            self.is_valid()  # cleaned_data then holds every field that is valid, even if another is not
            data = self.cleaned_data
        tenant = data.get("preview_tenant") or self.tenant_default
        priority = Priority.from_slug(data.get("preview_priority") or "critical")
        opened_at = data.get("preview_opened_at") or timezone.localtime().replace(second=0, microsecond=0)
        return tenant, priority, opened_at


def _preset_choices() -> list[tuple[str, str]]:
    return [
        (f"{key}:{column}", f"{preset['name']} — {col['name']}")
        for key, preset in PRESETS.items()
        for column, col in preset["columns"].items()
    ]


def preset_policy_name(key: str, column: str) -> str:
    """The name a loaded preset gets: the preset's, and its column's when it has several."""
    preset = PRESETS[key]
    name = preset["name"]
    if len(preset["columns"]) > 1:
        name = f"{name} — {preset['columns'][column]['name']}"
    return name[:100]


def preset_uses_business_time(key: str, column: str) -> bool:
    return any(
        t is not None and t.business
        for row in PRESETS[key]["columns"][column]["targets"].values()
        for t in row.values()
    )


class PresetLoadForm(forms.Form):
    preset = forms.ChoiceField(
        choices=_preset_choices, error_messages={"invalid_choice": "Choose one of the presets listed."}
    )
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.order_by("name"),
        required=False,
        label="Calendar for business-time targets",
        empty_label="— none (24×7) —",
    )

    def clean(self):
        data = super().clean()
        key, _, column = (data.get("preset") or "").partition(":")
        if data.get("preset"):
            data["preset_key"], data["column"] = key, column
            if preset_uses_business_time(key, column) and data.get("calendar") is None:
                self.add_error(
                    "calendar",
                    f"{PRESETS[key]['name']} counts business time: choose the calendar whose hours it runs on.",
                )
        return data


# --- rules ------------------------------------------------------------------------------------------


class RuleForm(forms.ModelForm):
    class Meta:
        model = SLAPolicyRule
        fields = ["position", "segment", "support_tier", "policy"]
        labels = {"support_tier": "Support tier"}

    def __init__(self, *args, form_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"] = forms.IntegerField(
            min_value=1,
            max_value=32767,
            initial=self.fields["position"].initial,
            error_messages={"min_value": "A position from 1 up.", "max_value": "At most 32767."},
            widget=forms.NumberInput(attrs={"class": "input", "style": "width:6em", "min": 1}),
        )
        self.fields["segment"] = forms.ChoiceField(
            choices=[("", "any segment")] + list(Segment.choices),
            required=False,
            widget=forms.Select(attrs={"class": "input"}),
        )
        self.fields["support_tier"] = forms.ChoiceField(
            label="Support tier",
            choices=[("", "any tier")] + list(SupportTier.choices),
            required=False,
            widget=forms.Select(attrs={"class": "input"}),
        )
        self.fields["policy"].queryset = SLAPolicy.objects.order_by("name")
        self.fields["policy"].empty_label = "— choose a policy —"
        self.fields["policy"].widget.attrs["class"] = "input"
        self.fields["policy"].error_messages["required"] = "Choose the policy this rule selects."
        if form_id:  # the fields sit in table cells, the <form> elsewhere in the row
            for field in self.fields.values():
                field.widget.attrs["form"] = form_id


# --- calendars ----------------------------------------------------------------------------------------

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_WINDOW_SPLIT = re.compile(r"\s*(?:-|–|—|to)\s*")
_DATE = re.compile(r"^(\S+)\s*(.*)$")
_WINDOWS_PREFIX = re.compile(r"^((?:\d{1,2}:\d{2}\s*(?:-|–|—)\s*\d{1,2}:\d{2}\s*,?\s*)+)(.*)$")


def _parse_time(text: str, *, end: bool) -> str:
    match = _TIME.match(text.strip())
    if not match:
        raise ValidationError(f"“{text.strip()}” is not a time: write HH:MM, e.g. 08:00.")
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not end)):
        raise ValidationError(
            f"“{text.strip()}” is not a time of day: use 00:00 to 23:59 (24:00 only as an end, for midnight)."
        )
    return f"{hour:02d}:{minute:02d}"


def parse_windows(text: str) -> list[list[str]]:
    """ "08:00-12:00, 13:00-16:00" → [["08:00", "12:00"], ["13:00", "16:00"]], sorted; "" → [] (closed).
    "00:00-24:00" is the whole day. Windows cannot cross midnight or overlap."""
    text = (text or "").strip()
    if not text or text.lower() in {"closed", "-", "—"}:
        return []
    windows = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text))):
        pieces = _WINDOW_SPLIT.split(part)
        if len(pieces) != 2:
            raise ValidationError(f"“{part}” is not a window: write start-end, e.g. 08:00-16:00.")
        start, end = _parse_time(pieces[0], end=False), _parse_time(pieces[1], end=True)
        if end != "24:00" and end <= start:
            raise ValidationError(
                f"{start}-{end} ends before it starts: a window cannot cross midnight "
                f"(write {start}-24:00 here and 00:00-{end} on the next day)."
            )
        windows.append([start, end])
    windows.sort()
    for (s1, e1), (s2, e2) in zip(windows, windows[1:]):
        if e1 == "24:00" or e1 > s2:
            raise ValidationError(f"{s1}-{e1} and {s2}-{e2} overlap.")
    return windows


def format_windows(windows) -> str:
    return ", ".join(f"{start}-{end}" for start, end in windows or [])


def _parse_date(text: str, line_no: int) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"Line {line_no}: “{text}” is not a date: write YYYY-MM-DD, e.g. 2026-12-24.") from None


def parse_closures(text: str) -> list[dict]:
    """Lines "2026-12-24 Christmas Eve closure" → [{"date": "2026-12-24", "name": "Christmas Eve closure"}]."""
    out, seen, errors = [], {}, []
    for line_no, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        day_text, name = _DATE.match(line).groups()
        try:
            day = _parse_date(day_text, line_no)
        except ValidationError as error:
            errors.append(error)
            continue
        if day in seen:
            errors.append(ValidationError(f"Line {line_no}: {day} is already listed on line {seen[day]}."))
            continue
        seen[day] = line_no
        out.append({"date": day.isoformat(), "name": name.strip() or "Closure"})
    if errors:
        raise ValidationError(errors)
    return sorted(out, key=lambda item: item["date"])


def parse_extra_days(text: str) -> list[dict]:
    """Lines "2026-03-28 10:00-14:00 Migration weekend" (several windows: "10:00-12:00, 13:00-15:00")
    → [{"date", "name", "windows"}]: extra open days, which replace that date's usual hours."""
    out, seen, errors = [], {}, []
    for line_no, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        day_text, rest = _DATE.match(line).groups()
        try:
            day = _parse_date(day_text, line_no)
        except ValidationError as error:
            errors.append(error)
            continue
        match = _WINDOWS_PREFIX.match(rest.strip())
        if not match:
            errors.append(
                ValidationError(
                    f"Line {line_no}: give the open hours after the date, e.g. {day} 10:00-14:00 Migration weekend."
                )
            )
            continue
        try:
            windows = parse_windows(match[1].strip().rstrip(","))
        except ValidationError as error:
            errors.append(ValidationError(f"Line {line_no}: {error.messages[0]}"))
            continue
        if day in seen:
            errors.append(ValidationError(f"Line {line_no}: {day} is already listed on line {seen[day]}."))
            continue
        seen[day] = line_no
        out.append({"date": day.isoformat(), "name": match[2].strip() or "Extra open day", "windows": windows})
    if errors:
        raise ValidationError(errors)
    return sorted(out, key=lambda item: item["date"])


class CalendarForm(FieldErrorsFirstMixin, forms.ModelForm):
    """Weekly hours per weekday as text, holidays by country code, closures and extra days as lines."""

    closures_text = forms.CharField(
        required=False,
        label="Closures (one per line: date and name)",
        widget=forms.Textarea(
            attrs={"rows": 4, "class": "input mono", "placeholder": "2026-12-24 Christmas Eve closure"}
        ),
    )
    extra_days_text = forms.CharField(
        required=False,
        label="Extra open days (one per line: date, hours, name)",
        widget=forms.Textarea(
            attrs={"rows": 3, "class": "input mono", "placeholder": "2026-03-28 10:00-14:00 Migration weekend"}
        ),
    )

    class Meta:
        model = BusinessCalendar
        fields = ["name", "timezone", "holiday_country", "holiday_subdivision"]
        labels = {
            "holiday_country": "Public holidays of (country code)",
            "holiday_subdivision": "Subdivision (state, county…)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"class": "input", "autocomplete": "off"})
        self.fields["timezone"] = forms.ChoiceField(
            choices=TIMEZONE_CHOICES,
            initial=self.instance.timezone or "Europe/Oslo",
            widget=forms.Select(attrs={"class": "input"}),
        )
        self.fields["holiday_country"].widget.attrs.update(
            {"class": "input", "size": 6, "placeholder": "NO", "autocomplete": "off"}
        )
        self.fields["holiday_subdivision"].widget.attrs.update(
            {"class": "input", "size": 8, "placeholder": "e.g. CA", "autocomplete": "off"}
        )
        hours = self.instance.weekly_hours or (
            {} if self.instance.pk else {str(d): [["08:00", "16:00"]] for d in range(5)}
        )
        for day, label in enumerate(WEEKDAYS):
            self.fields[f"day_{day}"] = forms.CharField(
                required=False,
                label=label,
                initial=format_windows(hours.get(str(day))),
                widget=forms.TextInput(attrs={"class": "input mono", "placeholder": "closed", "autocomplete": "off"}),
            )
        self.fields["closures_text"].initial = "\n".join(
            f"{c['date']} {c.get('name', '')}".strip() for c in self.instance.closures or []
        )
        self.fields["extra_days_text"].initial = "\n".join(
            f"{e['date']} {format_windows(e.get('windows'))} {e.get('name', '')}".strip()
            for e in self.instance.extra_days or []
        )

    def day_fields(self):
        return [self[f"day_{day}"] for day in range(7)]

    def clean_holiday_country(self):
        return (self.cleaned_data.get("holiday_country") or "").strip().upper()

    def clean_holiday_subdivision(self):
        return (self.cleaned_data.get("holiday_subdivision") or "").strip()

    def clean_closures_text(self):
        self.closures = parse_closures(self.cleaned_data.get("closures_text"))
        return self.cleaned_data.get("closures_text")

    def clean_extra_days_text(self):
        self.extra_days = parse_extra_days(self.cleaned_data.get("extra_days_text"))
        return self.cleaned_data.get("extra_days_text")

    def clean(self):
        data = super().clean()
        weekly = {}
        for day, label in enumerate(WEEKDAYS):
            try:
                windows = parse_windows(data.get(f"day_{day}", ""))
            except ValidationError as error:
                self.add_error(f"day_{day}", error)
                continue
            if windows:
                weekly[str(day)] = windows
        if not weekly and not any(f"day_{d}" in self.errors for d in range(7)):
            self.add_error("day_0", "A business calendar needs open hours on at least one weekday.")
        self.weekly_hours = weekly
        country, subdivision = data.get("holiday_country", ""), data.get("holiday_subdivision", "")
        if subdivision and not country:
            self.add_error("holiday_subdivision", "Give the country code as well, e.g. US for the subdivision CA.")
        elif country:
            try:
                sla.holiday_dates(country, subdivision or None, [timezone.now().year])
            except ValueError as error:
                self.add_error(
                    "holiday_subdivision" if "subdivision" in str(error) else "holiday_country",
                    f"{str(error)[0].upper()}{str(error)[1:]}.",
                )
        closures = getattr(self, "closures", None)
        extra = getattr(self, "extra_days", None)
        if closures is not None and extra is not None:
            both = sorted({c["date"] for c in closures} & {e["date"] for e in extra})
            if both:
                self.add_error(
                    "extra_days_text",
                    f"{', '.join(both)} {'is' if len(both) == 1 else 'are'} both a closure and an extra open day: keep one.",
                )
        if not self._errors:
            self.instance.weekly_hours = weekly
            self.instance.closures = closures or []
            self.instance.extra_days = extra or []
        return data

    def calendar_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "timezone": data["timezone"],
            "holiday_country": data["holiday_country"],
            "holiday_subdivision": data["holiday_subdivision"],
            "weekly_hours": self.weekly_hours,
            "closures": self.closures,
            "extra_days": self.extra_days,
        }


def upcoming_days(calendar: BusinessCalendar, *, today: date | None = None, days: int = 365) -> list[dict]:
    """Public holidays, closures and extra open days in the next `days` days, for the calendar page;
    each says whether it changes anything (a holiday on a closed weekday does not)."""
    today = today or timezone.localdate()
    last = today + timedelta(days=days)
    try:
        cal = calendar.to_calendar(years=range(today.year, last.year + 1))
    except (ValueError, KeyError, TypeError):
        return []
    custom = {c["date"] for c in calendar.closures or []}
    out = []
    for day in sorted(cal.closed):
        if today <= day <= last and day not in cal.extra_open:
            open_usually = bool(cal.weekly.get(day.weekday()))
            out.append(
                {
                    "date": day,
                    "name": cal.holiday_names.get(day, "Closure"),
                    "kind": "closure" if day.isoformat() in custom else "holiday",
                    "effect": open_usually,
                }
            )
    for day, windows in cal.extra_open.items():
        if today <= day <= last:
            name = next(
                (e.get("name") for e in calendar.extra_days or [] if e["date"] == day.isoformat()), "Extra open day"
            )
            out.append(
                {
                    "date": day,
                    "name": name,
                    "kind": "extra",
                    "effect": True,
                    "hours": ", ".join(f"{s:%H:%M}-{'24:00' if e is None else format(e, '%H:%M')}" for s, e in windows),
                }
            )
    return sorted(out, key=lambda item: item["date"])


def hours_per_day_of(calendar: BusinessCalendar | None) -> timedelta:
    """The calendar's business day (what "business days" convert at); only its weekly hours count,
    so no holidays are looked up."""
    if calendar is None:
        return timedelta(0)
    try:
        return (
            BusinessCalendar(timezone=calendar.timezone, weekly_hours=calendar.weekly_hours).to_calendar().hours_per_day
        )
    except (ValueError, KeyError, TypeError):
        return timedelta(0)


__all__ = [
    "CalendarForm",
    "PolicyForm",
    "PresetLoadForm",
    "PreviewForm",
    "RuleForm",
    "display_target",
    "format_windows",
    "hours_per_day_of",
    "hours_text",
    "parse_closures",
    "parse_extra_days",
    "parse_windows",
    "preset_policy_name",
    "upcoming_days",
]
