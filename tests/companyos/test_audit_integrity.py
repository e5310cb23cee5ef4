"""Issue 8, findings 1 and 5: the audit table holds up against the application's own database role.

The suite connects as the application's role (DATABASE_URL) and creates, migrates and flushes its
databases as the owner role (MIGRATE_DATABASE_URL; tests/conftest.py). Tampering "as the owner" below
uses a connection of its own (companyos.db.owner_connection), hence transactional tests."""

from __future__ import annotations

import gzip
import hashlib
import logging
from datetime import timedelta

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cases import services
from cases.models import Case
from companyos import audit, audit_trail, tasks
from companyos.db import owner_connection
from companyos.models import AuditArchive, AuditSeal
from tenants.models import Requester
from tests.factories import CaseFactory, TenantFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the roles and triggers are PostgreSQL's"),
    pytest.mark.skipif(
        not settings.MIGRATE_DATABASE_URL, reason="needs the two roles (DATABASE_URL, MIGRATE_DATABASE_URL): .ci/test"
    ),
]

REFUSED = "permission denied|must be owner|immutable|stamped by the database"


def _sql(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def _refused(statement, params=None, match=REFUSED):
    with transaction.atomic():
        _sql("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks in the way of a TRUNCATE
        with pytest.raises(DatabaseError, match=match), transaction.atomic():
            _sql(statement, params)


def _owner(statement, params=None):
    """Run SQL as the owner role in a transaction of its own, the table's triggers disabled (what a
    DBA, or an attacker holding the owner's credentials, can do)."""
    with owner_connection() as owner:
        owner.ensure_connection()
        with owner.connection.transaction(), owner.connection.cursor() as cursor:
            cursor.execute("ALTER TABLE auditlog_logentry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE companyos_auditseal DISABLE TRIGGER USER")
            cursor.execute(statement, params)
            cursor.execute("ALTER TABLE auditlog_logentry ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE companyos_auditseal ENABLE TRIGGER USER")


@pytest.fixture
def entry(case_a, agent):
    with set_actor(agent):
        return audit.log_access(case_a, view="case page")


# --- the application's role -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_application_connects_as_a_role_that_is_no_superuser_and_owns_nothing():
    [(user, superuser, bypassrls, createrole)] = _sql(
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )
    assert user == settings.DATABASE_APP_USER and not (superuser or bypassrls or createrole)
    assert _sql(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ) == [(0,)]
    privileges = dict(
        _sql(
            "SELECT p, has_table_privilege('auditlog_logentry', p) FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', "
            "'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p"
        )
    )
    assert privileges == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "REFERENCES": False,
        "TRIGGER": False,
    }
    # Every other table made by the migrations (post_migrate grants): normal DML, no TRUNCATE.
    rows = _sql(
        """SELECT c.relname, has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE'),
                  has_table_privilege(c.oid, 'TRUNCATE')
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition
             AND c.relname NOT IN ('companyos_auditseal', 'companyos_auditarchive')"""
    )
    assert len(rows) > 30 and all(dml and not truncate for _name, dml, truncate in rows), rows


@pytest.mark.django_db
def test_the_application_role_cannot_rewrite_erase_or_unlock_the_trail(entry):
    partition = _sql("SELECT tableoid::regclass::text FROM auditlog_logentry WHERE id = %s", [entry.pk])[0][0]
    for statement in (
        "UPDATE auditlog_logentry SET object_repr = 'nothing happened' WHERE id = %s",
        "DELETE FROM auditlog_logentry WHERE id = %s",
        f"UPDATE {partition} SET object_repr = 'nothing happened' WHERE id = %s",
        f"DELETE FROM {partition} WHERE id = %s",
    ):
        _refused(statement, [entry.pk])
    for statement in (
        "TRUNCATE auditlog_logentry",
        f"TRUNCATE {partition}",
        "ALTER TABLE auditlog_logentry DISABLE TRIGGER companyos_audit_immutable",
        "ALTER TABLE auditlog_logentry DISABLE TRIGGER ALL",
        f"ALTER TABLE {partition} DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
        "DROP TRIGGER companyos_audit_stamp ON auditlog_logentry",
        "ALTER TABLE auditlog_logentry DETACH PARTITION " + partition,
        "DROP TABLE " + partition,
        "SELECT setval('auditlog_logentry_id_seq', 1)",
        "UPDATE companyos_auditseal SET digest = ''",
        "DELETE FROM companyos_auditseal",
        "TRUNCATE companyos_auditseal",
        "CREATE OR REPLACE FUNCTION companyos_audit_stamp() RETURNS trigger LANGUAGE plpgsql"
        " AS $$BEGIN RETURN NEW; END$$",
    ):
        _refused(statement)
    fresh = LogEntry.objects.get(pk=entry.pk)
    assert fresh.object_repr == entry.object_repr


@pytest.mark.django_db
def test_the_database_stamps_the_time_and_refuses_a_back_dated_or_future_entry(case_a):
    ct = ContentType.objects.get_for_model(Case).pk
    insert = (
        "INSERT INTO auditlog_logentry (object_pk, object_repr, action, timestamp, content_type_id, changes_text,"
        " actor_email, row_hash) VALUES ('1', 'forged', 3, {when}, %s, '', 'someone@example.com', '\\x00')"
        " RETURNING id, timestamp, statement_timestamp(), actor_email, row_hash"
    )
    _refused(insert.format(when="statement_timestamp() - interval '400 days'"), [ct], match="stamped by the database")
    _refused(insert.format(when="statement_timestamp() + interval '400 days'"), [ct], match="stamped by the database")
    # Earlier the same month: the row stays in its partition, with the database's time.
    [(pk, stamped, now, email, row_hash)] = _sql(
        insert.format(
            when="greatest(date_trunc('month', statement_timestamp()), statement_timestamp() - interval '1 hour')"
        ),
        [ct],
    )
    assert stamped == now and email is None and bytes(row_hash) != b"\x00" and len(bytes(row_hash)) == 32
    # The ORM's entries carry the database's time too (read back after the insert).
    before = _sql("SELECT statement_timestamp()")[0][0]
    created = audit.log_access(case_a, view="case page")
    assert created.timestamp >= before and created.timestamp == LogEntry.objects.get(pk=created.pk).timestamp


@pytest.mark.django_db
def test_partitions_are_made_ahead_by_the_application_role_through_the_definer_function():
    months = _sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'auditlog_logentry'::regclass")[0][0]
    assert audit_trail.ensure_partitions(months_ahead=settings.AUDIT_PARTITIONS_AHEAD + 2) == 2
    assert audit_trail.ensure_partitions(months_ahead=settings.AUDIT_PARTITIONS_AHEAD + 2) == 0
    assert _sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'auditlog_logentry'::regclass")[0][0] == months + 2
    _refused(
        "CREATE TABLE auditlog_logentry_p1999_01 PARTITION OF auditlog_logentry"
        " FOR VALUES FROM ('1999-01-01') TO ('1999-02-01')"
    )


# --- personal fields ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_personal_fields_are_recorded_as_changed_with_a_hash_and_people_by_id(tenant_a, agent):
    with set_actor(agent):
        requester = Requester.objects.create(tenant=tenant_a, name="Kari Nordmann", email="kari@acme.example")
        requester.name, requester.email = "Kari Hansen", "kari.hansen@acme.example"
        requester.save()
        case = CaseFactory(tenant=tenant_a, requester=requester, description="My password is hunter2")
        services.case_reply(case_id=case.pk, actor=agent, body="Dear Kari, call me on +47 555 12345", public=True)
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Requester), object_pk=str(requester.pk)
    )
    text = " ".join(f"{e.object_repr} {e.changes} {e.actor_email}" for e in entries)
    assert entries.count() == 2 and {e.object_repr for e in entries} == {f"requester {requester.pk}"}
    for clear in ("Kari", "Nordmann", "Hansen", "acme.example"):
        assert clear not in text
    update = entries.get(action=LogEntry.Action.UPDATE).changes_dict
    assert set(update) == {"name", "email"} and all(
        v.startswith("changed (hmac ") for pair in update.values() for v in pair
    )
    assert update["name"][0] != update["name"][1]
    everything = " ".join(f"{e.object_repr} {e.changes}" for e in LogEntry.objects.all())
    assert "hunter2" not in everything and "555 12345" not in everything
    assert _sql("SELECT count(*) FROM auditlog_logentry WHERE actor_email IS NOT NULL") == [(0,)]


