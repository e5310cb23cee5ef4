"""The built-in runbooks, articles, macros and error codes of the seeds (runbooks.builtins)."""

from django.db import migrations


def forward(apps, schema_editor):
    from runbooks.builtins import install

    install(lambda name: apps.get_model("runbooks", name))


class Migration(migrations.Migration):
    dependencies = [("runbooks", "0100_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
