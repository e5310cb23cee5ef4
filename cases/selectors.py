"""Every read of cases a user sees. Permission scoping comes first, from one place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import BooleanField, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.http import Http404, QueryDict

from companyos import audit, roles
from companyos.converters import row_id
from companyos.db import PreparedQuery, one_row
from tenants.choices import Channel, SupportTier
from tenants.models import Requester, Resource, Tenant
from tenants.selectors import (
    reach,
    requester_visible_resource_ids,
    resources_of,
    tenant_signals,
    tenant_visible_to,
    visible_tenant_ids,
)

from . import triage
from .choices import Category, Severity
from .context import context_providers
from .models import Attachment, Case, CaseContext, Interaction, SavedView, Tag, Team

User = get_user_model()

KEY_RE = re.compile(rf"^\s*{re.escape(settings.CASE_KEY_PREFIX)}-(\d{{1,12}})\s*$", re.IGNORECASE)


def case_visible_to(user) -> QuerySet[Case]:
    """The cases `user` may see: all for managers/admins/SRE, else those of their granted tenants."""
    return cases_of_tenants(visible_tenant_ids(user))


def cases_of_tenants(ids: list[int] | None) -> QuerySet[Case]:
    """The cases of the tenants `ids` (None: every tenant): `case_visible_to`'s rule on a tenant list
    (the REST API's scope: a user's tenants, or an integration's, tenants.api_auth.api_tenant_ids)."""
    qs = Case.objects.all()
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(tenant_id__in=ids)


def _listed(qs: QuerySet[Case]) -> QuerySet[Case]:
    """A list's rows: the case with its tenant, requester, owner and team, and its tags."""
    return qs.select_related("tenant", "requester", "owner", "team").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="tag_list")
    )


# What a queue row shows (cases.templatetags.case_tags.queue_rows, every optional column included):
# loading only these halves the ORM's time for a page (fewer columns to convert, JSON never decoded).
QUEUE_FIELDS = (
    *("id", "tenant_id", "requester_id", "owner_id", "team_id", "subject", "status", "priority", "severity"),
    *("category", "channel", "waiting_for", "waiting_note", "created_at", "updated_at", "status_changed_at"),
    *("sla_due_at", "sla_risk_at", "sla_clock", "sla_paused", "version"),
    *("tenant__name", "tenant__slug", "tenant__support_tier", "tenant__segment"),
    *("requester__name", "requester__email"),
    *("owner__username", "owner__first_name", "owner__last_name", "owner__is_active"),
    *("team__name", "team__slug"),
)


def case_queue(user) -> QuerySet[Case]:
    """The queue's rows. On PostgreSQL each row's tag names come in the same query (an array
    subquery, `tag_names`) instead of a second query and a Tag object per tag."""
    qs = case_visible_to(user).select_related("tenant", "requester", "owner", "team").only(*QUEUE_FIELDS)
    if connection.vendor == "postgresql":
        return qs.annotate(
            tag_names=ArraySubquery(Tag.objects.filter(cases=OuterRef("pk")).order_by("name").values("name"))
        )
    return qs.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="tag_list"))


