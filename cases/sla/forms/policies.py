"""The policy form with its targets grid (rows critical..low, columns first response, resolution
and update cadence), the preview's inputs, and loading a preset."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from tenants.choices import Channel
from tenants.models import Tenant

from ...choices import Priority
from ...models import BusinessCalendar, SLAPolicy, Team
from .. import presets
from ..models import CLOCK_KINDS, PRIORITY_SLUGS, SEVERITY_CLOCK_KINDS, SEVERITY_SLUGS, channel_target_row
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

CHANNELS = list(Channel.values)  # the channel-target grid's rows, in the choices' order
SEVERITY_KIND_LABELS = {"acknowledge": "Time to acknowledge", "mitigate": "Time to mitigate"}


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


def _preset_channel_unit(
    policy: SLAPolicy, channel: str, priority: str, row: dict, hours_per_day: timedelta
) -> str | None:
    """The unit the policy's preset states this channel target in, if the stored target is still that one."""
    key, _, column = (policy.preset or "").partition(":")
    try:
        target = PRESETS[key]["columns"][column]["channel_targets"][channel][priority]
    except KeyError:
        return None
    if target.business != bool(row.get("business")):
        return None
    if abs(target.duration(hours_per_day).total_seconds() / 60 - float(row["minutes"])) > 0.01:
        return None
    return target.unit


def _preset_severity_unit(
    policy: SLAPolicy, severity: str, kind: str, row: dict, hours_per_day: timedelta
) -> str | None:
    """The unit the policy's preset states this severity target in, if the stored target is still that one."""
    key, _, column = (policy.preset or "").partition(":")
    try:
        target = PRESETS[key]["columns"][column]["severity_targets"][severity][kind]
    except KeyError:
        return None
    if target is None or target.business != bool(row.get("business")):
        return None
    if abs(target.duration(hours_per_day).total_seconds() / 60 - float(row["minutes"])) > 0.01:
        return None
    return target.unit


