"""Many cases fast, for benchmarks (up to millions): `bulk_cases(world, n)` — PostgreSQL COPY (psycopg
3) or `bulk_create` elsewhere, one inbound interaction per case, tags for some, auditing off; about
15% stay open, the rest resolved or closed, created over ~3 years. A big load drops the case tables'
secondary indexes and rebuilds them from their own definitions (`_indexes_dropped`).

`ensure_cases(world, target)` tops the case table up to `target`: realistic timelines
(`demo.timelines`) up to BULK_THRESHOLD cases, the bulk loader beyond it.
"""

from __future__ import annotations

import math
import random
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from auditlog.context import disable_auditlog
from django.db import connection, transaction
from django.utils import timezone

from cases.choices import OPEN_STATUSES, Status
from cases.models import Case, Interaction
from companyos.db import owner_connection

from .catalog import ENTITLEMENTS, TAGS
from .planning import TRIAGE_MINUTES
from .tickets import IT, C, H, L, M, draft_ticket, fill
from .timelines import realistic_cases
from .world import DEFAULT_DEMO_CASES, Out, World, _quiet, owner_choices

# Up to this many cases in the table, new cases get full timelines; beyond it, the bulk loader.
BULK_THRESHOLD = 5_000
# When a big load starts from an empty table, the first cases are still realistic ones.
REALISTIC_HEAD = DEFAULT_DEMO_CASES


# --- bulk cases for benchmarks ----------------------------------------------------------------------

BULK_YEARS = 3
OPEN_TAU_DAYS = 60.0  # open probability decays with age: 0.9·e^(−age/τ) + 1.5% stale tail → ~15% open overall
RESOLUTION_HOURS = {C: 3.0, H: 10.0, M: 36.0, L: 96.0}  # medians
CASE_COLUMNS = [
    "id",
    "tenant_id",
    "requester_id",
    "subject",
    "description",
    "status",
    "priority",
    "category",
    "issue_type",
    "environment",
    "channel",
    "owner_id",
    "team_id",
    "duplicate_of_id",
    "created_at",
    "updated_at",
    "status_changed_at",
    "triaged_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "version",
    # Non-nullable without a database default: COPY must name them. The bulk cases carry no SLA
    # clocks, so the summary is empty (what the clocks' summary is for a case without clocks).
    "sla_clock",
    "sla_paused",
]
INTERACTION_COLUMNS = ["case_id", "kind", "public", "actor_id", "requester_id", "channel", "body", "data", "created_at"]


