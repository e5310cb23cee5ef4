from django.db import migrations

DEFAULTS = {1: "SEV1", 2: "SEV2", 3: "SEV3", 4: "SEV3"}


def forwards(apps, schema_editor):
    SeverityMapping = apps.get_model("incidents", "SeverityMapping")
    for priority, severity in DEFAULTS.items():
        SeverityMapping.objects.get_or_create(priority=priority, defaults={"severity": severity})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0100_incident_records")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
