"""The incident page's linked cases read in index order (issue 13's speed target: an incident with
5,000 linked cases showed its page by sorting all 5,000 case rows on every request).

Each link row (`incidents_incident_cases`, the Incident.cases m2m) carries copies of its case's
sort and scope keys — `case_closed` (the case is not open), `case_priority`, `case_tenant_id` —
kept by PostgreSQL triggers whatever writes the case or the link (the one write path in the database,
like cases.CaseSearch, cases/0550): filled when the link is inserted, followed when the case's status,
priority or tenant changes. One index, (incident, closed, priority, case) including the tenant,
gives the page's 50 rows (open first, then by priority and key; an agent's: of their tenants) and the
open count without touching the linked cases. `incidents.reach.verify` compares them with the cases,
`rebuild` rewrites them (`manage.py incidents_reach`).

The columns are not in the Django model state (the m2m's through table is auto-created): nothing in
Python writes them; incidents.reach and incidents.selectors read them in SQL.
"""

from django.db import migrations

OPEN = "('new', 'triage', 'in_progress', 'waiting_on_customer')"  # cases.choices.OPEN_STATUSES

FORWARD = f"""
ALTER TABLE incidents_incident_cases
    ADD COLUMN case_closed boolean NOT NULL DEFAULT false,
    ADD COLUMN case_priority smallint NOT NULL DEFAULT 3,
    ADD COLUMN case_tenant_id bigint;

UPDATE incidents_incident_cases ic
   SET case_closed = c.status NOT IN {OPEN}, case_priority = c.priority, case_tenant_id = c.tenant_id
  FROM cases_case c WHERE c.id = ic.case_id;

CREATE OR REPLACE FUNCTION incidents_link_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT c.status NOT IN {OPEN}, c.priority, c.tenant_id
      INTO NEW.case_closed, NEW.case_priority, NEW.case_tenant_id
      FROM cases_case c WHERE c.id = NEW.case_id;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION incidents_case_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE incidents_incident_cases
       SET case_closed = NEW.status NOT IN {OPEN}, case_priority = NEW.priority, case_tenant_id = NEW.tenant_id
     WHERE case_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER incidents_link_keys_ins BEFORE INSERT OR UPDATE OF case_id ON incidents_incident_cases
    FOR EACH ROW EXECUTE FUNCTION incidents_link_keys();
CREATE TRIGGER incidents_case_keys_upd AFTER UPDATE OF status, priority, tenant_id ON cases_case
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.priority IS DISTINCT FROM NEW.priority
                       OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)
    EXECUTE FUNCTION incidents_case_keys_changed();

CREATE INDEX incident_case_order_idx ON incidents_incident_cases
    (incident_id, case_closed, case_priority, case_id) INCLUDE (case_tenant_id);
"""

BACKWARD = """
DROP TRIGGER IF EXISTS incidents_case_keys_upd ON cases_case;
DROP TRIGGER IF EXISTS incidents_link_keys_ins ON incidents_incident_cases;
DROP FUNCTION IF EXISTS incidents_case_keys_changed();
DROP FUNCTION IF EXISTS incidents_link_keys();
DROP INDEX IF EXISTS incident_case_order_idx;
ALTER TABLE incidents_incident_cases DROP COLUMN IF EXISTS case_closed,
    DROP COLUMN IF EXISTS case_priority, DROP COLUMN IF EXISTS case_tenant_id;
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "1201_merge_20261202_2038"), ("cases", "2101_merge_2000_reports_hourly_slices_2100_weekly_export")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