class _BulkFactory:
    """Rows for `bulk_cases`, cheap enough for millions: ticket texts come from a pre-drawn pool and
    `created_at` grows with the row number (stratified), so ids follow time."""

    def __init__(self, world: World, n: int, rng: random.Random, now: datetime, first_index: int = 0):
        self.world, self.n, self.rng, self.now = world, n, rng, now
        self.pool = [draft_ticket(rng, now) for _ in range(3000)]
        self.tenant_ids = [t.pk for t in world.tenants]
        self.tenant_weights = list(world.weights())
        self.channels = {t.pk: ENTITLEMENTS[world.specs[t.pk].tier]["channels"] for t in world.tenants}
        self.requesters = {t.pk: [r.pk for r in world.requesters[t.pk]] for t in world.tenants}
        self.default_team = {t.pk: t.default_team_id for t in world.tenants}
        self.owners = {}
        for t in world.tenants:
            users, weights = owner_choices(world, t.pk)
            self.owners[t.pk] = ([u.pk for u in users], weights)
        self.engineering = world.teams["engineering"].pk
        self.sre = world.teams["sre"].pk
        self.tag_ids = {name: world.tags[name].pk for name in TAGS}
        self.span = BULK_YEARS * 365 * 86400.0
        self.talk = _conversation_pools(rng, now)

    def row(self, i: int):
        rng, now = self.rng, self.now
        u = (i + rng.random()) / self.n
        age = self.span * (1.0 - u ** (1.0 / 3.0))  # volume grows over the years
        created = now - timedelta(seconds=age + 30)
        age_days = age / 86400.0
        d = rng.choice(self.pool)
        tenant = rng.choices(self.tenant_ids, self.tenant_weights)[0]
        requester = rng.choice(self.requesters[tenant])
        channel = rng.choice(self.channels[tenant])
        p = d.priority
        team = self.default_team[tenant]
        if d.issue_type in (IT.BUG, IT.INCIDENT) and rng.random() < 0.15:
            team = self.sre if (d.issue_type == IT.INCIDENT and p == C and rng.random() < 0.5) else self.engineering
        users, weights = self.owners[tenant]

        triage_s = 60 * rng.uniform(*TRIAGE_MINUTES[p])
        triaged = created + timedelta(seconds=triage_s)
        responded = triaged + timedelta(seconds=rng.uniform(60, 1800))
        resolved = triaged + timedelta(hours=RESOLUTION_HOURS[p] * rng.lognormvariate(0, 0.9))
        is_open = rng.random() < 0.9 * math.exp(-age_days / OPEN_TAU_DAYS) + 0.015 or resolved >= now
        triaged_at = first_response_at = resolved_at = closed_at = None
        if is_open:
            if age_days < 1:
                status = rng.choices(OPEN_STATUSES, [45, 30, 25, 0])[0]
            elif age_days < 7:
                status = rng.choices(OPEN_STATUSES, [8, 12, 50, 30])[0]
            else:
                status = rng.choices(OPEN_STATUSES, [0, 1, 52, 47])[0]
            if status == Status.NEW:
                changed = updated = created
                version = 1
                owner = None if rng.random() < 0.8 else rng.choices(users, weights)[0]
            else:
                triaged_at = min(triaged, now)
                changed = triaged_at
                if status != Status.TRIAGE or rng.random() < 0.6:
                    first_response_at = min(responded, now)
                if status in (Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER):
                    start = first_response_at or triaged_at
                    changed = start + (now - start) * rng.random()
                updated = changed + (now - changed) * rng.random() * 0.5
                version = rng.randint(2, 9)
                owner = (
                    None
                    if rng.random() < (0.35 if status == Status.TRIAGE else 0.08)
                    else rng.choices(users, weights)[0]
                )
        else:
            auto_close = timedelta(days=rng.uniform(1, 7))
            triaged_at, first_response_at, resolved_at = triaged, responded, max(resolved, responded)
            if resolved_at + auto_close < now:
                status, closed_at = Status.CLOSED, resolved_at + auto_close
                changed = updated = closed_at
            else:
                status = Status.RESOLVED
                changed = updated = resolved_at
            version = rng.randint(4, 14)
            owner = None if rng.random() < 0.02 else rng.choices(users, weights)[0]
        tags = ()
        if d.tags and rng.random() < 0.4:
            tags = tuple(self.tag_ids[t] for t in d.tags[: rng.randint(1, 2)])
        case = (
            tenant,
            requester,
            d.subject,
            d.description,
            status,
            p,
            d.category,
            d.issue_type,
            d.environment,
            channel,
            owner,
            team,
            None,
            created,
            updated,
            changed,
            triaged_at,
            first_response_at,
            resolved_at,
            closed_at,
            version,
            "",
            False,
        )
        talk = self._conversation(d.issue_type, status, owner, requester, created, updated)
        return case, tags, requester, channel, d.description, created, talk

    def _conversation(self, issue_type, status, owner, requester, created, updated):
        """The messages after the opening one, as a support conversation goes: the agent's
        acknowledgement and question, an internal note, the customer's follow-up, and for a
        resolved case the resolution and often the customer's thanks (≈ 5 messages a case on
        average). (kind, public, actor, requester, body, created_at) tuples, in time order."""
        if status == Status.NEW:
            return []
        rng, pools = self.rng, self.talk
        agent = owner
        steps = [("reply", "ack"), ("reply", "ask"), ("note", "note"), ("inbound", "followup"), ("note", "note")]
        if status in (Status.RESOLVED, Status.CLOSED):
            steps += [("reply", "resolution")] + ([("inbound", "confirmation")] if rng.random() < 0.6 else [])
        elif status == Status.TRIAGE:
            steps = steps[: rng.randint(1, 3)]
        span = max((updated - created).total_seconds(), 60.0)
        out = []
        for i, (kind, pool) in enumerate(steps, start=1):
            texts = pools[pool].get(issue_type) or pools[pool][None]
            at = created + timedelta(seconds=span * i / (len(steps) + 1))
            public = kind != "note"
            by_customer = kind == "inbound"
            out.append(
                (
                    kind,
                    public,
                    None if by_customer else agent,
                    requester if by_customer else None,
                    rng.choice(texts),
                    at,
                )
            )
        return out


def _conversation_pools(rng: random.Random, now: datetime) -> dict[str, dict]:
    """Pre-filled message texts (demo.replies) per step and issue type (None: any type)."""
    from .replies import ACK, ASK, CONFIRMATIONS, CUSTOMER_FOLLOWUPS, NOTES, RESOLUTIONS

    def filled(texts, n=40):
        return [fill(rng.choice(texts), rng, now) for _ in range(n)]

    def by_type(table):
        pools = {it: filled(texts) for it, texts in table.items() if texts}
        pools[None] = [text for texts in pools.values() for text in texts]
        return pools

    return {
        "ack": {None: filled(ACK)},
        "ask": by_type(ASK),
        "note": by_type(NOTES),
        "followup": by_type(CUSTOMER_FOLLOWUPS),
        "resolution": by_type(RESOLUTIONS),
        "confirmation": {None: filled(CONFIRMATIONS)},
    }


