"""The component ownership map's on-call schedule becomes a real foreign key to incidents.Schedule
(it was a bare nullable id). The old column is renamed aside, the foreign key added, every old id
that names an existing schedule copied over (ids that resolve to nothing are dropped: they paged
nobody), then the old column removed (1101: PostgreSQL does not alter a table with the copy's deferred
foreign-key checks pending in the same transaction). Reversible: the reverse copies the key back into the id."""

import django.db.models.deletion
from django.db import migrations, models


def copy_resolving_ids(apps, schema_editor):
    Component = apps.get_model("incidents", "Component")
    Schedule = apps.get_model("incidents", "Schedule")
    known = set(Schedule.objects.values_list("pk", flat=True))
    for component in Component.objects.filter(legacy_oncall_schedule_id__isnull=False):
        if component.legacy_oncall_schedule_id in known:
            component.oncall_schedule_id = component.legacy_oncall_schedule_id
            component.save(update_fields=["oncall_schedule"])


def copy_back(apps, schema_editor):
    Component = apps.get_model("incidents", "Component")
    for component in Component.objects.filter(oncall_schedule__isnull=False):
        component.legacy_oncall_schedule_id = component.oncall_schedule_id
        component.save(update_fields=["legacy_oncall_schedule_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0900_merge_oncall_escalations"),
    ]

    operations = [
        migrations.RenameField(
            model_name="component", old_name="oncall_schedule_id", new_name="legacy_oncall_schedule_id"
        ),
        migrations.AddField(
            model_name="component",
            name="oncall_schedule",
            field=models.ForeignKey(
                blank=True,
                help_text="whose current on-call person an engineering escalation notifies (none: the whole team)",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="components",
                to="incidents.schedule",
                verbose_name="on-call schedule",
            ),
        ),
        migrations.RunPython(copy_resolving_ids, copy_back),
    ]
