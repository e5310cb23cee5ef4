"""Trigram indexes for the queue's text search (PostgreSQL) and the built-in saved views."""
from django.db import migrations

TRIGRAM = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS case_subject_trgm_idx ON cases_case USING gin (upper(subject::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS case_description_trgm_idx ON cases_case USING gin (upper(description) gin_trgm_ops);
"""
TRIGRAM_DROP = """
DROP INDEX IF EXISTS case_subject_trgm_idx;
DROP INDEX IF EXISTS case_description_trgm_idx;
"""

BUILTIN_VIEWS = [
    ("My open cases", "status=open&owner=me", 1),
    ("Unassigned critical/high", "status=open&owner=unassigned&priority=critical&priority=high", 2),
    ("Waiting on customer > 24h", "status=waiting_on_customer&in_status_hours=24&sort=stale", 3),
    ("All open", "status=open", 4),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGRAM)
    SavedView = apps.get_model("cases", "SavedView")
    for name, query, position in BUILTIN_VIEWS:
        SavedView.objects.update_or_create(name=name, builtin=True, owner=None, defaults={"query": query, "position": position})


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGRAM_DROP)
    apps.get_model("cases", "SavedView").objects.filter(builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