# --- seals and verification --------------------------------------------------------------------------------------


def _trail(tenant_count=2):
    for i in range(tenant_count):
        tenant = TenantFactory(name=f"Tenant {i}", slug=f"tenant-{i}")
        case = CaseFactory(tenant=tenant)
        audit.log_access(case, view="case page")
    # Three hours ahead: the rows' hour and at least one hour after it are sealed whatever the minute
    # (two hours ahead made a single seal in the first AUDIT_SEAL_LAG minutes of an hour).
    sealed = audit_trail.seal_closed_intervals(now=timezone.now() + timedelta(hours=3))
    assert sealed >= 1 and AuditSeal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_audit_verify_passes_on_a_clean_trail_and_finds_a_row_the_owner_changed(capsys):
    _trail()
    call_command("audit_verify")
    assert "audit trail OK" in capsys.readouterr().out
    victim = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("pk").first()
    _owner("UPDATE auditlog_logentry SET object_repr = 'nothing to see' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=f"audit entry {victim.pk} .* does not match its row hash"):
        call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_audit_verify_finds_a_rewrite_that_recomputed_the_row_hash_and_a_deleted_row():
    _trail()
    victim = LogEntry.objects.order_by("pk").first()
    # A careful forger recomputes the row's hash with the database's own function ...
    _owner(f"UPDATE auditlog_logentry SET object_repr = 'nothing to see' WHERE id = {victim.pk}")
    _owner(f"UPDATE auditlog_logentry SET row_hash = {audit_trail.ROW_HASH_SQL} WHERE id = {victim.pk}")
    assert audit_trail.verify().rows_checked == LogEntry.objects.count()
    # ... and is caught by the seal over the rows' hashes.
    with pytest.raises(CommandError, match=r"seal \d+ .* does not match the rows it sealed \(entries changed\)"):
        call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_audit_verify_finds_a_deleted_row_and_a_removed_seal_and_alerts(caplog, settings):
    settings.ADMINS = [("Security", "security@companyos.example")]
    _trail()
    victim = LogEntry.objects.order_by("-pk").first()
    _owner("DELETE FROM auditlog_logentry WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=r"\(1 entries deleted\)"):
        call_command("audit_verify")
    with caplog.at_level(logging.ERROR, logger="companyos.tasks"):
        assert tasks.audit_verify_task() is False
    assert "verification failed" in caplog.text
    assert [m.to for m in mail.outbox] == [["security@companyos.example"]]
    assert "entries deleted" in mail.outbox[0].body

    _owner("DELETE FROM companyos_auditseal WHERE id = (SELECT min(id) FROM companyos_auditseal)")
    result = audit_trail.verify()
    assert not result.ok and "does not follow the previous seal" in result.problems[0]


@pytest.mark.django_db(transaction=True)
def test_a_forged_seal_does_not_verify_without_the_key():
    _trail()
    seal = AuditSeal.objects.order_by("period_start").last()
    _owner("UPDATE companyos_auditseal SET row_count = row_count + 1 WHERE id = %s", [seal.pk])
    result = audit_trail.verify()
    assert not result.ok and "was rewritten" in result.problems[0]


@pytest.mark.django_db(transaction=True)
def test_sealing_is_idempotent_and_chained():
    _trail()
    count = AuditSeal.objects.count()
    assert audit_trail.seal_closed_intervals(now=timezone.now() + timedelta(hours=2)) == 0
    assert AuditSeal.objects.count() == count
    seals = list(AuditSeal.objects.order_by("period_start"))
    assert seals[0].prev_digest == "" and all(b.prev_digest == a.digest for a, b in zip(seals, seals[1:], strict=False))
    assert all(b.period_start == a.period_end for a, b in zip(seals, seals[1:], strict=False))
    assert sum(s.row_count for s in seals) == LogEntry.objects.count()


# --- retention -------------------------------------------------------------------------------------------------------


def _old_partition(months_back: int, rows: int) -> tuple[str, object]:
    """A monthly partition `months_back` months ago holding `rows` entries (as the owner: the database
    refuses back-dated entries from anyone else)."""
    start = audit_trail.retention_cutoff(timezone.now(), months_back)
    name = f"auditlog_logentry_p{start:%Y_%m}"
    ct = ContentType.objects.get_for_model(Case).pk
    with owner_connection() as owner:
        owner.ensure_connection()
        with owner.connection.transaction(), owner.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF auditlog_logentry FOR VALUES FROM (%s) TO (%s)",
                [start, audit_trail.retention_cutoff(timezone.now(), months_back - 1)],
            )
            cursor.execute("ALTER TABLE auditlog_logentry DISABLE TRIGGER companyos_audit_stamp")
            cursor.execute(
                "INSERT INTO auditlog_logentry (id, object_pk, object_repr, action, timestamp, content_type_id,"
                " changes_text, row_hash) SELECT id, pk, repr, 3, ts, ct, '', companyos_audit_row_hash(id, ts, ct, pk,"
                " NULL, repr, NULL, 3::smallint, '', NULL, NULL, NULL, NULL, NULL, NULL) FROM (SELECT"
                " nextval('auditlog_logentry_id_seq') AS id, i::text AS pk, 'case ' || i AS repr,"
                " %s::timestamptz + make_interval(mins => i) AS ts, %s::integer AS ct FROM generate_series(1, %s) i) s",
                [start, ct, rows],
            )
            cursor.execute("ALTER TABLE auditlog_logentry ENABLE TRIGGER companyos_audit_stamp")
    return name, start


@pytest.mark.django_db(transaction=True)
def test_retention_exports_verifies_and_drops_a_month_past_retention(tmp_path, case_a):
    name, start = _old_partition(months_back=3, rows=120)
    audit.log_access(case_a, view="case page")  # and one entry of today, which stays
    audit_trail.seal_closed_intervals(now=timezone.now() + timedelta(hours=2), limit=100_000)
    assert audit_trail.verify().ok

    archived = audit_trail.archive_expired_partitions(months=2, archive_dir=tmp_path)

    assert [a.partition for a in archived] == [name]
    record = AuditArchive.objects.get()
    path = tmp_path / f"{name}.csv.gz"
    assert record.row_count == 120 and record.path == str(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256
    assert (tmp_path / f"{name}.csv.gz.sha256").read_text() == f"{record.sha256}  {name}.csv.gz\n"
    with gzip.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    assert lines[0].startswith("id,") and len(lines) == 121 and "case 120" in lines[-1]
    assert _sql("SELECT to_regclass(%s)", [name]) == [(None,)]
    assert LogEntry.objects.count() >= 1
    assert audit_trail.verify().ok  # the archived hours' seals still chain; their rows are in the file
    assert audit_trail.archive_expired_partitions(months=2, archive_dir=tmp_path) == []


@pytest.mark.django_db(transaction=True)
def test_retention_keeps_a_partition_whose_seals_do_not_verify(tmp_path):
    name, _start = _old_partition(months_back=3, rows=10)
    audit_trail.seal_closed_intervals(now=timezone.now() + timedelta(hours=2), limit=100_000)
    _owner(f"DELETE FROM {name} WHERE object_pk = '5'")
    with pytest.raises(audit_trail.ArchiveError, match="is not archived"):
        audit_trail.archive_expired_partitions(months=2, archive_dir=tmp_path)
    assert _sql("SELECT to_regclass(%s)::text", [name]) == [(name,)]
    assert not list(tmp_path.iterdir()) and not AuditArchive.objects.exists()