class QueueRow:
    """A queue row read as plain values (`queue_page_rows`): what `case_tags.queue_rows` shows, with
    the attribute names of a Case, its tenant, requester, owner and team. Model instances cost ~3 ms
    on a 50-row page (five objects a row, built by the related-object populators; issue 10)."""

    __slots__ = (
        *("pk", "id", "subject", "status", "priority", "severity", "category", "channel", "waiting_for"),
        *("waiting_note", "created_at", "updated_at", "status_changed_at", "sla_due_at", "sla_risk_at"),
        *("sla_clock", "sla_paused", "version", "tenant_id", "requester_id", "owner_id", "team_id"),
        *("tenant", "requester", "owner", "team", "tag_names", "viewers", "snippet"),
    )

    def __init__(self, v: dict, tenants: dict, owners: dict, teams: dict):
        self.pk = self.id = v["id"]
        for name in ("subject", "status", "priority", "severity", "category", "channel", "waiting_for"):
            setattr(self, name, v[name])
        for name in ("waiting_note", "created_at", "updated_at", "status_changed_at", "sla_due_at"):
            setattr(self, name, v[name])
        for name in ("sla_risk_at", "sla_clock", "sla_paused", "version"):
            setattr(self, name, v[name])
        self.tenant_id, self.requester_id = v["tenant_id"], v["requester_id"]
        self.owner_id, self.team_id = v["owner_id"], v["team_id"]
        self.tenant = tenants.get(self.tenant_id)
        if self.tenant is None:
            self.tenant = tenants[self.tenant_id] = _QueueTenant(
                v["tenant__name"], v["tenant__slug"], v["tenant__support_tier"], v["tenant__segment"]
            )
        self.requester = _QueueRequester(v["requester__name"], v["requester__email"])
        self.owner = None
        if self.owner_id is not None:
            self.owner = owners.get(self.owner_id)
            if self.owner is None:
                first, last, username = v["owner__first_name"], v["owner__last_name"], v["owner__username"]
                self.owner = owners[self.owner_id] = _person(first, last, username)
        self.team = None
        if self.team_id is not None:
            self.team = teams.get(self.team_id)
            if self.team is None:
                self.team = teams[self.team_id] = _QueueTeam(v["team__name"], v["team__slug"])
        self.tag_names = v.get("tag_names")
        self.viewers, self.snippet = [], None

    key = Case.key
    get_absolute_url = Case.get_absolute_url
    priority_slug = Case.priority_slug
    waiting_for_text = Case.waiting_for_text

    def get_category_display(self) -> str:
        return _label(Category, self.category)

    def get_channel_display(self) -> str:
        return _label(Channel, self.channel)

    def get_severity_display(self) -> str:
        return _label(Severity, self.severity)


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class _QueueTenant:
    name: str
    slug: str
    support_tier: str
    segment: str

    def get_support_tier_display(self) -> str:
        return _label(SupportTier, self.support_tier)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class _QueueRequester:
    name: str
    email: str


@dataclass(frozen=True)
class _QueueTeam:
    name: str
    slug: str

    def __str__(self) -> str:
        return self.name


def queue_page_rows(qs: QuerySet[Case]) -> list[QueueRow]:
    """The rows of a queue page (`qs` sliced to the page, from `case_queue`) as QueueRows: the same
    columns and the same one statement (on PostgreSQL the tag names ride along; elsewhere one more
    query for the page's tags)."""
    postgres = connection.vendor == "postgresql"
    fields = [*QUEUE_FIELDS, "tag_names"] if postgres else list(QUEUE_FIELDS)
    values = list(qs.values(*fields))
    tenants: dict = {}
    owners: dict = {}
    teams: dict = {}
    rows = [QueueRow(v, tenants, owners, teams) for v in values]
    if not postgres and rows:
        names: dict[int, list[str]] = {}
        through = Case.tags.through.objects.filter(case_id__in=[r.pk for r in rows]).order_by("tag__name")
        for case_id, name in through.values_list("case_id", "tag__name"):
            names.setdefault(case_id, []).append(name)
        for row in rows:
            row.tag_names = names.get(row.pk, [])
    return rows


def case_api_queue(ids: list[int] | None) -> QuerySet[Case]:
    """The REST API's case list: `case_queue`'s rows (every column: the API shows them) on a tenant list."""
    return _listed(cases_of_tenants(ids))


def case_in_scope(ids: list[int] | None, key: str, *, path: str, via: str) -> Case:
    """The case behind `key` among the tenants `ids`, for the REST API; otherwise 404 and the attempt is
    audited, naming `via` (the token)."""
    pk = parse_case_key(key)
    if pk is None:
        audit.log_denied(Case, str(key)[:40], path=path, reason=f"not a case key ({via})")
        raise Http404("No such case.")
    case = case_api_queue(ids).select_related("duplicate_of").filter(pk=pk).first()
    if case is None:
        audit.log_denied(Case, pk, path=path, reason=f"not visible or does not exist ({via})")
        raise Http404("No such case.")
    return case


def parse_case_key(key: str) -> int | None:
    """The case id in a key ("CS-1042" or "1042"), else None (also past the largest row id)."""
    match = KEY_RE.match(key or "")
    return row_id(match.group(1)) if match else None


def case_get_for_user(user, key: str, *, path: str = "", for_update: bool = False, page: bool = False) -> Case:
    """The case behind `key` if `user` may see it. Otherwise 404, and the attempt is audited.

    `page=True` (the case page) reads in the same query, on PostgreSQL, the small lists the page
    shows beside the case — its tags, the duplicates merged into it, their followers, the resources
    its requester may see — which `case_tag_list`, `case_merges` and `requester_card` then use
    instead of a query each (issue 10)."""
    pk = parse_case_key(key)
    if pk is None:
        raise Http404("No such case")
    if connection.vendor == "postgresql":
        ids = visible_tenant_ids(user)
        scope = {"tenants": ids} if ids else {}
        found = [] if ids == [] else _CASE_QUERIES[(page, ids is not None)].rows(pk=pk, **scope)
        case = found[0] if found else None
    else:
        qs = case_visible_to(user).select_related("tenant", "requester", "owner", "team", "duplicate_of")
        case = one_row(qs.defer(*_DUPLICATE_DEFERRED).filter(pk=pk))
    if case is None:
        audit.log_denied(Case, pk, path=path, reason="not visible or does not exist")
        raise Http404("No such case")
    return case


