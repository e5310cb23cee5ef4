"""Forms of the admins' SLA pages: a policy with its targets grid, the preview's inputs, loading a
preset, a selection rule, and a business calendar typed as text ("08:00-12:00, 13:00-16:00").

Every message says what is wrong and where (the cell, the weekday, the line), and a form that fails
keeps exactly what was typed. The model's own `clean()` runs as well, once the field checks pass.

    common     target units and their lengths, amounts as typed, hours_per_day_of, hours_text,
               FieldErrorsFirstMixin (field errors first, the model's clean() only once they pass)
    policies   PolicyForm (the targets grid, display_target), PreviewForm, PresetLoadForm,
               preset_policy_name, preset_uses_business_time
    rules      RuleForm
    calendars  CalendarForm, parse_windows / parse_closures / parse_extra_days, format_windows,
               upcoming_days

Views import from here (`from ..forms import PolicyForm, ...`).
"""

from .calendars import CalendarForm, format_windows, parse_closures, parse_extra_days, parse_windows, upcoming_days
from .common import hours_per_day_of, hours_text
from .policies import (
    PolicyForm,
    PresetLoadForm,
    PreviewForm,
    display_target,
    preset_policy_name,
    preset_uses_business_time,
)
from .rules import RuleForm

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
    "preset_uses_business_time",
    "upcoming_days",
]
