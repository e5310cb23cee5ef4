"""On PostgreSQL the audit table refuses UPDATE and DELETE: the trail cannot be rewritten from the
application (auditlogflush, the admin, a stray queryset.delete()) — only by a DBA dropping the trigger."""
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION companyos_audit_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit log entries are immutable (%% refused on auditlog_logentry)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS companyos_audit_immutable ON auditlog_logentry;
CREATE TRIGGER companyos_audit_immutable BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION companyos_audit_immutable();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS companyos_audit_immutable ON auditlog_logentry;
DROP FUNCTION IF EXISTS companyos_audit_immutable();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("companyos", "0002_roles"), ("auditlog", "0017_add_actor_email")]
    operations = [migrations.RunPython(forward, backward)]