def _case_query(pk, tenants=None, *, page: bool) -> QuerySet[Case]:
    """The case page's read of one case (PostgreSQL): the case with its tenant, requester, owner,
    team and — of the case it was merged into — only what the merge banner shows (its key, subject,
    tenant: a whole second Case row is ~60 more columns to compile and convert), within the tenant
    list `tenants` (None: every tenant) as one array parameter. With `page`, the small lists the page
    shows beside the case — its tags, the duplicates merged into it, their followers — ride along
    (`case_tag_list`, `case_merges` use them instead of a query each)."""
    qs = Case.objects.filter(pk=pk)
    if tenants is not None:
        qs = qs.extra(where=[f'"{Case._meta.db_table}"."tenant_id" = ANY(%s)'], params=[tenants])
    qs = qs.select_related("tenant", "requester", "owner", "team", "duplicate_of").defer(*_DUPLICATE_DEFERRED)
    if page:
        qs = qs.annotate(**_PAGE_LISTS)
    return qs.order_by()[:1]


_DUPLICATE_SHOWN = ("id", "subject", "tenant")
_DUPLICATE_DEFERRED = [f"duplicate_of__{f.name}" for f in Case._meta.concrete_fields if f.name not in _DUPLICATE_SHOWN]

_PAGE_LISTS = {
    "_page_tags": ArraySubquery(
        Tag.objects.filter(cases=OuterRef("pk")).order_by("name").values(json=JSONObject(id="id", name="name"))
    ),
    "_page_merged": ArraySubquery(
        Case.objects.filter(duplicate_of=OuterRef("pk"))
        .order_by("id")
        .values(json=JSONObject(id="id", subject="subject", tenant_id="tenant_id"))[:50]
    ),
    "_page_followers": ArraySubquery(
        Requester.objects.filter(followed_cases=OuterRef("pk"))
        .order_by("name")
        .values(json=JSONObject(id="id", name="name", email="email"))[:50]
    ),
    # The requester card's "sees only these resources" (`requester_card`): empty for a requester who
    # sees them all, and then not used.
    "_page_visible_resources": ArraySubquery(
        Requester.visible_resources.through.objects.filter(requester_id=OuterRef("requester_id")).values("resource_id")
    ),
}


# Built and compiled once per thread and shape — case page or not, every tenant or a list (issue 10).
_CASE_QUERIES = {
    (page, scoped): PreparedQuery(
        partial(_case_query, page=page), pk=-7340023, **({"tenants": [-7340024]} if scoped else {})
    )
    for page in (False, True)
    for scoped in (False, True)
}


def case_merges(case: Case) -> dict:
    """What a merge left on a case: the duplicates merged into it and the followers they brought
    (requesters who hear what its requester hears). The case it was merged into is `duplicate_of`."""
    if hasattr(case, "_page_merged"):
        return {
            "merged_here": [Case(**row) for row in case._page_merged],
            "followers": [Requester(**row) for row in case._page_followers],
        }
    return {
        "merged_here": list(case.duplicates.only("id", "subject", "tenant_id").order_by("id")[:50]),
        "followers": list(case.followers.only("id", "name", "email").order_by("name")[:50]),
    }


def case_timeline(
    case: Case, *, only: str = "all", newest_first: bool = False, attachments: list[Attachment] | None = None
) -> QuerySet[Interaction] | list[Interaction]:
    """The case's timeline, each entry with its attachments: prefetched, or, given the case's
    `attachments` (the page reads them anyway, `case_attachments`), handed out from that list
    without another query. `outbound`: a public reply's row in the reply outbox (cases.channels),
    for its delivery state, in the same query."""
    only = only if only in ("public", "notes") else "all"
    if attachments is None:
        qs = _timeline_query(case.pk, only=only, newest_first=newest_first)
        return qs.prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    by_entry: dict[int, list[Attachment]] = {}
    for attachment in sorted(attachments, key=lambda a: a.pk):
        by_entry.setdefault(attachment.interaction_id, []).append(attachment)
    entries = _TIMELINES[(only, newest_first)].rows(case_id=case.pk)
    for entry in entries:
        entry._prefetched_objects_cache = {"attachments": by_entry.get(entry.pk, [])}
        entry._state.fields_cache["case"] = case  # as case.interactions would (no query for entry.case)
    return entries


