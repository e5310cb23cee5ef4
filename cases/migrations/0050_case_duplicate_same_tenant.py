"""A case is a duplicate only of another case of its own tenant (issue 8, finding 6): a check
constraint refuses a case that is its own duplicate, and on PostgreSQL a constraint trigger,
checked at commit (so a bulk load may insert a duplicate before the case it points at), refuses a
`duplicate_of` in another tenant, also when a case's tenant changes under its duplicates."""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION cases_case_duplicate_same_tenant() RETURNS trigger AS $$
BEGIN
    -- Checked at commit: read the row as it is now, not as the event saw it.
    IF EXISTS (
        SELECT 1 FROM cases_case c JOIN cases_case d ON d.id = c.duplicate_of_id
        WHERE c.id = NEW.id AND d.tenant_id <> c.tenant_id
    ) THEN
        RAISE EXCEPTION 'case % is marked a duplicate of a case of another tenant', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.tenant_id IS DISTINCT FROM OLD.tenant_id AND EXISTS (
        SELECT 1 FROM cases_case c JOIN cases_case d ON d.id = c.duplicate_of_id
        WHERE d.id = NEW.id AND c.tenant_id <> d.tenant_id
    ) THEN
        RAISE EXCEPTION 'case % has duplicates in another tenant', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS cases_case_duplicate_same_tenant_ins ON cases_case;
CREATE CONSTRAINT TRIGGER cases_case_duplicate_same_tenant_ins
    AFTER INSERT ON cases_case DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.duplicate_of_id IS NOT NULL)
    EXECUTE FUNCTION cases_case_duplicate_same_tenant();
DROP TRIGGER IF EXISTS cases_case_duplicate_same_tenant_upd ON cases_case;
CREATE CONSTRAINT TRIGGER cases_case_duplicate_same_tenant_upd
    AFTER UPDATE OF duplicate_of_id, tenant_id ON cases_case DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.duplicate_of_id IS NOT NULL OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id)
    EXECUTE FUNCTION cases_case_duplicate_same_tenant();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS cases_case_duplicate_same_tenant_ins ON cases_case;
DROP TRIGGER IF EXISTS cases_case_duplicate_same_tenant_upd ON cases_case;
DROP FUNCTION IF EXISTS cases_case_duplicate_same_tenant();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_case_followers")]
    operations = [
        migrations.AddConstraint(
            model_name="case",
            constraint=models.CheckConstraint(
                condition=models.Q(("duplicate_of__isnull", True), models.Q(("duplicate_of", models.F("id")), _negated=True), _connector="OR"),
                name="case_not_own_duplicate",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
