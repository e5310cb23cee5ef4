"""The policy form with its targets grid (rows critical..low, columns first response, resolution
and update cadence), the preview's inputs, and loading a preset."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from tenants.models import Tenant

from ...choices import Priority
from ...models import BusinessCalendar, SLAPolicy, Team
from .. import presets
from ..models import CLOCK_KINDS, PRIORITY_SLUGS
from ..presets import PRESETS, UNITS
from .common import (
    DEFAULT_HOURS_PER_DAY,
    KIND_LABELS,
    MAX_TARGET,
    UNIT_CHOICES,
    FieldErrorsFirstMixin,
    _minutes,
    _parse_amount,
    format_amount,
    hours_per_day_of,
    hours_text,
    unit_length,
)


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


def _calendar_label(calendar: BusinessCalendar) -> str:
    hours = hours_per_day_of(calendar)
    return (
        f"{calendar.name} · {calendar.timezone} · business day {hours_text(hours)}"
        if hours
        else f"{calendar.name} · {calendar.timezone} · no hours"
    )


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
            widget=forms.NumberInput(attrs={"class": "input input-narrow", "min": 1, "max": 99}),
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
                # In float seconds first: 1e23 hours overflows a timedelta, 1e309 is infinity as a float.
                seconds = unit_length(unit, hours).total_seconds() * float(amount)
                if seconds > MAX_TARGET.total_seconds():
                    self.add_error(field, "More than a year: use a shorter target.")
                    grid_ok = False
                    continue
                duration = timedelta(seconds=seconds)
                if duration < timedelta(minutes=1):
                    self.add_error(field, "The shortest target is 1 minute.")
                    grid_ok = False
                    continue
                business_used = business_used or business
                targets[priority][kind] = {"minutes": _minutes(duration), "business": business, "unit": unit}
        if business_used and data.get("calendar") is None and "calendar" not in self.errors:
            self.add_error(
                "calendar",
                "Targets in business time need a business calendar: choose one, "
                "or untick “business time” on every target.",
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
        (f"{key}:{column}", presets.preset_policy_name(key, column))
        for key, preset in PRESETS.items()
        for column, col in preset["columns"].items()
    ]


def preset_policy_name(key: str, column: str) -> str:
    """The name a loaded preset gets (cases.sla.presets.preset_policy_name), within the name's length."""
    return presets.preset_policy_name(key, column)[:100]


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