def _timeline_query(case_id: int, *, only: str, newest_first: bool) -> QuerySet[Interaction]:
    qs = Interaction.objects.filter(case_id=case_id).select_related("actor", "requester", "outbound")
    if only == "public":
        qs = qs.filter(public=True)
    elif only == "notes":
        qs = qs.filter(kind=Interaction.Kind.NOTE)
    return qs.order_by("-created_at", "-id") if newest_first else qs.order_by("created_at", "id")


_TIMELINES = {  # the case page's timeline, per filter and order, compiled once per thread (issue 10)
    (only, newest): PreparedQuery(partial(_timeline_query, only=only, newest_first=newest), case_id=-7340028)
    for only in ("all", "public", "notes")
    for newest in (False, True)
}


def attachment_get_for_user(user, pk: int, *, path: str = "") -> Attachment:
    ids = visible_tenant_ids(user)
    qs = Attachment.objects.select_related("case")
    if ids is not None:
        qs = qs.filter(case__tenant_id__in=ids)
    attachment = qs.filter(pk=pk).first()
    if attachment is None:
        audit.log_denied(Attachment, pk, path=path)
        raise Http404("No such attachment")
    return attachment


def saved_views_for(user) -> QuerySet[SavedView]:
    return SavedView.objects.filter(Q(builtin=True) | Q(shared=True) | Q(owner=user)).order_by(
        "-builtin", "-shared", "position", "name"
    )


def capped_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """Count up to `cap` rows (then say "cap+"): exact counts of 1M rows cost a full scan."""
    cap = cap or settings.QUEUE_COUNT_CAP
    n = qs.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def cases_visible_by_ids(user, ids) -> list[Case]:
    """The cases among `ids` that `user` may see, in id order (a bulk action's selection)."""
    return list(case_visible_to(user).filter(pk__in=ids).order_by("pk"))


def saved_views_listed(user) -> list[SavedView]:
    """The saved views of `user`, each with `href_query`: its clean query, columns included
    (cases.filtersets.view_query), to link to and to compare with the queue's current one."""
    from .filtersets import view_query

    views = list(saved_views_for(user))
    for view in views:
        view.href_query = view_query(view)
    return views


def saved_views_counted(user, *, request) -> list[SavedView]:
    """The saved views of `user` (saved_views_listed), each with `count`/`capped` of the cases it selects."""
    from .filtersets import CaseFilterSet

    views = saved_views_listed(user)
    base = case_visible_to(user)
    for view in views:
        filterset = CaseFilterSet(QueryDict(view.query), queryset=base, request=request)
        view.count, view.capped = capped_count(filterset.qs, settings.VIEW_COUNT_CAP)
    return views


# --- people, tenants, teams ---------------------------------------------------------------------------


def assignable_users(scope: Case | Tenant | None = None) -> QuerySet:
    """Active users by username (names only loaded), the people a case can be given to. With a case
    or a tenant, only those who may see that tenant (the case services refuse anyone else)."""
    qs = User.objects.filter(is_active=True).order_by("username").only("username", "first_name", "last_name")
    if scope is None:
        return qs
    return _assignable_in(qs, scope.tenant_id if isinstance(scope, Case) else scope.pk)


def _assignable_in(qs: QuerySet, tenant_id: int) -> QuerySet:
    return qs.filter(
        Q(is_superuser=True)
        | Q(groups__name__in=roles.ALL_TENANT_ROLES)
        | Q(
            tenantuserobjectpermission__content_object_id=tenant_id,
            tenantuserobjectpermission__permission__codename="view_tenant",
        )
        | Q(
            groups__tenantgroupobjectpermission__content_object_id=tenant_id,
            groups__tenantgroupobjectpermission__permission__codename="view_tenant",
        )
    ).distinct()


_ASSIGNABLE = PreparedQuery(  # assignee_groups of a case or tenant: on every case page
    lambda tenant_id: _assignable_in(User.objects.filter(is_active=True).order_by("username"), tenant_id).values_list(
        "username", "first_name", "last_name", "support_teams__name"
    ),
    tenant_id=-7340027,
)


@dataclass(frozen=True)
class Person:
    username: str
    name: str  # the full name, else the username