REBUILD_INDEXES_FROM = 50_000


def bulk_cases(
    world: World,
    n: int,
    *,
    out: Out = _quiet,
    seed: int = 11,
    batch_size: int = 20_000,
    now: datetime | None = None,
    rebuild_indexes: bool | None = None,
) -> int:
    """Load `n` cases fast: COPY on PostgreSQL, bulk_create elsewhere. One inbound interaction per
    case, tags for ~40% of those whose ticket suggests some. No audit entries (auditlog disabled).

    On PostgreSQL a load of 50k+ rows that at least doubles the table drops the secondary indexes of
    the case tables first and rebuilds them at the end (from their own definitions in pg_index):
    that is about twice as fast as maintaining ~30 indexes row by row (`rebuild_indexes` forces it
    on or off)."""
    if n <= 0:
        return 0
    existing = Case.objects.count()
    rng = random.Random(f"{seed}-{existing}")
    now = now or timezone.now()
    factory = _BulkFactory(world, n, rng, now)
    postgres = connection.vendor == "postgresql"
    if rebuild_indexes is None:
        rebuild_indexes = n >= REBUILD_INDEXES_FROM and n >= existing
    started = time.perf_counter()
    done = 0
    out(f"  bulk loading {n:,} cases via {'COPY' if postgres else 'bulk_create'} in batches of {batch_size:,}")
    search_later = postgres and rebuild_indexes
    with (
        disable_auditlog(),
        _search_built_after(out) if search_later else _nothing(),
        _indexes_dropped(out) if search_later else _nothing(),
    ):
        while done < n:
            size = min(batch_size, n - done)
            rows = [factory.row(i) for i in range(done, done + size)]
            with transaction.atomic():
                (_copy_batch if postgres else _orm_batch)(rows)
            done += size
            elapsed = time.perf_counter() - started
            out(f"  {done:,}/{n:,} cases ({elapsed:.1f} s, {done / elapsed:,.0f}/s)")
    if postgres:
        # VACUUM as well as ANALYZE: it sets the visibility map, without which the queue's
        # index-only scans (capped counts) fall back to visiting the heap. Not inside a transaction.
        out("  VACUUM ANALYZE …")
        tables = f"{Case._meta.db_table}, {Interaction._meta.db_table}, {Case.tags.through._meta.db_table}"
        if connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {tables}")
        else:
            with owner_connection() as owner, owner.cursor() as cursor:  # VACUUM is the tables' owner's
                cursor.execute(f"VACUUM ANALYZE {tables}")
    return n


@contextmanager
def _nothing():
    yield


SEARCH_TRIGGERS = {
    "cases_case": ["cases_search_case_ins", "cases_search_case_upd"],
    "cases_interaction": ["cases_search_message_ins", "cases_search_message_upd", "cases_search_message_del"],
}


@contextmanager
def _search_built_after(out: Out):
    """For a big load: the search-document triggers (cases migration 0550) off, and the documents
    of the new cases built at the end in one pass (set-based, then the GIN index built once), which
    is many times faster than a trigger per message. On again when the block ends, however it ends."""
    from cases.models import CaseSearch

    def triggers(action: str) -> None:
        with owner_connection() as owner, owner.cursor() as cursor:
            for table, names in SEARCH_TRIGGERS.items():
                for name in names:
                    cursor.execute(f"ALTER TABLE {table} {action} TRIGGER {name}")

    triggers("DISABLE")
    try:
        yield
    finally:
        triggers("ENABLE")
    started = time.perf_counter()
    index = CaseSearch._meta.indexes[0]
    table = CaseSearch._meta.db_table
    out("  building the search documents …")
    with owner_connection() as owner, owner.cursor() as cursor:
        cursor.execute(f'DROP INDEX IF EXISTS "{index.name}"')
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(
            f"INSERT INTO {table} (case_id, document) SELECT c.id, cases_search_document(c.id) FROM cases_case c"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} s WHERE s.case_id = c.id)"
        )
        with owner.schema_editor(atomic=False) as editor:
            editor.add_index(CaseSearch, index)
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute(f"VACUUM ANALYZE {table}")
    out(f"  search documents built in {time.perf_counter() - started:.1f} s")


def _bulk_tables() -> list[str]:
    return [Case._meta.db_table, Interaction._meta.db_table, Case.tags.through._meta.db_table]


