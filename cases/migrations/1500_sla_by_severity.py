"""Seed 004's time to acknowledge / time to mitigate keyed on the case's severity: the clock kinds,
the policy's `severity_targets`, the case's `mitigated_at`; policies already loaded from the seed-004
preset get its severity targets (as `load_preset` would give them)."""

from datetime import timedelta

from django.db import migrations, models


def forward(apps, schema_editor):
    from cases.sla.presets import preset_severity_targets

    Policy = apps.get_model("cases", "SLAPolicy")
    for policy in Policy.objects.filter(preset__startswith="seed-004:", severity_targets={}):
        business_ok = policy.calendar_id is not None
        policy.severity_targets = {
            severity: {
                kind: {"minutes": round(duration.total_seconds() / 60, 2), "business": business and business_ok}
                for kind, (duration, business) in rows.items()
            }
            for severity, rows in preset_severity_targets("seed-004", hours_per_day=timedelta(hours=8)).items()
        }
        policy.save(update_fields=["severity_targets"])


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '1400_reports_rollup'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='mitigated_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='slapolicy',
            name='severity_targets',
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.AlterField(
            model_name='slaclock',
            name='kind',
            field=models.CharField(choices=[('first_response', 'First response'), ('resolution', 'Resolution'), ('update', 'Customer update'), ('acknowledge', 'Time to acknowledge'), ('mitigate', 'Time to mitigate')], max_length=20),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
