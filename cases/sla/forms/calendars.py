"""The business calendar form, typed as text ("08:00-12:00, 13:00-16:00" per weekday, closures and
extra open days one per line), its parsers, and the calendar page's list of upcoming special days."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from companyos.models import TIMEZONE_CHOICES

from ...models import BusinessCalendar
from .. import calendar as sla
from ..models import WEEKDAYS
from .common import FieldErrorsFirstMixin

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
        for day, _ in enumerate(WEEKDAYS):
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
                    f"{', '.join(both)} {'is' if len(both) == 1 else 'are'} both a closure and an extra open day: "
                    "keep one.",
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