def _person(first: str, last: str, username: str) -> Person:
    return Person(username=username, name=f"{first} {last}".strip() or username)


def assignee_groups(scope: Case | Tenant | None = None) -> list[tuple[str, list[Person]]]:
    """The people a case can be given to (assignable_users), grouped by support team for the assign
    dropdowns: teams by name, each with its members by full name, then "No team". One query; someone
    in two teams is listed under both."""
    if scope is None:
        rows = assignable_users().values_list("username", "first_name", "last_name", "support_teams__name")
    else:
        rows = _ASSIGNABLE.rows(tenant_id=scope.tenant_id if isinstance(scope, Case) else scope.pk)
    groups: dict[str, dict[str, Person]] = {}
    for username, first, last, team in rows:
        groups.setdefault(team or "", {})[username] = _person(first, last, username)
    ordered = sorted((name for name in groups if name), key=str.lower) + ([""] if "" in groups else [])
    return [
        (name or "No team", sorted(groups[name].values(), key=lambda p: (p.name.lower(), p.username)))
        for name in ordered
    ]


def person_name(username: str) -> str:
    """The full name of the user called `username` (the username itself if none, or no such user)."""
    row = User.objects.filter(username=username).values_list("first_name", "last_name").first()
    return _person(*row, username).name if row else username


def user_id_by_username(username: str) -> int | None:
    return User.objects.filter(username=username).values_list("pk", flat=True).first()


def tenant_for_intake(user, slug: str, *, path: str = "") -> Tenant | None:
    """The tenant the intake form chose, if `user` may see it. None otherwise: the form just shows
    nothing, and a slug that names a tenant the user may not see (or none) is audited as a denial."""
    slug = slug or ""
    tenant = tenant_visible_to(user).filter(slug=slug).first()
    if tenant is None and slug:
        _deny_tenant(slug, path=path, reason="intake: tenant not visible or does not exist")
    return tenant


def intake_tenant_ids(user) -> list[int]:
    """The tenants the intake form offers `user` (its tenant choices), for the access entry."""
    return list(tenant_visible_to(user).order_by("name").values_list("pk", flat=True))


def audit_intake_requester(user, requester_id: str, *, path: str) -> None:
    """A refused intake (422) that named a requester of a tenant `user` may not see (or none) is
    audited as a denial (the form itself only says "not a valid choice"). The tenant is checked by
    tenant_for_intake when the form is shown again."""
    pk = row_id(requester_id) if (requester_id or "").strip().isdigit() else None
    if pk is None:
        return
    owner = Requester.objects.filter(pk=pk).values_list("tenant_id", flat=True).first()
    ids = visible_tenant_ids(user)
    if owner is None or (ids is not None and owner not in ids):
        audit.log_denied(Requester, pk, path=path, reason="intake naming a requester of a tenant not visible, or none")


def _deny_tenant(slug: str, *, path: str, reason: str) -> None:
    pk = Tenant.objects.filter(slug=slug).values_list("pk", flat=True).first()
    audit.log_denied(Tenant, pk if pk is not None else slug[:100], path=path, reason=reason)


def requesters_of(tenant: Tenant | None) -> QuerySet[Requester]:
    """The tenant's contacts by name (none without a tenant)."""
    if tenant is None:
        return Requester.objects.none()
    return Requester.objects.filter(tenant=tenant).order_by("name")


def teams() -> QuerySet[Team]:
    return Team.objects.all()


# --- the case page --------------------------------------------------------------------------------------


def case_tag_list(case: Case) -> list[Tag]:
    if hasattr(case, "_page_tags"):
        return [Tag(**row) for row in case._page_tags]
    return list(case.tags.all())


def case_attachments(case: Case) -> list[Attachment]:
    return _ATTACHMENTS.rows(case_id=case.pk)


# The case page's reads, built and compiled once per thread (companyos.db.PreparedQuery, issue 10).
_ATTACHMENTS = PreparedQuery(
    lambda case_id: Attachment.objects.filter(case_id=case_id).select_related("uploaded_by").order_by("-created_at"),
    case_id=-7340025,
)


AUDIT_KINDS = {"all": "All", "changes": "Changes", "views": "Views", "denials": "Denials"}