def severity_label(slug: str) -> str:
    """sev1 -> "Sev-1" (the case's impact severity as agents read it)."""
    return f"Sev-{slug[-1]}"


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
    kind_labels = {kind: KIND_LABELS[kind] for kind in CLOCK_KINDS}  # the grid's column headers: its kinds only

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
            "auto_close_days",
            "root_cause_stops_resolution",
        ]
        labels = {
            "auto_close_days": "Resolved cases close automatically after (days)",
            "root_cause_stops_resolution": (
                "Stop the resolution clock on “root cause identified, timeline communicated”"
            ),
            "at_risk_percent": "At risk at (% of target elapsed)",
            "notify_business_hours_only": "Send at-risk notifications in business hours only",
            "escalation_team": "Escalation team",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.targets: dict | None = None
        self.channel_targets: dict | None = None
        self.severity_targets: dict | None = None
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
        self.fields["auto_close_days"] = forms.IntegerField(
            label=self.fields["auto_close_days"].label,
            help_text=self.fields["auto_close_days"].help_text,
            min_value=1,
            max_value=90,
            initial=7,
            error_messages={"min_value": "Between 1 and 90 days.", "max_value": "Between 1 and 90 days."},
            widget=forms.NumberInput(attrs={"class": "input input-narrow", "min": 1, "max": 90}),
        )
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
                self._add_cell(
                    prefix,
                    f"{Priority.from_slug(priority).label} {KIND_LABELS[kind].lower()}",
                    row,
                    hours,
                    preset_unit=_preset_unit(self.instance, priority, kind, row, hours) if row else None,
                )
        for channel in CHANNELS:
            for priority in PRIORITY_SLUGS:
                row = channel_target_row(self.instance.channel_targets, channel, priority) if self.instance.pk else None
                self._add_cell(
                    f"ch__{channel}__{priority}",
                    f"{Channel(channel).label} target for {Priority.from_slug(priority).label.lower()}",
                    row,
                    hours,
                    preset_unit=_preset_channel_unit(self.instance, channel, priority, row, hours) if row else None,
                )
        for severity in SEVERITY_SLUGS:
            for kind in SEVERITY_CLOCK_KINDS:
                rows = (self.instance.severity_targets or {}).get(severity) or {} if self.instance.pk else {}
                row = rows.get(kind)
                self._add_cell(
                    f"sev__{severity}__{kind}",
                    f"{severity_label(severity)} {SEVERITY_KIND_LABELS[kind].lower()}",
                    row,
                    hours,
                    preset_unit=_preset_severity_unit(self.instance, severity, kind, row, hours) if row else None,
                )

    def _add_cell(self, prefix: str, label: str, row: dict | None, hours: timedelta, *, preset_unit=None) -> None:
        amount, unit, business = display_target(row, hours_per_day=hours, preset_unit=preset_unit)
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
            # An empty channel cell counts the way the policy does: business time when it has a calendar.
            initial=business if row else (bool(self.instance.calendar_id) or not prefix.startswith(("ch__", "sev__"))),
            label=f"{label}: business time",
            widget=forms.CheckboxInput(attrs={"aria-label": f"{label}: business time"}),
        )

    # -- the grid, for the template ------------------------------------------------------------------
    def _cell(self, prefix: str, *, with_set: bool = False) -> dict:
        """One target cell of a grid: its amount, unit and business-time fields and the amount's errors
        (`set`: whether an amount was typed, for the grids where an empty cell means "none")."""
        amount = self[f"{prefix}__amount"]
        cell = {"amount": amount, "unit": self[f"{prefix}__unit"], "business": self[f"{prefix}__business"]}
        cell["errors"] = amount.errors
        if with_set:
            cell["set"] = bool(str(amount.value() or "").strip())
        return cell

    def grid(self) -> list[dict]:
        rows = []
        for priority in PRIORITY_SLUGS:
            cells = []
            for kind in CLOCK_KINDS:
                cells.append({"kind": kind, **self._cell(f"{priority}__{kind}"), "optional": kind == "update"})
            rows.append({"priority": Priority.from_slug(priority), "cells": cells})
        return rows

    def channel_grid(self) -> list[dict]:
        """The channel targets: a row per channel, a first-response cell per priority (empty: the
        priority's own target)."""
        rows = []
        for channel in CHANNELS:
            cells = []
            for priority in PRIORITY_SLUGS:
                cells.append({"priority": priority, **self._cell(f"ch__{channel}__{priority}", with_set=True)})
            rows.append({"channel": channel, "label": Channel(channel).label, "cells": cells})
        return rows

    def severity_grid(self) -> list[dict]:
        """The targets keyed on the case's severity: a row per Sev-1..3, a cell per time to acknowledge
        and time to mitigate (empty: no such clock for cases of that severity)."""
        rows = []
        for severity in SEVERITY_SLUGS:
            cells = []
            for kind in SEVERITY_CLOCK_KINDS:
                cells.append({"kind": kind, **self._cell(f"sev__{severity}__{kind}", with_set=True)})
            rows.append({"severity": severity, "label": severity_label(severity), "cells": cells})
        return rows

    severity_kind_labels = SEVERITY_KIND_LABELS

    def priority_columns(self) -> list[Priority]:
        return [Priority.from_slug(p) for p in PRIORITY_SLUGS]

    def grid_errors(self) -> list[str]:
        """The grid's and calendar's problems, for the preview's "fix these first" note."""
        out = []
        names = [f"{p}__{k}__amount" for p in PRIORITY_SLUGS for k in CLOCK_KINDS]
        names += [f"ch__{c}__{p}__amount" for c in CHANNELS for p in PRIORITY_SLUGS]
        names += [f"sev__{s}__{k}__amount" for s in SEVERITY_SLUGS for k in SEVERITY_CLOCK_KINDS]
        for name in ["calendar", *names]:
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
        flags = {"business": False, "business_days": False}
        grid_ok = True
        for priority in PRIORITY_SLUGS:
            targets[priority] = {}
            for kind in CLOCK_KINDS:
                ok, row = self._clean_cell(data, f"{priority}__{kind}", hours, flags, required=kind != "update")
                grid_ok = grid_ok and ok
                if ok:
                    targets[priority][kind] = row
        channel_targets: dict = {}
        for channel in CHANNELS:
            for priority in PRIORITY_SLUGS:
                ok, row = self._clean_cell(data, f"ch__{channel}__{priority}", hours, flags, required=False)
                grid_ok = grid_ok and ok
                if ok and row is not None:
                    channel_targets.setdefault(channel, {})[priority] = row
        severity_targets: dict = {}
        for severity in SEVERITY_SLUGS:
            for kind in SEVERITY_CLOCK_KINDS:
                ok, row = self._clean_cell(data, f"sev__{severity}__{kind}", hours, flags, required=False)
                grid_ok = grid_ok and ok
                if ok and row is not None:
                    severity_targets.setdefault(severity, {})[kind] = row
        business_used, business_days_used = flags["business"], flags["business_days"]
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
            self.channel_targets = channel_targets
            self.severity_targets = severity_targets
            self.instance.targets = targets
            self.instance.channel_targets = channel_targets
            self.instance.severity_targets = severity_targets
        return data

    def _clean_cell(self, data: dict, prefix: str, hours: timedelta, flags: dict, *, required: bool):
        """One target cell (amount, unit, business time) → (ok, {"minutes", "business", "unit"} or None),
        its error added to the amount field; `flags` collects whether business time / days are used."""
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
            return False, None
        if amount is None:
            if required:
                kind = prefix.rsplit("__", 1)[-1]
                self.add_error(field, f"Required: how long until the {KIND_LABELS[kind].lower()} is due.")
                return False, None
            return True, None
        if amount <= 0:
            if prefix.startswith("ch__"):
                message = "Must be more than 0 (leave it empty to use the priority's target)."
            elif prefix.startswith("sev__"):
                message = "Must be more than 0 (leave it empty for no such clock at this severity)."
            else:
                message = "Must be more than 0 (leave the update cadence empty for none)."
            self.add_error(field, message)
            return False, None
        if unit == "business_days":
            flags["business_days"] = True
            if hours <= timedelta(0):
                self.add_error(
                    field, "Business days need a calendar with weekly hours: their length is its hours per day."
                )
                return False, None
        # In float seconds first: 1e23 hours overflows a timedelta, 1e309 is infinity as a float.
        seconds = unit_length(unit, hours).total_seconds() * float(amount)
        if seconds > MAX_TARGET.total_seconds():
            self.add_error(field, "More than a year: use a shorter target.")
            return False, None
        duration = timedelta(seconds=seconds)
        if duration < timedelta(minutes=1):
            self.add_error(field, "The shortest target is 1 minute.")
            return False, None
        flags["business"] = flags["business"] or business
        return True, {"minutes": _minutes(duration), "business": business, "unit": unit}

    @property
    def preview_ready(self) -> bool:
        """Targets and calendar are usable: a preview can be computed even if, say, the name is taken."""
        return self.targets is not None and "calendar" not in self.errors

    def policy_fields(self) -> dict:
        """What the services take: the model fields and the targets."""
        fields = {name: self.cleaned_data[name] for name in self._meta.fields}
        fields["targets"] = self.targets
        fields["channel_targets"] = self.channel_targets or {}
        fields["severity_targets"] = self.severity_targets or {}
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
            channel_targets=self.channel_targets or {},
            severity_targets=self.severity_targets or {},
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
    preview_channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.EMAIL, required=False, label="Channel")
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
        self.fields["preview_channel"].widget.attrs["class"] = "input"
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

    def channel(self) -> str:
        if self.is_bound:
            self.is_valid()
            return self.cleaned_data.get("preview_channel") or Channel.EMAIL
        return Channel.EMAIL


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
