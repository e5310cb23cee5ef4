"""Integrations are scoped to a tenant list (issue 8, finding 9).

Existing integrations get the tenants they have already written telemetry for (any kind), so every
integration in use keeps working for exactly the tenants it serves today and can write for no other.
An integration that has written nothing yet gets every tenant: there is nothing to infer its scope
from, refusing it outright would break a pipeline set up but not yet run, and an admin narrows it on
its page (README, "Integrations").
"""

from django.db import migrations, models

TELEMETRY = ["SLI", "Alert", "Deployment", "FeatureFlag", "ConfigSnapshot", "UsageMetric", "Experiment", "ResourceDependency"]


def scope_existing(apps, schema_editor):
    Integration = apps.get_model("tenants", "Integration")
    Tenant = apps.get_model("tenants", "Tenant")
    Scope = Integration.tenants.through
    written: dict[int, set[int]] = {}
    for name in TELEMETRY:
        model = apps.get_model("tenants", name)
        for integration_id, tenant_id in model.objects.values_list("integration_id", "tenant_id").distinct():
            written.setdefault(integration_id, set()).add(tenant_id)
    every = list(Tenant.objects.values_list("pk", flat=True))
    rows = [
        Scope(integration_id=integration_id, tenant_id=tenant_id)
        for integration_id in Integration.objects.values_list("pk", flat=True)
        for tenant_id in sorted(written.get(integration_id) or every)
    ]
    Scope.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0004_console_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="tenants",
            field=models.ManyToManyField(
                blank=True,
                help_text="The tenants it may send telemetry for; items for any other tenant are refused (403)",
                related_name="integrations",
                to="tenants.tenant",
            ),
        ),
        migrations.RunPython(scope_existing, migrations.RunPython.noop),
    ]
