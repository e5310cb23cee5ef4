"""TRUNCATE does not fire row triggers, so `auditlogflush --truncate` could still empty the audit
table. A statement trigger refuses it too. The test suite's database flush (pytest-django clears
transactional tests' tables with TRUNCATE) sets `companyos.allow_audit_truncate=on` on its own
connections only (settings, TESTING)."""
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION companyos_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('companyos.allow_audit_truncate', true), 'off') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit log entries are immutable (TRUNCATE refused on auditlog_logentry)'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS companyos_audit_no_truncate ON auditlog_logentry;
CREATE TRIGGER companyos_audit_no_truncate BEFORE TRUNCATE ON auditlog_logentry
    FOR EACH STATEMENT EXECUTE FUNCTION companyos_audit_no_truncate();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS companyos_audit_no_truncate ON auditlog_logentry;
DROP FUNCTION IF EXISTS companyos_audit_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("companyos", "0003_audit_immutable")]
    operations = [migrations.RunPython(forward, backward)]
