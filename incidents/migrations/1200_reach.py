"""Issue 13 (speed at 1M): what an incident reaches, denormalised (IncidentTenant, IncidentResource),
filled here from the existing links (incidents.reach.rebuild), and an index for the list's default
order."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    from incidents import reach

    reach.rebuild(link_keys=False)  # the link rows' case keys come later (1300)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '1900_merge_severity_residency'),
        ('incidents', '0900_merge_oncall_escalations'),
        ('tenants', '1900_merge_access_consent'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='IncidentResource',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cases', models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='IncidentTenant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cases', models.IntegerField(default=0)),
                ('named', models.BooleanField(default=False)),
                ('resources', models.IntegerField(default=0)),
            ],
        ),
        migrations.AddIndex(
            model_name='incident',
            index=models.Index(fields=['-started_at', '-id'], name='incident_started_idx'),
        ),
        migrations.AddField(
            model_name='incidentresource',
            name='incident',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='resource_reach', to='incidents.incident'),
        ),
        migrations.AddField(
            model_name='incidentresource',
            name='resource',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.resource'),
        ),
        migrations.AddField(
            model_name='incidenttenant',
            name='incident',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tenant_reach', to='incidents.incident'),
        ),
        migrations.AddField(
            model_name='incidenttenant',
            name='tenant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenants.tenant'),
        ),
        migrations.AddConstraint(
            model_name='incidentresource',
            constraint=models.UniqueConstraint(fields=('incident', 'resource'), name='incident_resource_once'),
        ),
        migrations.AddIndex(
            model_name='incidenttenant',
            index=models.Index(fields=['tenant', 'incident'], name='incident_tenant_scope_idx'),
        ),
        migrations.AddConstraint(
            model_name='incidenttenant',
            constraint=models.UniqueConstraint(fields=('incident', 'tenant'), name='incident_tenant_once'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
