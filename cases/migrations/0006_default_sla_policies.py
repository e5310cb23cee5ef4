"""The default SLA set-up, so a fresh console runs clocks from its first case: the case & escalation
model's table (seed 003, the product default) on an office-hours calendar, Standard for the standard tier and Premium/Enterprise
for the premium and enterprise tiers. Admins change all of it in the console (/sla/policies/)."""
from datetime import timedelta

from django.db import migrations

from cases.sla.presets import preset_description, preset_targets

HOURS = {str(day): [["08:00", "16:00"]] for day in range(5)}


def _targets(column, business=True):
    out = {}
    for priority, kinds in preset_targets("seed-003", column, hours_per_day=timedelta(hours=8)).items():
        out[priority] = {
            kind: None if duration is None else {"minutes": round(duration.total_seconds() / 60, 2), "business": bool(flag and business)}
            for kind, (duration, flag) in kinds.items()
        }
    return out


def forward(apps, schema_editor):
    Calendar = apps.get_model("cases", "BusinessCalendar")
    Policy = apps.get_model("cases", "SLAPolicy")
    Rule = apps.get_model("cases", "SLAPolicyRule")
    if Policy.objects.exists():
        return
    calendar = Calendar.objects.create(name="Office hours (Oslo)", timezone="Europe/Oslo", weekly_hours=HOURS, holiday_country="NO")
    standard = Policy.objects.create(name="Standard", calendar=calendar, targets=_targets("standard"), preset="seed-003:standard",
                                     description=preset_description("seed-003", "standard"))
    premium = Policy.objects.create(name="Premium/Enterprise", calendar=calendar, targets=_targets("premium"), preset="seed-003:premium",
                                    description=preset_description("seed-003", "premium"))
    Rule.objects.create(position=10, support_tier="enterprise", policy=premium)
    Rule.objects.create(position=20, support_tier="premium", policy=premium)
    Rule.objects.create(position=90, policy=standard)


def backward(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_sla")]
    operations = [migrations.RunPython(forward, backward)]
