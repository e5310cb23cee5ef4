"""The search document reads at most the newest 200 messages of a case (it keeps 150,000 characters
of them anyway): a case with thousands of notes no longer aggregates all of them on every new one."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION cases_search_document(case_id bigint) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('simple', c.id::text || ' ' || coalesce(c.subject, '')), 'A')
        || setweight(to_tsvector('simple', left(coalesce(c.description, ''), 50000)), 'B')
        || coalesce((
            SELECT to_tsvector('simple', left(string_agg(m.body, E'\\n' ORDER BY m.id DESC), 150000))
            FROM (
                SELECT i.id, left(i.body, 150000) AS body FROM cases_interaction i
                WHERE i.case_id = c.id AND i.kind IN ('inbound', 'reply', 'note') AND i.body <> ''
                ORDER BY i.id DESC LIMIT 200
            ) m
        ), ''::tsvector)
    FROM cases_case c WHERE c.id = $1
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("cases", "0801_reply_webhook")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
