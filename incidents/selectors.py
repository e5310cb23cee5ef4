"""Reads of the incidents app, permission-scoped first: an agent sees an incident only through the
tenants they are granted (a linked case of the tenant, one of its resources, or the tenant named as
affected); everyone else (managers, admins, SRE) sees all. Other tenants' cases of an incident are
counted, never named."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.db.models import BooleanField, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from cases import triage
from cases.choices import OPEN_STATUSES
from cases.models import Case
from cases.selectors import case_visible_to, similar_cases
from companyos import audit
from companyos.converters import row_id
from tenants.choices import Segment
from tenants.models import Resource, Tenant
from tenants.selectors import reach as resource_reach
from tenants.selectors import visible_tenant_ids

from .choices import ACTIVE, DEFAULT_SEVERITY_BY_PRIORITY, EntryKind, Severity
from .models import (
    CorrectiveAction,
    Incident,
    IncidentEntry,
    IncidentResource,
    IncidentTenant,
    SeverityMapping,
    StatusService,
    TenantStatusPage,
)

KEY_RE = re.compile(r"^\s*INC-(\d{1,12})\s*$", re.IGNORECASE)
LINKED_ROWS = 50  # linked cases named on the incident page (the rest are counted)
TIMELINE_ROWS = 50  # the newest entries on the page; older ones load by HTMX, 50 at a time
PANEL_UPDATES = 3


def parse_incident_key(key: str) -> int | None:
    match = KEY_RE.match(key or "")
    return row_id(match.group(1)) if match else None


def _touching(ids: list[int]) -> Q:
    """The incidents touching any of the tenants `ids` (a linked case of theirs, one of their resources,
    or named as affected): one indexed semi-join on the denormalised IncidentTenant (incidents.reach),
    not a walk over every linked case of those tenants."""
    return Q(Exists(IncidentTenant.objects.filter(incident_id=OuterRef("pk"), tenant_id__in=ids)))


def incidents_of_tenants(ids: list[int] | None) -> QuerySet[Incident]:
    qs = Incident.objects.all()
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(_touching(ids))


def incident_visible_to(user) -> QuerySet[Incident]:
    return incidents_of_tenants(visible_tenant_ids(user))


def incidents_touching_tenant(tenant_id: int) -> QuerySet[Incident]:
    """The incidents that touch a tenant: through one of its cases, one of its resources, or the
    tenant named as affected (the tenant console's panel, a case's context snapshot)."""
    return Incident.objects.filter(_touching([tenant_id]))


def can_see_incident(user, incident_id: int) -> bool:
    return incident_visible_to(user).filter(pk=incident_id).exists()


def incident_list(user) -> QuerySet[Incident]:
    return (
        incident_visible_to(user)
        .select_related("commander")
        # A correlated sum of the incident's per-tenant linked-case counts (incidents.reach: a few rows,
        # not its 5,000 link rows), not a GROUP BY over every incident: PostgreSQL evaluates it for the
        # page's rows only (after the sort and LIMIT), unless the list is sorted by it.
        .annotate(
            case_count=Coalesce(
                Subquery(
                    IncidentTenant.objects.filter(incident_id=OuterRef("pk"))
                    .values("incident_id")
                    .annotate(n=Sum("cases"))
                    .values("n")
                ),
                0,
            )
        )
        .defer("postmortem", "summary", "current_mitigation")
    )


def incident_list_count(user) -> int:
    """How many incidents the unfiltered list holds for `user`: for an agent, the distinct incidents
    of their tenants' reach rows (an index-only count over incident_tenant_scope_idx), the same number
    as counting `incident_visible_to(user)` without joining every incident."""
    ids = visible_tenant_ids(user)
    if ids is None:
        return Incident.objects.count()
    if not ids:
        return 0
    return IncidentTenant.objects.filter(tenant_id__in=ids).values("incident_id").distinct().count()


def incident_get_for_user(user, key: str, *, path: str = "") -> Incident:
    """The incident behind `key` if `user` may see it; otherwise 404, and the attempt is audited."""
    pk = parse_incident_key(key)
    if pk is None:
        audit.log_denied(Incident, str(key)[:40], path=path, reason="not an incident key")
        raise Http404("No such incident")
    incident = incident_visible_to(user).select_related("commander", "comms_lead").filter(pk=pk).first()
    if incident is None:
        audit.log_denied(Incident, pk, path=path, reason="not visible or does not exist")
        raise Http404("No such incident")
    return incident


def incident_timeline(user, incident: Incident, *, only: str = "all", before: str | None = None) -> dict:
    """The newest TIMELINE_ROWS entries (or the TIMELINE_ROWS before the entry `before`, the "older"
    button's keyset: its id), and whether there are older ones. A link or unlink entry names only the
    cases of tenants the user may see (`shown_cases`) and counts the rest (`hidden_cases`)."""
    qs = incident.entries.select_related("actor")
    if only == "public":
        qs = qs.filter(public=True)
    elif only == "internal":
        qs = qs.filter(public=False)
    pivot = row_id(before) if before and str(before).isdigit() else None
    if pivot is not None:
        mark = IncidentEntry.objects.filter(incident=incident, pk=pivot).values("created_at").first()
        if mark is not None:
            qs = qs.filter(Q(created_at__lt=mark["created_at"]) | Q(created_at=mark["created_at"], id__lt=pivot))
    entries = list(qs.order_by("-created_at", "-id")[: TIMELINE_ROWS + 1])
    more = len(entries) > TIMELINE_ROWS
    entries = entries[:TIMELINE_ROWS]
    ids = visible_tenant_ids(user)
    for entry in entries:
        if entry.kind in (EntryKind.LINK, EntryKind.UNLINK):
            keys = (entry.data or {}).get("cases", [])
            tenants = (entry.data or {}).get("tenants", {})
            entry.shown_cases = [k for k in keys if ids is None or tenants.get(k) in ids]
            entry.hidden_cases = (entry.data or {}).get("count", len(keys)) - len(entry.shown_cases)
    return {"entries": entries, "older": entries[-1].pk if more and entries else None}


def _linked_page_sql(incident_id: int, ids: list[int] | None, start: int) -> RawSQL:
    """The ids of one page of the incident's linked cases (of tenants `ids`; None: all), open first,
    then by priority and key: read off the link rows' copies of the case's keys (migration 1300, kept
    by triggers) in index order, stopping after the page — not a sort of every linked case."""
    scope, params = ("", [incident_id])
    if ids is not None:
        scope, params = ("AND case_tenant_id = ANY(%s::bigint[])", [incident_id, list(ids)])
    return RawSQL(
        f"""SELECT case_id FROM {Incident.cases.through._meta.db_table} WHERE incident_id = %s {scope}
            ORDER BY case_closed, case_priority, case_id OFFSET %s LIMIT %s""",
        [*params, start, LINKED_ROWS],
    )


def linked_cases(user, incident: Incident, *, page=1) -> dict:
    """One page of the incident's linked cases the user may see (LINKED_ROWS a page, open first,
    then by priority and key: a stable order), how many there are in all, open, visible and of
    tenants the user may not see (counted only). The counts are SQL aggregates and the page an
    OFFSET/LIMIT over an index of the link rows: the same few statements, and about the same time,
    for 5 linked cases or 5,000. `page` out of range is clamped."""
    ids = visible_tenant_ids(user)
    # How many, in all and of the user's tenants: from the incident's per-tenant counts (incidents.reach),
    # a few rows, not a count over every linked case. Open ones: the link rows' own copy of the case's
    # state (an index-only count; no DISTINCT: a case is linked once), in the same statement.
    link_table = Incident.cases.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COALESCE(SUM(cases), 0), COALESCE(SUM(cases) FILTER (WHERE tenant_id = ANY(%s::bigint[])), 0),
                       (SELECT COUNT(*) FROM {link_table} WHERE incident_id = %s AND NOT case_closed)
                FROM {IncidentTenant._meta.db_table} WHERE incident_id = %s""",
            [list(ids or []), incident.pk, incident.pk],
        )
        total, shown, open_ = cursor.fetchone()
    counts = {"total": int(total), "shown": int(shown), "open": int(open_)}
    shown_total = counts["total"] if ids is None else counts["shown"]
    pages = max(1, -(-shown_total // LINKED_ROWS))
    try:
        number = min(max(1, int(page)), pages)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * LINKED_ROWS
    rows = (
        sorted(
            case_visible_to(user)
            .filter(pk__in=_linked_page_sql(incident.pk, ids, start))
            .select_related("tenant", "owner")
            .only(
                "id",
                "subject",
                "status",
                "priority",
                "sla_due_at",
                "sla_clock",
                "sla_paused",
                "sla_risk_at",
                "tenant__name",
                "tenant__slug",
                "owner__username",
                "owner__first_name",
                "owner__last_name",
                "created_at",
                "updated_at",
                "channel",
            ),
            key=lambda c: (c.status not in OPEN_STATUSES, c.priority, c.pk),
        )
        if shown_total
        else []
    )
    return {
        "cases": rows,
        "total": counts["total"],
        "open": counts["open"],
        "visible": shown_total,
        "hidden": counts["total"] - shown_total,
        "more": max(0, shown_total - start - len(rows)),
        "page": number,
        "pages": pages,
        "first": start + 1 if rows else 0,
        "last": start + len(rows),
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < pages else None,
    }


def incident_actions(incident: Incident) -> list[CorrectiveAction]:
    return list(incident.actions.select_related("owner").order_by("status", "due_on", "id"))


def incident_blast_radius(user, incident: Incident) -> dict:
    """The resources the incident names and its linked cases name (all of them: the per-resource counts
    incidents.reach keeps, not a scan of the linked cases), what depends on them (the tenant telemetry
    graph), and other open cases naming them; scoped to what the user may see."""
    ids = visible_tenant_ids(user)
    named = Resource.objects.filter(
        Q(pk__in=IncidentResource.objects.filter(incident=incident, cases__gt=0).values("resource_id"))
        | Q(pk__in=Incident.resources.through.objects.filter(incident_id=incident.pk).values("resource_id"))
    )
    if ids is not None:
        named = named.filter(tenant_id__in=ids)
    resources = list(named.order_by("external_id"))
    reached = resource_reach([r.pk for r in resources])
    dependent_ids = {rid for rids in reached.values() for rid in rids} - {r.pk for r in resources}
    dependents = Resource.objects.filter(pk__in=dependent_ids)
    if ids is not None:
        dependents = dependents.filter(tenant_id__in=ids)
    dependents = list(dependents.order_by("external_id")) if dependent_ids else []
    all_ids = [r.pk for r in resources] + [r.pk for r in dependents]
    open_cases = []
    if all_ids:
        on_it = Incident.cases.through.objects.filter(incident_id=incident.pk, case_id=OuterRef("pk"))
        qs = Case.objects.open().filter(
            Exists(Case.affected_resources.through.objects.filter(case_id=OuterRef("pk"), resource_id__in=all_ids))
        )
        if ids is not None:
            qs = qs.filter(tenant_id__in=ids)
        open_cases = list(
            qs.filter(~Exists(on_it))
            .order_by("priority", "created_at")
            .only("id", "subject", "tenant_id", "priority", "status")[:10]
        )
    return {"resources": resources, "dependents": dependents, "open_cases": open_cases}


def incident_tenants(user, incident: Incident) -> dict:
    """The tenants the incident touches with their linked cases (the user's tenants named, the others
    counted), and the blast radius by segment: tenants and linked cases per segment. One query over
    the incident's per-tenant counts (incidents.reach)."""
    ids = visible_tenant_ids(user)
    rows = list(
        IncidentTenant.objects.filter(incident=incident)
        .select_related("tenant")
        .only("cases", "named", "resources", "tenant__id", "tenant__name", "tenant__slug", "tenant__segment")
        .order_by("tenant__name")
    )
    shown = [r for r in rows if ids is None or r.tenant_id in ids]
    shown_ids = {r.tenant_id for r in shown}
    tenants = []
    for row in shown:
        row.tenant.linked_cases = row.cases
        tenants.append(row.tenant)
    segments: dict[str, dict] = {}
    for row in shown:
        seg = segments.setdefault(row.tenant.segment, {"tenants": 0, "cases": 0})
        seg["tenants"] += 1
        seg["cases"] += row.cases
    labels = dict(Segment.choices)
    return {
        "tenants": tenants,
        "hidden": len(rows) - len(shown),
        "hidden_cases": sum(r.cases for r in rows if r.tenant_id not in shown_ids),
        "segments": [
            {"segment": labels.get(k, k), **v} for k, v in sorted(segments.items(), key=lambda kv: -kv[1]["cases"])
        ],
    }


# --- the case page's incident panel ------------------------------------------------------------------


def _linked_to(case: Case) -> Q:
    """The incidents a case is linked to, as an index condition on their ids. `cases=case` (a join)
    lets the planner walk every incident newest first looking for the case's links (26 ms at 10k
    incidents); the case's few link rows as an array are read first, by the link's case index."""
    if connection.vendor != "postgresql":
        return Q(cases=case)
    links = Incident.cases.through._meta.db_table
    return Q(
        RawSQL(
            f'"{Incident._meta.db_table}"."id" = ANY(ARRAY(SELECT incident_id FROM {links} WHERE case_id = %s))',
            [case.pk],
            output_field=BooleanField(),
        )
    )


def case_incidents(case: Case) -> list[Incident]:
    """The incidents a case is linked to, each with its latest public updates (two queries in all,
    whatever the number of incidents or updates: a window over the entries)."""
    incidents = list(
        Incident.objects.filter(_linked_to(case)).select_related("commander", "comms_lead").order_by("-started_at")[:10]
    )
    if not incidents:
        return []
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    # The latest public updates and the latest runbook steps run (runbooks' internal entries), each
    # ranked within its own group: still one query.
    ranked = (
        IncidentEntry.objects.filter(incident__in=[i.pk for i in incidents])
        .filter(Q(public=True) | Q(data__has_key="runbook_step"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("incident_id"), F("public")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=PANEL_UPDATES)
        .order_by("incident_id", "-created_at")
    )
    by_incident: dict[int, list[IncidentEntry]] = {}
    steps: dict[int, list[str]] = {}
    for entry in ranked:
        if entry.public:
            by_incident.setdefault(entry.incident_id, []).append(entry)
        else:
            steps.setdefault(entry.incident_id, []).append(entry.data.get("runbook_step_title") or entry.body)
    for incident in incidents:
        incident.latest_public = by_incident.get(incident.pk, [])
        incident.runbook_steps = steps.get(incident.pk, [])
    return incidents


def link_suggestions(case: Case, *, limit: int = 5) -> list[Incident]:
    """Active incidents on the case's resources or tenant, not linked to it yet: "link to the active
    incident on this resource"."""
    resource_ids = list(case.affected_resources.values_list("pk", flat=True))
    q = _touching([case.tenant_id])
    if resource_ids:
        q |= Q(resources__in=resource_ids)
    return list(
        Incident.objects.filter(status__in=ACTIVE)
        .filter(q)
        .exclude(cases=case)
        .distinct()
        .order_by("severity", "-started_at")[:limit]
    )


def incident_search(user, q: str, *, limit: int = 10) -> list[Incident]:
    """The picker: by key (INC-12) or words of the title, active first."""
    qs = incident_visible_to(user)
    q = (q or "").strip()[:100]
    pk = parse_incident_key(q) or (row_id(q) if q.isdigit() else None)
    if pk:
        qs = qs.filter(pk=pk)
    elif q:
        qs = qs.filter(title__icontains=q)
    else:
        qs = qs.filter(status__in=ACTIVE)
    return list(qs.order_by("status", "-started_at")[:limit])


def severity_for_priority(priority: int) -> str:
    row = SeverityMapping.objects.filter(priority=priority).first()
    return row.severity if row else DEFAULT_SEVERITY_BY_PRIORITY.get(priority, Severity.SEV3)


def severity_for_case(case: Case) -> str:
    """The incident severity for a case: its own impact severity when assessed (Sev-1 → SEV1 …),
    else the admins' mapping of its priority."""
    if case.severity:
        return case.severity.upper()
    return severity_for_priority(case.priority)


def severity_mapping() -> list[tuple[int, str]]:
    rows = {m.priority: m.severity for m in SeverityMapping.objects.all()}
    return [(p, rows.get(p, s)) for p, s in DEFAULT_SEVERITY_BY_PRIORITY.items()]


# --- the public status page ----------------------------------------------------------------------------

HISTORY_DAYS = 90
STATE_BY_SEVERITY = {Severity.SEV1: "major_outage", Severity.SEV2: "partial_outage", Severity.SEV3: "degraded"}
STATE_LABELS = {
    "operational": "Operational",
    "degraded": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}
STATE_RANK = ["operational", "degraded", "partial_outage", "major_outage"]


def _published(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """Only incidents with at least one published update appear on a status page."""
    return qs.filter(Exists(IncidentEntry.objects.filter(incident_id=OuterRef("pk"), public=True)))


def status_page(*, tenant: Tenant | None = None, now=None) -> dict:
    """What the status page shows: the services (all, or a tenant's: those over its resources) with
    their state, the active incidents with their published updates, and 90 days of history.
    Nothing internal: only public entries are read."""
    now = now or timezone.now()
    services = StatusService.objects.all()
    incidents = _published(Incident.objects.all())
    if tenant is not None:
        services = services.filter(resources__tenant=tenant).distinct()
        incidents = incidents.filter(_touching([tenant.pk]))
    services = list(services.prefetch_related(Prefetch("resources", queryset=Resource.objects.only("id", "tenant_id"))))
    recent = list(
        incidents.filter(Q(status__in=ACTIVE) | Q(resolved_at__gte=now - timedelta(days=HISTORY_DAYS)))
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=IncidentEntry.objects.filter(public=True).order_by("-created_at", "-id"),
                to_attr="published",
            ),
            Prefetch("resources", queryset=Resource.objects.only("id"), to_attr="resource_list"),
        )
        .only("id", "title", "severity", "status", "started_at", "resolved_at")
        .order_by("-started_at")[:200]
    )
    active = [i for i in recent if i.active]
    for service in services:
        ids = {r.pk for r in service.resources.all()}
        state = "operational"
        for incident in active:
            if ids & {r.pk for r in incident.resource_list}:
                candidate = STATE_BY_SEVERITY[incident.severity]
                if STATE_RANK.index(candidate) > STATE_RANK.index(state):
                    state = candidate
        service.state = state
        service.state_label = STATE_LABELS[state]
    worst = max((s.state for s in services), key=STATE_RANK.index, default="operational")
    if active and worst == "operational":
        worst = "degraded"
    return {
        "services": services,
        "active": active,
        "history": [i for i in recent if not i.active],
        "overall": worst,
        "overall_label": "All systems operational" if worst == "operational" else STATE_LABELS[worst],
        "tenant": tenant,
        "now": now,
    }


def status_feed_entries(*, tenant: Tenant | None = None, limit: int = 50) -> list[IncidentEntry]:
    qs = IncidentEntry.objects.filter(public=True).select_related("incident")
    if tenant is not None:
        qs = qs.filter(incident__in=Incident.objects.filter(_touching([tenant.pk])))
    return list(qs.order_by("-created_at", "-id")[:limit])


def tenant_status_by_token(token: str) -> Tenant | None:
    page = TenantStatusPage.objects.select_related("tenant").filter(token=token[:64]).first()
    return page.tenant if page else None


# --- detection hints (seed 002: several customers reporting the same thing within an hour) ----------


def public_entry_kinds() -> list[str]:
    return [EntryKind.UPDATE, EntryKind.STATUS, EntryKind.DECLARED, EntryKind.CUSTOMERS]


# --- detection hints (seed 002: "multiple customers reporting the same issue within 1 hour") ---------

HINT_WINDOW = timedelta(minutes=60)
HINT_MIN_CASES = 3  # this case and two more


def detection_hint(user, case: Case) -> dict | None:
    """Open cases like `case` (shared subject words, error code or affected resource: the shared
    `cases.selectors.similar_cases`) opened within an hour around it, at its tenant and at others, not
    yet on an active incident. None below HINT_MIN_CASES. Cases of tenants the user may not see are
    counted, not named."""
    if not case.is_open:
        return None
    by = ("words", "error_codes", "resource")
    now = case.created_at + HINT_WINDOW / 2
    found = similar_cases(case, now=now, window=HINT_WINDOW, by=by, limit=None, scan=200)
    found += similar_cases(case, now=now, window=HINT_WINDOW, other_tenants=True, by=by, limit=None, scan=200)
    candidates = {s.case.pk: s.case for s in found if s.case.status in OPEN_STATUSES}
    if len(candidates) + 1 < HINT_MIN_CASES:
        return None
    on_incident = set(
        Incident.cases.through.objects.filter(case_id__in=list(candidates), incident__status__in=ACTIVE).values_list(
            "case_id", flat=True
        )
    )
    cases = [c for pk, c in candidates.items() if pk not in on_incident]
    if len(cases) + 1 < HINT_MIN_CASES:
        return None
    ids = visible_tenant_ids(user)
    visible = [c for c in cases if ids is None or c.tenant_id in ids]
    times = [c.created_at for c in cases] + [case.created_at]
    return {
        "count": len(cases) + 1,
        "minutes": max(1, round((max(times) - min(times)).total_seconds() / 60)),
        "cases": sorted(visible, key=lambda c: c.created_at)[:20],
        "hidden": len(cases) - len(visible),
    }


QUEUE_HINT_SCAN = 300  # the newest open cases of the window read for the queue's hints (a cost bound)
QUEUE_HINTS = 3


def _signals(row: dict, resources: set[int]) -> dict:
    return {
        "words": triage.keywords(row["subject"]),
        "codes": triage.error_codes(row["subject"]),
        "resources": resources,
    }


def _shared(a: dict, b: dict) -> str:
    """What two cases share, as the hint names it ("" when they are not similar): the same criteria as
    `cases.selectors.similar_cases` by words (2+ subject keywords), error codes and resources."""
    codes = a["codes"] & b["codes"]
    if codes:
        return "error " + ", ".join(sorted(codes))
    if a["resources"] & b["resources"]:
        return "same resource"
    words = a["words"] & b["words"]
    if len(words) >= 2:
        return "“" + " ".join(sorted(words)[:3]) + "”"
    return ""


def queue_hints(user, *, now=None) -> list[dict]:
    """The queue's "possible incident" hints (seed 002: several customers reporting the same thing
    within an hour): groups of HINT_MIN_CASES or more open cases opened in the last hour, at any
    tenant, on no active incident, that share an error code, an affected resource or two subject
    keywords with the group's newest case. At most QUEUE_HINTS groups, each with at least one case
    `user` may see; cases of other tenants are counted, never named. Three queries, whatever the size
    of the queue."""
    now = now or timezone.now()
    on_incident = Incident.cases.through.objects.filter(case_id=OuterRef("pk"), incident__status__in=ACTIVE)
    rows = list(
        Case.objects.filter(created_at__gte=now - HINT_WINDOW, created_at__lte=now, status__in=OPEN_STATUSES)
        .filter(~Exists(on_incident))
        .order_by("-created_at", "-pk")
        .values("pk", "subject", "tenant_id", "created_at", "status")[:QUEUE_HINT_SCAN]
    )
    if len(rows) < HINT_MIN_CASES:
        return []
    resources: dict[int, set[int]] = {}
    for case_id, resource_id in Case.affected_resources.through.objects.filter(
        case_id__in=[r["pk"] for r in rows]
    ).values_list("case_id", "resource_id"):
        resources.setdefault(case_id, set()).add(resource_id)
    signals = {r["pk"]: _signals(r, resources.get(r["pk"], set())) for r in rows}
    ids = visible_tenant_ids(user)
    taken: set[int] = set()
    hints = []
    for seed in rows:
        if seed["pk"] in taken:
            continue
        group, why = [seed], ""
        for other in rows:
            if other["pk"] == seed["pk"] or other["pk"] in taken:
                continue
            shared = _shared(signals[seed["pk"]], signals[other["pk"]])
            if shared:
                group.append(other)
                why = why or shared
        if len(group) < HINT_MIN_CASES:
            continue
        visible = [r for r in group if ids is None or r["tenant_id"] in ids]
        if not visible:
            continue
        taken.update(r["pk"] for r in group)
        times = [r["created_at"] for r in group]
        visible.sort(key=lambda r: (r["created_at"], r["pk"]))
        for r in visible:
            r["key"] = Case(pk=r["pk"]).key
        hints.append(
            {
                "count": len(group),
                "minutes": max(1, round((max(times) - min(times)).total_seconds() / 60)),
                "why": why,
                "subject": visible[0]["subject"],
                "cases": visible[:50],
                "hidden": len(group) - len(visible),
            }
        )
        if len(hints) >= QUEUE_HINTS:
            break
    return hints


# --- the manager reports (/reports/, through cases.reports.sections) ------------------------------------


def incident_report_rows(user, *, start, end, tenant_ids: list[int] | None) -> list[dict]:
    """The incidents started in [start, end) that `user` may see (and that touch `tenant_ids`, when
    the report is narrowed to some tenants), by severity: how many, acknowledged, resolved, the sums
    of their acknowledge and resolve times in seconds, and their linked cases. One query."""
    qs = incident_visible_to(user).filter(started_at__gte=start, started_at__lt=end)
    if tenant_ids is not None:
        qs = qs.filter(_touching(tenant_ids)) if tenant_ids else qs.none()
    rows = {r["severity"]: r for r in _incident_sums(qs)}
    return [rows.get(s, {"severity": s, "n": 0}) for s in Severity.values]


def _incident_sums(qs: QuerySet[Incident]) -> list[dict]:
    from django.db.models import DurationField, ExpressionWrapper, F

    def seconds(end_field: str):
        return Sum(ExpressionWrapper(F(end_field) - F("started_at"), output_field=DurationField()))

    linked = Incident.cases.through.objects.filter(incident_id=OuterRef("pk")).values("incident_id")
    linked = linked.annotate(n=Count("pk")).values("n")
    return list(
        qs.order_by()
        .annotate(linked=Coalesce(Subquery(linked), 0))
        .values("severity")
        .annotate(
            n=Count("pk"),
            acknowledged=Count("acknowledged_at"),
            resolved=Count("resolved_at"),
            ack_total=seconds("acknowledged_at"),
            res_total=seconds("resolved_at"),
            linked_cases=Sum("linked"),
        )
    )


def cadence_due(marks: QuerySet, now, *, warn_minutes: int) -> Q:
    """The rows of a cadence clock (an `update_due_at` column) to act on now: due and not yet marked
    breached, or due within `warn_minutes` and not yet warned. `marks` is the clock's mark model
    filtered to the row's current due time (OuterRef), with a `Kind` of BREACH and WARNING. Used by
    the incidents' update cadence and the engineering tasks' (incidents.escalations)."""
    kind = marks.model.Kind
    return (Q(update_due_at__lte=now) & ~Exists(marks.filter(kind=kind.BREACH))) | (
        Q(update_due_at__gt=now, update_due_at__lte=now + timedelta(minutes=warn_minutes))
        & ~Exists(marks.filter(kind=kind.WARNING))
    )