@contextmanager
def _indexes_dropped(out: Out):
    """Drop the plain secondary indexes of the case tables (never primary keys, unique indexes or
    anything backing a constraint) and recreate them, exactly as defined, when the block ends —
    also when it fails or is interrupted."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ic.relname, pg_get_indexdef(ix.indexrelid)
            FROM pg_index ix
            JOIN pg_class ic ON ic.oid = ix.indexrelid
            JOIN pg_class tc ON tc.oid = ix.indrelid
            WHERE tc.relname = ANY(%s) AND pg_table_is_visible(tc.oid)
              AND NOT ix.indisprimary AND NOT ix.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid)
            ORDER BY tc.relname, ic.relname
            """,
            [_bulk_tables()],
        )
        definitions = cursor.fetchall()
    out(f"  dropping {len(definitions)} secondary indexes for the load (rebuilt at the end)")
    # Index DDL is the owner role's (MIGRATE_DATABASE_URL; the application's role owns nothing).
    with owner_connection() as owner, owner.cursor() as cursor:
        for name, _ddl in definitions:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    try:
        yield
    finally:
        started = time.perf_counter()
        out(f"  rebuilding {len(definitions)} indexes …")
        # Indexes declared in a model's Meta are recreated by the schema editor, i.e. with the very
        # SQL their migration ran; the rest (foreign-key and trigram indexes) from pg_get_indexdef.
        declared = {index.name: (model, index) for model in (Case, Interaction) for index in model._meta.indexes}
        with owner_connection() as owner, owner.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            try:
                with owner.schema_editor(atomic=False) as editor:
                    for name, ddl in definitions:
                        if name in declared:
                            editor.add_index(*declared[name])
                        else:
                            cursor.execute(ddl.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            except Exception:
                out(
                    "  !! rebuilding failed; recreate these indexes by hand:\n"
                    + ";\n".join(d for _n, d in definitions)
                    + ";"
                )
                raise
            finally:
                cursor.execute("RESET maintenance_work_mem")
        out(f"  indexes rebuilt in {time.perf_counter() - started:.1f} s")


def _copy_batch(rows) -> None:
    case_table, inter_table = Case._meta.db_table, Interaction._meta.db_table
    tag_table = Case.tags.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [case_table, len(rows)]
        )
        ids = [r[0] for r in cursor.fetchall()]
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {case_table} ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            for pk, (case, *_rest) in zip(ids, rows):
                copy.write_row((pk, *case))
        with raw.copy(f"COPY {inter_table} ({', '.join(INTERACTION_COLUMNS)}) FROM STDIN") as copy:
            for pk, (_case, _tags, requester, channel, body, created, talk) in zip(ids, rows):
                copy.write_row(
                    (pk, "inbound", True, None, requester, channel, body, '{"opened_by": "customer"}', created)
                )
                for kind, public, actor, by, text, at in talk:
                    copy.write_row((pk, kind, public, actor, by, channel if public else "", text, "{}", at))
        with raw.copy(f"COPY {tag_table} (case_id, tag_id) FROM STDIN") as copy:
            for pk, (_case, tags, *_rest) in zip(ids, rows):
                for tag in tags:
                    copy.write_row((pk, tag))


def _orm_batch(rows) -> None:
    fields = CASE_COLUMNS[1:]
    cases = [Case(**dict(zip(fields, case))) for case, *_ in rows]
    Case.objects.bulk_create(cases, batch_size=2000)
    Interaction.objects.bulk_create(
        [
            Interaction(
                case_id=c.pk,
                kind=Interaction.Kind.INBOUND,
                public=True,
                requester_id=requester,
                channel=channel,
                body=body,
                data={"opened_by": "customer"},
                created_at=created,
            )
            for c, (_case, _tags, requester, channel, body, created, _talk) in zip(cases, rows)
        ]
        + [
            Interaction(
                case_id=c.pk,
                kind=kind,
                public=public,
                actor_id=actor,
                requester_id=by,
                channel=channel if public else "",
                body=text,
                data={},
                created_at=at,
            )
            for c, (_case, _tags, _requester, channel, _body, _created, talk) in zip(cases, rows)
            for kind, public, actor, by, text, at in talk
        ],
        batch_size=2000,
    )
    through = Case.tags.through
    through.objects.bulk_create(
        [through(case_id=c.pk, tag_id=tag) for c, (_case, tags, *_rest) in zip(cases, rows) for tag in tags],
        batch_size=2000,
    )


# --- top up ---------------------------------------------------------------------------------------


def ensure_cases(world: World, target: int, *, out: Out = _quiet) -> int:
    """Make the case table hold at least `target` cases; return how many were added. Small tables
    get realistic timelines; past BULK_THRESHOLD the remainder comes from the bulk loader (after a
    realistic head of REALISTIC_HEAD cases, so a big demo database still has rich recent cases)."""
    existing = Case.objects.count()
    missing = target - existing
    if missing <= 0:
        return 0
    if target <= BULK_THRESHOLD:
        return realistic_cases(world, missing, out=out, seed=7 + existing)
    head = max(0, min(REALISTIC_HEAD, target) - existing)
    added = realistic_cases(world, head, out=out, seed=7 + existing) if head else 0
    return added + bulk_cases(world, missing - head, out=out)
