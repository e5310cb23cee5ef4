"""What an incident reaches, kept incrementally: per tenant (IncidentTenant: linked cases, named as
affected, own resources) and per resource its linked cases name (IncidentResource: how many cases).

Receivers on the incident's m2m links (cases, tenants, resources) apply each change inside the
writer's transaction (the services write links under the incident's row lock); others follow a
linked case's affected resources (the case's m2m) and a deleted case. Every change is a delta applied in SQL
(INSERT … ON CONFLICT … DO UPDATE SET n = n + delta), so two writers never lose a count, and a row
whose counts all reach zero is deleted. `recompute` builds the same rows from the links themselves:
`verify` compares, `rebuild` replaces (the migration that introduced the tables, and
`manage.py incidents_reach`).

Each link row also carries its case's sort and scope keys (closed, priority, tenant: migration
incidents/1300), kept by PostgreSQL triggers on the link and on the case; `verify` compares them with
the cases too and `rebuild` rewrites them."""

from __future__ import annotations

from django.db import connection

from cases.models import Case
from tenants.models import Resource

from .models import Incident, IncidentResource, IncidentTenant

T = IncidentTenant._meta.db_table
R = IncidentResource._meta.db_table
IC = Incident.cases.through._meta.db_table
IT = Incident.tenants.through._meta.db_table
IR = Incident.resources.through._meta.db_table
C = Case._meta.db_table
CAR = Case.affected_resources.through._meta.db_table
RES = Resource._meta.db_table