def case_audit_entries(case: Case, *, kind: str = "all"):
    """The audit tab: every audit entry of the case, its timeline entries and its attachments,
    newest first, actor and content type loaded. `kind` narrows it to changes (create, update,
    delete), views (access entries) or denials (access entries marked denied); anything else is all."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    cts = ContentType.objects.get_for_models(Case, Interaction, Attachment)
    # The timeline's and attachments' ids as arrays (`= ANY(ARRAY(SELECT …))`, computed once), not
    # `IN (SELECT …)`: an IN subquery is a filter the planner applies after reading every entry of
    # the content type in every monthly partition (4 s at 10M entries); an array is an index
    # condition on (content_type, object_id, timestamp) in each.
    entries = [
        (Interaction._meta.db_table, cts[Interaction].pk),
        (Attachment._meta.db_table, cts[Attachment].pk),
    ]
    children = Q()
    for table, ct_id in entries if connection.vendor == "postgresql" else ():
        children |= Q(
            RawSQL(
                f"({LogEntry._meta.db_table}.content_type_id = %s AND {LogEntry._meta.db_table}.object_id"
                f" = ANY(ARRAY(SELECT id FROM {table} WHERE case_id = %s)))",
                [ct_id, case.pk],
                output_field=BooleanField(),
            )
        )
    if connection.vendor != "postgresql":
        children = Q(content_type=cts[Interaction], object_id__in=case.interactions.values("pk")) | Q(
            content_type=cts[Attachment], object_id__in=case.attachments.values("pk")
        )
    qs = LogEntry.objects.filter(Q(content_type=cts[Case], object_pk=str(case.pk)) | children)
    access = LogEntry.Action.ACCESS
    denied = Q(additional_data__contains={"denied": True})  # (NULL data is no denial: say so, SQL won't)
    if kind == "changes":
        qs = qs.exclude(action=access)
    elif kind == "views":
        qs = qs.filter(Q(additional_data__isnull=True) | ~denied, action=access)
    elif kind == "denials":
        qs = qs.filter(denied, action=access)
    return qs.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def latest_context(case: Case) -> CaseContext | None:
    return case.contexts.select_related("decided_by").first()


def case_context_get(case: Case, context_id) -> CaseContext | None:
    """One of the case's context snapshots by id (None for a missing or non-numeric id)."""
    if not str(context_id).isdigit():
        return None
    return case.contexts.filter(pk=int(context_id)).first()


# --- the case's own entities: affected resources, the requester's view of them -----------------------------


def case_affected_resources(case: Case) -> list[Resource]:
    """The case's affected resources by external id, each with `firing` (its firing alerts, counted)."""
    return _AFFECTED.rows(case_id=case.pk)


def _affected_query(case_id):
    from django.db.models import Count

    from tenants.models import Alert

    return (
        Resource.objects.filter(cases=case_id)
        .annotate(firing=Count("alerts", filter=Q(alerts__status=Alert.Status.FIRING), distinct=True))
        .order_by("external_id")
    )


_AFFECTED = PreparedQuery(_affected_query, case_id=-7340026)


def resource_choices(case_or_tenant: Case | Tenant) -> list[Resource]:
    """The resources a case can name: its tenant's (tenants.selectors.resources_of)."""
    tenant = case_or_tenant.tenant if isinstance(case_or_tenant, Case) else case_or_tenant
    return resources_of(tenant)


def resources_for_intake(tenant: Tenant | None, ids) -> list[Resource]:
    """The tenant's resources among `ids` (what the intake form chose); others are ignored."""
    if tenant is None:
        return []
    pks = [i for i in (row_id(str(v)) for v in ids) if i is not None]
    return list(Resource.objects.filter(tenant=tenant, pk__in=pks).order_by("external_id"))


@dataclass(frozen=True)
class RequesterCard:
    """The requester card of the case page: who asks, how they reach us and sign in, which of the
    tenant's resources they may see, and the resources the case names that they may not."""

    requester: Requester
    sees_all: bool
    visible: list  # the resources they may see, when not all
    resources: list  # the tenant's resources (tenants.selectors.resources_of): also the case page's choices
    hidden_named: list  # [(resource, "affected resource" | "named in the text")]

    @property
    def tenant_resources(self) -> int:
        return len(self.resources)


