"""The reports' priority pairs and week slices (cases.reports.cells: PAIRS, WEEK), for the rollups
already built: no schema change, new ReportSlice rows only.

- The priority pairs (dims pcat, pchan, pteam, powner, ptenant, ptag; value "<priority>:<value>") of
  every day, added up in SQL from the cube cells (ReportHour) as stored, per tenant and for all
  tenants — the rows cells.slices_of derives from the same cells.
- The week slices (hour −7, day the UTC Monday) of every week: its days' slices added up, every
  dimension but priority (the sums in SQL, as cases.reports.rollup.rebuild_weeks does in Python).

A day still marked dirty is rebuilt whole by the sweep; `manage.py reports_rollup --rebuild` rebuilds
everything the same way (run it after migrating if the rollups were written around the services)."""

from django.db import migrations

MEASURES = (
    "created fr_n fr_us res_n res_us resolutions reopened reopened_7d closed_confirmed closed_auto "
    "closed_unconfirmed surveys_sent answered satisfied csat_sum nps_n promoters detractors low"
).split()
COLUMNS = ", ".join(MEASURES)
SUMS = ", ".join(f"sum({m})" for m in MEASURES)
ZEROS = ", ".join("0" for _ in MEASURES[1:])
CUBE = "(SELECT (hour AT TIME ZONE 'UTC')::date AS day, * FROM cases_reporthour)"


def pair_sql(dim: str, column: str) -> str:
    """One priority pair's day rows from the cube, per tenant and for all tenants (tenant NULL); the
    team and owner pairs with their summed bucket arrays (ascending buckets, as cells keeps them)."""
    value = f"priority || ':' || COALESCE({column}::text, '')"
    sums = (
        f"SELECT day, tenant_id AS t, {value} AS v, "
        + ", ".join(f"sum({m}) AS {m}" for m in MEASURES)
        + f" FROM {CUBE} c GROUP BY day, {value}, GROUPING SETS ((tenant_id), ())"
    )
    head = f"INSERT INTO cases_reportslice (day, hour, tenant_id, dim, value, {COLUMNS}, fr_b, fr_c, res_b, res_c) "
    if dim not in ("pteam", "powner"):
        return head + f"SELECT day, -1, t, '{dim}', v, {COLUMNS}, '{{}}', '{{}}', '{{}}', '{{}}' FROM ({sums}) s"
    hists = []
    for metric in ("fr", "res"):
        hists.append(
            f"{metric} AS (SELECT day, t, v, array_agg(b ORDER BY b) AS b, array_agg(n ORDER BY b) AS n FROM ("
            f"SELECT day, tenant_id AS t, {value} AS v, u.b, sum(u.c)::int AS n FROM {CUBE} c, "
            f"unnest(c.{metric}_b, c.{metric}_c) AS u(b, c) GROUP BY day, {value}, u.b, GROUPING SETS ((tenant_id), ())"
            ") x GROUP BY day, t, v)"
        )
    join = "{0}.day = s.day AND {0}.v = s.v AND COALESCE({0}.t, -1) = COALESCE(s.t, -1)"
    return (
        f"WITH s AS ({sums}), {', '.join(hists)} "
        + head
        + f"SELECT s.day, -1, s.t, '{dim}', s.v, "
        + ", ".join(f"s.{m}" for m in MEASURES)
        + ", COALESCE(fr.b, '{}'), COALESCE(fr.n, '{}'), COALESCE(res.b, '{}'), COALESCE(res.n, '{}') FROM s "
        f"LEFT JOIN fr ON {join.format('fr')} LEFT JOIN res ON {join.format('res')}"
    )


TAG_PAIRS = f"""
    INSERT INTO cases_reportslice (day, hour, tenant_id, dim, value, {COLUMNS}, fr_b, fr_c, res_b, res_c)
    SELECT day, -1, t, 'ptag', v, n, {ZEROS}, '{{}}', '{{}}', '{{}}', '{{}}' FROM (
        SELECT day, tenant_id AS t, priority || ':' || u.b AS v, sum(u.c) AS n
        FROM {CUBE} c, unnest(c.tag_b, c.tag_c) AS u(b, c)
        GROUP BY day, priority || ':' || u.b, GROUPING SETS ((tenant_id), ())
    ) x WHERE n > 0
"""

WEEK_OF = "(day - (extract(isodow FROM day)::int - 1))"
DAY_ROWS = "(SELECT * FROM cases_reportslice WHERE hour = -1 AND dim <> 'priority')"


def week_sql() -> str:
    """Every week slice from the day slices (cells.weeks_of, in SQL): sums, and the summed bucket
    arrays of the team and owner rows and pairs."""
    sums = (
        f"SELECT {WEEK_OF} AS w, tenant_id AS t, dim, value AS v, "
        + ", ".join(f"sum({m}) AS {m}" for m in MEASURES)
        + f" FROM {DAY_ROWS} d GROUP BY 1, 2, 3, 4"
    )
    hists = [
        f"{metric} AS (SELECT w, t, dim, v, array_agg(b ORDER BY b) AS b, array_agg(n ORDER BY b) AS n FROM ("
        f"SELECT {WEEK_OF} AS w, tenant_id AS t, dim, value AS v, u.b, sum(u.c)::int AS n FROM {DAY_ROWS} d, "
        f"unnest(d.{metric}_b, d.{metric}_c) AS u(b, c) WHERE dim IN ('team', 'owner', 'pteam', 'powner') "
        "GROUP BY 1, 2, 3, 4, 5) x GROUP BY 1, 2, 3, 4)"
        for metric in ("fr", "res")
    ]
    join = (
        "{0}.w = s.w AND {0}.dim = s.dim AND COALESCE({0}.v, '') = COALESCE(s.v, '') "
        "AND COALESCE({0}.t, -1) = COALESCE(s.t, -1)"
    )
    return (
        f"WITH s AS ({sums}), {', '.join(hists)} "
        f"INSERT INTO cases_reportslice (day, hour, tenant_id, dim, value, {COLUMNS}, fr_b, fr_c, res_b, res_c) "
        "SELECT s.w, -7, s.t, s.dim, s.v, "
        + ", ".join(f"s.{m}" for m in MEASURES)
        + ", COALESCE(fr.b, '{}'), COALESCE(fr.n, '{}'), COALESCE(res.b, '{}'), COALESCE(res.n, '{}') FROM s "
        f"LEFT JOIN fr ON {join.format('fr')} LEFT JOIN res ON {join.format('res')}"
    )


PAIRS = {"pcat": "category", "pchan": "channel", "pteam": "team_id", "powner": "owner_id", "ptenant": "tenant_id"}


def build(apps, schema_editor):
    ReportSlice = apps.get_model("cases", "ReportSlice")
    ReportSlice.objects.filter(dim__in=[*PAIRS, "ptag"]).delete()
    ReportSlice.objects.filter(hour=-7).delete()
    with schema_editor.connection.cursor() as cursor:
        for dim, column in PAIRS.items():
            cursor.execute(pair_sql(dim, column))
        cursor.execute(TAG_PAIRS)
        cursor.execute(week_sql())
        cursor.execute("ANALYZE cases_reportslice")  # the planner's row counts include the new rows


def drop(apps, schema_editor):
    ReportSlice = apps.get_model("cases", "ReportSlice")
    ReportSlice.objects.filter(dim__in=[*PAIRS, "ptag"]).delete()
    ReportSlice.objects.filter(hour=-7).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "2101_merge_2000_reports_hourly_slices_2100_weekly_export"),
    ]

    operations = [migrations.RunPython(build, drop)]