def _run(sql: str, params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _prune(incident_ids_sql: str, params) -> None:
    _run(
        f"DELETE FROM {T} WHERE incident_id IN ({incident_ids_sql}) AND cases <= 0 AND NOT named AND resources <= 0",
        params,
    )
    _run(f"DELETE FROM {R} WHERE incident_id IN ({incident_ids_sql}) AND cases <= 0", params)


def _cases_delta(incident_id: int, case_ids: list[int], sign: int) -> None:
    if not case_ids:
        return
    _run(
        f"""INSERT INTO {T} (incident_id, tenant_id, cases, named, resources)
            SELECT %s, c.tenant_id, %s * COUNT(*), false, 0 FROM {C} c WHERE c.id = ANY(%s) GROUP BY c.tenant_id
            ON CONFLICT (incident_id, tenant_id) DO UPDATE SET cases = {T}.cases + EXCLUDED.cases""",
        [incident_id, sign, case_ids],
    )
    _run(
        f"""INSERT INTO {R} (incident_id, resource_id, cases)
            SELECT %s, car.resource_id, %s * COUNT(*) FROM {CAR} car WHERE car.case_id = ANY(%s)
            GROUP BY car.resource_id
            ON CONFLICT (incident_id, resource_id) DO UPDATE SET cases = {R}.cases + EXCLUDED.cases""",
        [incident_id, sign, case_ids],
    )
    if sign < 0:
        _prune("%s", [incident_id])


def cases_linked(incident_id: int, case_ids, sign: int = 1) -> None:
    """`case_ids` were just linked to (+1) or unlinked from (-1) the incident (the link rows written)."""
    _cases_delta(incident_id, sorted({int(pk) for pk in case_ids}), sign)


def tenants_named(incident_id: int, tenant_ids, sign: int) -> None:
    """The incident names (+1) or no longer names (-1) these tenants as affected."""
    tenant_ids = sorted({int(t) for t in tenant_ids})
    if not tenant_ids:
        return
    _run(
        f"""INSERT INTO {T} (incident_id, tenant_id, cases, named, resources)
            SELECT %s, t, 0, %s, 0 FROM unnest(%s::bigint[]) AS t
            ON CONFLICT (incident_id, tenant_id) DO UPDATE SET named = EXCLUDED.named""",
        [incident_id, sign > 0, tenant_ids],
    )
    if sign < 0:
        _prune("%s", [incident_id])


def resources_owned(incident_id: int, resource_ids, sign: int) -> None:
    """The incident names (+1) or no longer names (-1) these resources as its own."""
    resource_ids = sorted({int(r) for r in resource_ids})
    if not resource_ids:
        return
    _run(
        f"""INSERT INTO {T} (incident_id, tenant_id, cases, named, resources)
            SELECT %s, r.tenant_id, 0, false, %s * COUNT(*) FROM {RES} r WHERE r.id = ANY(%s) GROUP BY r.tenant_id
            ON CONFLICT (incident_id, tenant_id) DO UPDATE SET resources = {T}.resources + EXCLUDED.resources""",
        [incident_id, sign, resource_ids],
    )
    if sign < 0:
        _prune("%s", [incident_id])


def case_resources_changed(case_ids, resource_ids, sign: int) -> None:
    """Linked cases `case_ids` now name (+1) or no longer name (-1) `resource_ids`: every incident
    they are linked to follows. One statement when adding (nothing happens for an unlinked case)."""
    case_ids, resource_ids = sorted({int(c) for c in case_ids}), sorted({int(r) for r in resource_ids})
    if not case_ids or not resource_ids:
        return
    _run(
        f"""INSERT INTO {R} (incident_id, resource_id, cases)
            SELECT ic.incident_id, r, %s * COUNT(*) FROM {IC} ic, unnest(%s::bigint[]) AS r
            WHERE ic.case_id = ANY(%s) GROUP BY ic.incident_id, r
            ON CONFLICT (incident_id, resource_id) DO UPDATE SET cases = {R}.cases + EXCLUDED.cases""",
        [sign, resource_ids, case_ids],
    )
    if sign < 0:
        _run(
            f"""DELETE FROM {R} WHERE cases <= 0
                AND incident_id IN (SELECT incident_id FROM {IC} WHERE case_id = ANY(%s))""",
            [case_ids],
        )


def case_deleted(case_id: int) -> None:
    """A case is about to be deleted (its link rows go with it, without the m2m signal)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT incident_id FROM {IC} WHERE case_id = %s", [case_id])
        incident_ids = [row[0] for row in cursor.fetchall()]
    for incident_id in incident_ids:
        _cases_delta(incident_id, [case_id], -1)


# --- recomputation -------------------------------------------------------------------------------------


def _where(ids, column: str = "incident_id") -> tuple[str, list]:
    return (f"WHERE {column} = ANY(%s)", [list(ids)]) if ids is not None else ("", [])


def _recomputed_tenants_sql(ids) -> tuple[str, list]:
    where, params = _where(ids)
    return (
        f"""SELECT incident_id, tenant_id, SUM(cases)::int, BOOL_OR(named), SUM(resources)::int FROM (
                SELECT ic.incident_id, c.tenant_id, COUNT(*) AS cases, false AS named, 0 AS resources
                  FROM {IC} ic JOIN {C} c ON c.id = ic.case_id GROUP BY 1, 2
                UNION ALL SELECT incident_id, tenant_id, 0, true, 0 FROM {IT}
                UNION ALL SELECT ir.incident_id, r.tenant_id, 0, false, COUNT(*)
                  FROM {IR} ir JOIN {RES} r ON r.id = ir.resource_id GROUP BY 1, 2
            ) x {where} GROUP BY 1, 2""",
        params,
    )


def _recomputed_resources_sql(ids) -> tuple[str, list]:
    where, params = _where(ids, "ic.incident_id")
    return (
        f"""SELECT ic.incident_id, car.resource_id, COUNT(*)::int FROM {IC} ic
            JOIN {CAR} car ON car.case_id = ic.case_id {where} GROUP BY 1, 2""",
        params,
    )


OPEN_SQL = "('new', 'triage', 'in_progress', 'waiting_on_customer')"  # as in migration 1300


def _link_keys_sql(ids, *, recomputed: bool) -> tuple[str, list]:
    where, params = _where(ids, "ic.incident_id")
    if recomputed:
        return (
            f"""SELECT ic.incident_id, ic.case_id, c.status NOT IN {OPEN_SQL}, c.priority::int, c.tenant_id
                FROM {IC} ic JOIN {C} c ON c.id = ic.case_id {where}""",
            params,
        )
    return (
        f"""SELECT ic.incident_id, ic.case_id, ic.case_closed, ic.case_priority::int, ic.case_tenant_id
            FROM {IC} ic {where}""",
        params,
    )


def _rows(sql: str, params) -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return set(map(tuple, cursor.fetchall()))


def stored(ids=None) -> tuple[set[tuple], set[tuple], set[tuple]]:
    where, params = _where(ids)
    tenants = _rows(f"SELECT incident_id, tenant_id, cases, named, resources FROM {T} {where}", params)
    resources = _rows(f"SELECT incident_id, resource_id, cases FROM {R} {where}", params)
    return tenants, resources, _rows(*_link_keys_sql(ids, recomputed=False))


def recompute(ids=None) -> tuple[set[tuple], set[tuple], set[tuple]]:
    """The rows as the links say they should be (tenants, resources, the link rows' case keys)."""
    return (
        _rows(*_recomputed_tenants_sql(ids)),
        _rows(*_recomputed_resources_sql(ids)),
        _rows(*_link_keys_sql(ids, recomputed=True)),
    )


def verify(ids=None) -> list[int]:
    """The incidents whose stored reach (or a link row's case keys) differs from a recomputation
    ([] when all agree)."""
    (st, sr, sk), (rt, rr, rk) = stored(ids), recompute(ids)
    return sorted({row[0] for row in (st ^ rt) | (sr ^ rr) | (sk ^ rk)})


def rebuild(ids=None, *, link_keys: bool = True) -> None:
    """Replace the stored rows of `ids` (None: every incident) by the recomputation, and rewrite the
    link rows' case keys that differ from their cases (`link_keys`)."""
    where, params = _where(ids)
    _run(f"DELETE FROM {T} {where}", params)
    _run(f"DELETE FROM {R} {where}", params)
    sql, params = _recomputed_tenants_sql(ids)
    _run(f"INSERT INTO {T} (incident_id, tenant_id, cases, named, resources) {sql}", params)
    sql, params = _recomputed_resources_sql(ids)
    _run(f"INSERT INTO {R} (incident_id, resource_id, cases) {sql}", params)
    if not link_keys:
        return
    where, params = _where(ids, "ic.incident_id")
    _run(
        f"""UPDATE {IC} ic SET case_closed = c.status NOT IN {OPEN_SQL}, case_priority = c.priority,
                case_tenant_id = c.tenant_id
            FROM {C} c WHERE c.id = ic.case_id {where.replace("WHERE", "AND")}
            AND (ic.case_closed, ic.case_priority, ic.case_tenant_id)
                IS DISTINCT FROM (c.status NOT IN {OPEN_SQL}, c.priority, c.tenant_id)""",
        params,
    )


# --- receivers (connected in IncidentsConfig.ready) -------------------------------------------------------
#
# Every change to the links goes through the m2m managers (`incident.cases.add(...)`, `.remove`, `.set`,
# `.clear`, from either side), so m2m_changed sees them all, in the writer's transaction. A bulk insert
# of link rows (the benchmark's loader) bypasses it and calls `rebuild` for its incidents.


def _m2m(apply, pairs_of):
    """A receiver for one m2m: `apply(incident_id, other_ids, sign)`; `pairs_of(instance, reverse)`
    reads the current partners before a clear."""

    def receiver(sender, instance, action, reverse, pk_set, **kwargs):
        # A remove names the ids asked for, linked or not: only those linked now count (read before).
        if action in ("pre_clear", "pre_remove"):
            current = pairs_of(sender, instance, reverse)
            instance._reach_removed = current if action == "pre_clear" else set(current) & set(pk_set or ())
            return
        if action in ("post_clear", "post_remove"):
            pk_set, sign = set(getattr(instance, "_reach_removed", ())), -1
        elif action == "post_add":
            sign = 1
        else:
            return
        if not pk_set:
            return
        if reverse:  # instance is the case / tenant / resource, pk_set the incidents
            for incident_id in sorted(pk_set):
                apply(incident_id, [instance.pk], sign)
        else:
            apply(instance.pk, pk_set, sign)

    return receiver


def _partners(sender, instance, reverse):
    fields = {f.name: f for f in sender._meta.get_fields() if f.is_relation and f.many_to_one}
    incident_field = next(name for name, f in fields.items() if f.related_model is Incident)
    other_field = next(name for name in fields if name != incident_field)
    mine, theirs = (other_field, incident_field) if reverse else (incident_field, other_field)
    return list(sender.objects.filter(**{f"{mine}_id": instance.pk}).values_list(f"{theirs}_id", flat=True))


on_cases_changed = _m2m(cases_linked, _partners)
on_tenants_changed = _m2m(tenants_named, _partners)
on_resources_changed = _m2m(resources_owned, _partners)


def on_affected_resources_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Case.affected_resources changed: forward (a case's resources) or reverse (a resource's cases)."""
    if action in ("pre_clear", "pre_remove"):
        through = Case.affected_resources.through.objects
        if reverse:
            current = through.filter(resource_id=instance.pk).values_list("case_id", flat=True)
        else:
            current = through.filter(case_id=instance.pk).values_list("resource_id", flat=True)
        instance._reach_removed = set(current) if action == "pre_clear" else set(current) & set(pk_set or ())
        return
    if action in ("post_clear", "post_remove"):
        pk_set, sign = set(getattr(instance, "_reach_removed", ())), -1
    elif action == "post_add":
        sign = 1
    else:
        return
    if not pk_set:
        return
    if reverse:
        case_resources_changed(pk_set, [instance.pk], sign)
    else:
        case_resources_changed([instance.pk], pk_set, sign)


def on_case_deleted(sender, instance, **kwargs):
    case_deleted(instance.pk)


def connect() -> None:
    from django.db.models.signals import m2m_changed, pre_delete

    m2m_changed.connect(on_cases_changed, sender=Incident.cases.through, dispatch_uid="reach-cases")
    m2m_changed.connect(on_tenants_changed, sender=Incident.tenants.through, dispatch_uid="reach-tenants")
    m2m_changed.connect(on_resources_changed, sender=Incident.resources.through, dispatch_uid="reach-resources")
    m2m_changed.connect(
        on_affected_resources_changed, sender=Case.affected_resources.through, dispatch_uid="reach-case-resources"
    )
    pre_delete.connect(on_case_deleted, sender=Case, dispatch_uid="reach-case-deleted")
