"""The queue's search document (cases.CaseSearch), kept by PostgreSQL triggers, replacing the two
trigram indexes on subject and description (issue 10: one index over everything searched, with
statistics the planner can use; the conversation searched too).

The document of a case: its id, subject (weight A), description (B, the first 50,000
characters) and its public messages and internal notes (the newest first, 150,000 characters in
all), parsed with the `simple` configuration (no stemming, no stop words: error codes, hostnames
and any language are searched as written, by word prefix). Bounded so it stays well under
PostgreSQL's 1 MB tsvector limit.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

MESSAGE_KINDS = "('inbound', 'reply', 'note')"

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION cases_search_document(case_id bigint) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('simple', c.id::text || ' ' || coalesce(c.subject, '')), 'A')
        || setweight(to_tsvector('simple', left(coalesce(c.description, ''), 50000)), 'B')
        || coalesce((
            SELECT to_tsvector('simple', left(string_agg(m.body, E'\\n' ORDER BY m.id DESC), 150000))
            FROM cases_interaction m
            WHERE m.case_id = c.id AND m.kind IN {MESSAGE_KINDS} AND m.body <> ''
        ), ''::tsvector)
    FROM cases_case c WHERE c.id = $1
$$;

CREATE OR REPLACE FUNCTION cases_search_case_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cases_casesearch (case_id, document) VALUES (NEW.id, cases_search_document(NEW.id))
    ON CONFLICT (case_id) DO UPDATE SET document = EXCLUDED.document;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cases_search_case_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases_casesearch SET document = cases_search_document(NEW.id) WHERE case_id = NEW.id;
    RETURN NULL;
END $$;

-- A message added, edited, moved (a merge) or removed: UPDATE only (a case being deleted has
-- lost its document already and must not get it back).
CREATE OR REPLACE FUNCTION cases_search_message_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE cases_casesearch SET document = cases_search_document(NEW.case_id) WHERE case_id = NEW.case_id;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.case_id <> NEW.case_id) THEN
        UPDATE cases_casesearch SET document = cases_search_document(OLD.case_id) WHERE case_id = OLD.case_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_search_case_ins AFTER INSERT ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_search_case_inserted();
CREATE TRIGGER cases_search_case_upd AFTER UPDATE OF subject, description ON cases_case
    FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION cases_search_case_changed();
CREATE TRIGGER cases_search_message_ins AFTER INSERT ON cases_interaction
    FOR EACH ROW WHEN (NEW.kind IN {MESSAGE_KINDS}) EXECUTE FUNCTION cases_search_message_changed();
CREATE TRIGGER cases_search_message_upd AFTER UPDATE OF body, kind, case_id ON cases_interaction
    FOR EACH ROW WHEN ((OLD.kind IN {MESSAGE_KINDS} OR NEW.kind IN {MESSAGE_KINDS})
        AND (OLD.body IS DISTINCT FROM NEW.body OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.case_id <> NEW.case_id))
    EXECUTE FUNCTION cases_search_message_changed();
CREATE TRIGGER cases_search_message_del AFTER DELETE ON cases_interaction
    FOR EACH ROW WHEN (OLD.kind IN {MESSAGE_KINDS}) EXECUTE FUNCTION cases_search_message_changed();

INSERT INTO cases_casesearch (case_id, document)
SELECT id, cases_search_document(id) FROM cases_case
ON CONFLICT (case_id) DO NOTHING;

DROP INDEX IF EXISTS case_subject_trgm_idx;
DROP INDEX IF EXISTS case_description_trgm_idx;
"""

TRIGGERS_DROP = """
DROP TRIGGER IF EXISTS cases_search_case_ins ON cases_case;
DROP TRIGGER IF EXISTS cases_search_case_upd ON cases_case;
DROP TRIGGER IF EXISTS cases_search_message_ins ON cases_interaction;
DROP TRIGGER IF EXISTS cases_search_message_upd ON cases_interaction;
DROP TRIGGER IF EXISTS cases_search_message_del ON cases_interaction;
DROP FUNCTION IF EXISTS cases_search_case_inserted();
DROP FUNCTION IF EXISTS cases_search_case_changed();
DROP FUNCTION IF EXISTS cases_search_message_changed();
DROP FUNCTION IF EXISTS cases_search_document(bigint);
CREATE INDEX IF NOT EXISTS case_subject_trgm_idx ON cases_case USING gin (upper(subject::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS case_description_trgm_idx ON cases_case USING gin (upper(description) gin_trgm_ops);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS_DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0500_case_classification_and_waiting")]

    operations = [
        migrations.CreateModel(
            name="CaseSearch",
            fields=[
                (
                    "case",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_doc",
                        serialize=False,
                        to="cases.case",
                    ),
                ),
                ("document", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(fields=["document"], name="case_search_doc_idx")
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