def requester_card(case: Case, affected: list[Resource] | None = None) -> RequesterCard:
    """The card's facts. A resource counts as named when it is one of the case's affected resources
    or its external id appears in the subject or description."""
    requester = case.requester
    if requester.sees_all_resources:
        visible_ids = None
    elif hasattr(case, "_page_visible_resources"):  # read with the case (case_get_for_user(page=True))
        visible_ids = set(case._page_visible_resources)
    else:
        visible_ids = requester_visible_resource_ids(requester)
    tenant_resources = resources_of(case.tenant, limit=500)
    affected = case_affected_resources(case) if affected is None else affected
    hidden = []
    if visible_ids is not None:
        text = f"{case.subject}\n{case.description}".lower()
        affected_ids = {r.pk for r in affected}
        for resource in tenant_resources:
            if resource.pk in visible_ids:
                continue
            if resource.pk in affected_ids:
                hidden.append((resource, "affected resource"))
            elif resource.external_id.lower() in text:
                hidden.append((resource, "named in the text"))
    return RequesterCard(
        requester=requester,
        sees_all=visible_ids is None,
        visible=[r for r in tenant_resources if visible_ids is not None and r.pk in visible_ids],
        resources=tenant_resources,
        hidden_named=hidden,
    )


def resources_named_by_cases(case_ids) -> QuerySet[Resource]:
    """The resources that the cases `case_ids` name as affected: the start of an incident's blast
    radius (the incidents app reads this; with `blast_radius` for what depends on them)."""
    return Resource.objects.filter(cases__pk__in=list(case_ids)).distinct().order_by("external_id")


def blast_radius(case_ids, *, open_cases_limit: int = 50) -> dict:
    """What cases `case_ids` reach through their affected resources: those resources, every resource
    depending on them (tenants.selectors.reach), and the open cases naming any of them (the other
    customers likely hit). Not permission-scoped: the caller shows it to someone who may see them."""
    named = list(resources_named_by_cases(case_ids))
    reached = reach([r.pk for r in named])
    dependent_ids = {rid for rids in reached.values() for rid in rids} - {r.pk for r in named}
    dependents = list(Resource.objects.filter(pk__in=dependent_ids).order_by("external_id"))
    all_ids = [r.pk for r in named] + [r.pk for r in dependents]
    cases = list(
        Case.objects.open()
        .filter(affected_resources__in=all_ids)
        .exclude(pk__in=list(case_ids))
        .distinct()
        .order_by("priority", "created_at")
        .only("id", "subject", "tenant_id", "priority", "status")[:open_cases_limit]
    )
    return {"resources": named, "dependents": dependents, "open_cases": cases}


# --- similar cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarCase:
    case: Case  # id, subject, category, status, created_at, tenant_id loaded
    shared_words: frozenset
    same_category: bool  # the same category (also "other"; matching by category ignores "other")
    shared_codes: frozenset = frozenset()
    shared_resources: frozenset = frozenset()

    @property
    def why(self) -> str:
        if self.same_category:
            return "same category"
        if self.shared_words:
            return f"shared words: {', '.join(sorted(self.shared_words)[:4])}"
        if self.shared_codes:
            return f"same error: {', '.join(sorted(self.shared_codes)[:4])}"
        return "same resource"


SIMILAR_BY = ("words", "category", "error_codes", "resource")


def similar_cases(
    case: Case,
    *,
    now: datetime,
    window: timedelta = timedelta(days=30),
    other_tenants: bool = False,
    by: tuple[str, ...] = ("category", "words"),
    min_shared_words: int = 2,
    limit: int | None = 5,
    scan: int = 200,
) -> list[SimilarCase]:
    """Cases like `case`: the one definition of "similar" that context capture, incident detection,
    escalation counts, handoff patterns, suggestions and the copilot share.

    Looks at cases created in `window` before `now` (never `case` itself): of the same tenant, or with
    `other_tenants=True` of every other tenant. A case is similar when any criterion named in `by`
    holds:
      "words"        at least `min_shared_words` subject keywords in common (cases.triage.keywords)
      "category"     the same category, unless that is "other"
      "error_codes"  an HTTP error status or error id in common in the subjects (cases.triage.error_codes)
      "resource"     an affected resource in common (one more query)
    Newest first; at most `scan` candidates are read (a cost bound: recent cases are what matter) and at
    most `limit` returned (None: all that match among those scanned). Not permission-scoped: callers
    show the result to someone who may see `case`'s tenant, or only count it (other tenants)."""
    unknown = set(by) - set(SIMILAR_BY)
    if unknown:
        raise ValueError(f"similar_cases cannot match by {', '.join(sorted(unknown))}")
    words = triage.keywords(case.subject)
    codes = triage.error_codes(case.subject) if "error_codes" in by else set()
    qs = Case.objects.filter(created_at__gte=now - window).exclude(pk=case.pk)
    qs = qs.exclude(tenant_id=case.tenant_id) if other_tenants else qs.filter(tenant_id=case.tenant_id)
    qs = qs.order_by("-created_at").only("id", "subject", "category", "status", "created_at", "tenant_id")
    resources: set = set()
    if "resource" in by and case.pk:
        resources = set(case.affected_resources.values_list("pk", flat=True))
        if resources:
            qs = qs.prefetch_related("affected_resources")
    found = []
    for other in qs[:scan]:
        shared = words & triage.keywords(other.subject) if "words" in by else set()
        same_category = other.category == case.category
        shared_codes = codes & triage.error_codes(other.subject) if codes else set()
        shared_resources = resources & {r.pk for r in other.affected_resources.all()} if resources else set()
        by_category = "category" in by and same_category and case.category != "other"
        if by_category or len(shared) >= min_shared_words or shared_codes or shared_resources:
            found.append(
                SimilarCase(
                    case=other,
                    shared_words=frozenset(shared) if len(shared) >= min_shared_words else frozenset(),
                    same_category=same_category,
                    shared_codes=frozenset(shared_codes),
                    shared_resources=frozenset(shared_resources),
                )
            )
            if limit is not None and len(found) >= limit:
                break
    return found


