"""The weekly ops review became part of the weekly operations report (issue 17 point 9): its stored
Monday exports move into cases.WeeklyExport (kind "ops_review", their JSON and CSV as they were, so
earlier weeks stay downloadable), then OpsReview goes. A week already in WeeklyExport is kept."""

from django.db import migrations


def move(apps, schema_editor):
    OpsReview = apps.get_model("incidents", "OpsReview")
    WeeklyExport = apps.get_model("cases", "WeeklyExport")
    taken = set(WeeklyExport.objects.values_list("week_start", flat=True))
    rows = []
    for review in OpsReview.objects.order_by("week_start"):
        if review.week_start in taken:
            continue
        year, week, _ = review.week_start.isocalendar()
        rows.append(
            WeeklyExport(
                week_start=review.week_start,
                label=f"{year}-W{week:02d}",
                kind="ops_review",
                data=review.data,
                csv=review.csv,
                created_at=review.created_at,
            )
        )
    WeeklyExport.objects.bulk_create(rows)


def back(apps, schema_editor):
    OpsReview = apps.get_model("incidents", "OpsReview")
    WeeklyExport = apps.get_model("cases", "WeeklyExport")
    OpsReview.objects.bulk_create(
        OpsReview(week_start=e.week_start, data=e.data, csv=e.csv, created_at=e.created_at)
        for e in WeeklyExport.objects.filter(kind="ops_review")
    )
    WeeklyExport.objects.filter(kind="ops_review").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0900_merge_oncall_escalations"),
        ("cases", "2100_weekly_export"),
    ]

    operations = [
        migrations.RunPython(move, back),
        migrations.DeleteModel(name="OpsReview"),
    ]
