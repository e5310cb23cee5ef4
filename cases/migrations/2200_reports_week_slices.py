"""The reports' week slices (ReportSlice rows with hour −7: a UTC week's day slices added up, for every
dimension but priority): built here from the day slices as stored, week by week. No schema change.
`manage.py reports_rollup --rebuild` rebuilds them too (with everything else)."""

from datetime import timedelta

from django.db import migrations
from django.db.models import Max, Min


def build_week_slices(apps, schema_editor):
    from cases.reports.rollup import rebuild_weeks

    ReportSlice = apps.get_model("cases", "ReportSlice")
    span = ReportSlice.objects.filter(hour=-1).aggregate(first=Min("day"), last=Max("day"))
    if span["first"] is None:
        return
    monday = span["first"] - timedelta(days=span["first"].weekday())
    while monday <= span["last"]:
        rebuild_weeks([monday], model=ReportSlice)
        monday += timedelta(days=7)


def drop_week_slices(apps, schema_editor):
    apps.get_model("cases", "ReportSlice").objects.filter(hour=-7).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "2101_merge_2000_reports_hourly_slices_2100_weekly_export"),
    ]

    operations = [migrations.RunPython(build_week_slices, drop_week_slices)]