# --- the context snapshot ----------------------------------------------------------------------------------


def context_snapshot(case: Case, now: datetime) -> tuple[triage.Signals, dict]:
    """Everything a context capture reads at `now`: the tenant's signals (tenants.selectors), similar
    cases here and at other tenants, and what the registered context providers add (cases.context:
    e.g. the incidents app's active incidents). Returns the Signals for the priority suggestion and
    the JSON the CaseContext stores."""
    tenant = case.tenant
    telemetry = tenant_signals(tenant, now)
    similar = similar_cases(case, now=now, window=timedelta(days=30), by=("category", "words", "resource"), limit=5)
    others_last_hour = 0
    if triage.keywords(case.subject):
        matches = similar_cases(case, now=now, window=timedelta(hours=1), other_tenants=True, by=("words",), limit=None)
        others_last_hour = len({m.case.tenant_id for m in matches})
    extra_data, extra_signals = {}, {}
    for _name, provider in context_providers():
        contribution = provider(case, now)
        extra_data.update(contribution.data)
        extra_signals.update(contribution.signals)
    firing = telemetry.firing_alerts
    affected = case_affected_resources(case) if case.pk else []
    affected_ids = {r.pk for r in affected}
    deployments = [
        {
            "version": d.version,
            "resource": d.resource.external_id if d.resource_id else "",
            "at": d.deployed_at.isoformat(),
            "affected": d.resource_id in affected_ids,
        }
        for d in telemetry.deployments
    ]
    resources = [
        {
            "name": r.external_id,
            "kind": r.kind,
            "health": r.health,
            "version": r.version,
            "region": r.region,
            "firing": r.firing,
        }
        for r in affected
    ]
    values = {
        "firing_alerts": [
            {"name": a.name, "severity": a.severity, "resource": a.resource.external_id if a.resource_id else ""}
            for a in firing
        ],
        "red_slis": telemetry.red_slis,
        "amber_slis": telemetry.amber_slis,
        "similar_other_tenants_last_hour": others_last_hour,
        "recent_deployments": deployments,
        "affected_resources": [{"name": r["name"], "health": r["health"]} for r in resources],
    }
    for name, value in extra_signals.items():  # a provider's list extends ours; any other value replaces it
        values[name] = values[name] + list(value) if isinstance(values.get(name), list) else value
    signals = triage.Signals(**values)
    health = {
        name: {"health": s.health, "value": s.value, "objective": s.objective, "budget": s.error_budget_remaining}
        for name, s in telemetry.latest_slis.items()
    }
    data = {
        "health": {"overall": telemetry.health, "slis": health},
        "alerts": [
            {
                "name": a.name,
                "severity": a.severity,
                "resource": a.resource.external_id if a.resource_id else "",
                "since": a.starts_at.isoformat(),
                "summary": a.summary,
                "affected": a.resource_id in affected_ids,
            }
            for a in firing
        ],
        "affected_resources": resources,
        "incidents": signals.active_incidents,
        "similar_cases": [
            {"key": m.case.key, "subject": m.case.subject, "status": m.case.status, "why": m.why} for m in similar
        ],
        "deployments": deployments,
        "other_tenants_same_issue_last_hour": others_last_hour,
        "entitlement_flags": triage.entitlement_flags(tenant.entitlements, channel=case.channel),
        **extra_data,
    }
    return signals, data


def case_exists(case_id: int) -> bool:
    return Case.objects.filter(pk=case_id).exists()
