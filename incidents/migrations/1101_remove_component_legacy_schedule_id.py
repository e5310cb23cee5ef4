"""The old bare schedule id of the component ownership map, copied into the foreign key by 1100."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "1100_component_oncall_schedule"),
    ]

    operations = [
        migrations.RemoveField(model_name="component", name="legacy_oncall_schedule_id"),
    ]
