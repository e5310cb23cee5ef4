"""What the SLA forms share: the target units and their lengths, amounts as typed, a calendar's
business day, and the mixin that keeps the model's clean() from repeating field errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.forms.models import construct_instance

from ...models import BusinessCalendar, SLAClock
from ..presets import UNITS

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


def hours_text(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")


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
