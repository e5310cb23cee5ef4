"""The bulk loader (COPY on PostgreSQL) behind `seed_demo --cases N` and the benchmarks above
BULK_THRESHOLD cases: it must write every non-nullable column, or a fresh database refuses the load."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F

from cases import search_index
from cases.choices import OPEN_STATUSES
from cases.models import Case, CaseSearch, Interaction
from demo import bulk_load
from demo.world import build_demo_world

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL only")


def _case_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [Case._meta.db_table])
        return {row[0] for row in cursor.fetchall()}


def _search_triggers_enabled() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT bool_and(tgenabled = 'O') FROM pg_trigger WHERE tgname LIKE 'cases_search_%%'")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_bulk_cases_copy_writes_complete_rows():
    _load_and_check(rebuild_indexes=False)


@pytest.mark.django_db(transaction=True)  # as seed_demo runs it: no outer transaction holding deferred FK checks
def test_bulk_cases_copy_with_index_rebuild():
    _load_and_check(rebuild_indexes=True)


def _load_and_check(*, rebuild_indexes: bool):
    world = build_demo_world()
    indexes = _case_indexes()
    added = bulk_load.bulk_cases(world, 450, batch_size=200, rebuild_indexes=rebuild_indexes)  # three batches

    assert added == 450
    cases = Case.objects.all()
    assert cases.count() == 450
    assert not cases.exclude(sla_clock="").exists()
    assert not cases.filter(sla_paused=True).exists()
    assert not cases.filter(sla_due_at__isnull=False).exists()
    assert set(cases.values_list("tenant_id", flat=True)) <= {t.pk for t in world.tenants}
    assert cases.filter(status__in=OPEN_STATUSES).exists() and cases.exclude(status__in=OPEN_STATUSES).exists()
    assert not cases.filter(updated_at__lt=F("created_at")).exists()
    # One opening message per case, from the case's requester, and a conversation after it (about
    # five messages a case: replies, notes, the customer's follow-ups), customer messages from the requester.
    assert Interaction.objects.filter(data__opened_by="customer").count() == 450
    messages = Interaction.objects.filter(kind__in=["inbound", "reply", "note"])
    assert 450 * 3 < messages.count() < 450 * 8
    assert not messages.filter(kind="inbound").exclude(case__requester_id=F("requester_id")).exists()
    assert not messages.filter(kind="note", public=True).exists()
    # Every case has its search document, and it holds the conversation (built after the load when
    # the triggers were off for it, by the triggers otherwise).
    assert CaseSearch.objects.count() == 450
    note = messages.filter(kind="note").first()
    word = max(note.body.split(), key=len).strip(".,:;()").lower()
    assert CaseSearch.objects.filter(case_id=note.case_id, document=search_index.search_query(word)).exists()
    assert _search_triggers_enabled()
    # The ids came from the table's sequence: the ORM's next case does not collide.
    nxt = Case.objects.create(
        tenant=world.tenants[0], requester=world.requesters[world.tenants[0].pk][0], subject="after"
    )
    assert nxt.pk > max(cases.exclude(pk=nxt.pk).values_list("pk", flat=True))
    assert _case_indexes() == indexes  # the rebuild puts back every index it dropped


@pytest.mark.django_db
def test_seed_demo_above_the_threshold_takes_the_bulk_path(monkeypatch):
    """`seed_demo --cases N` past BULK_THRESHOLD: a realistic head, then the COPY loader (the
    thresholds are lowered so the test stays small)."""
    from django.core.management import call_command

    monkeypatch.setattr(bulk_load, "BULK_THRESHOLD", 20)
    monkeypatch.setattr(bulk_load, "REALISTIC_HEAD", 10)
    called = []
    real = bulk_load._copy_batch
    monkeypatch.setattr(bulk_load, "_copy_batch", lambda rows: (called.append(len(rows)), real(rows)))
    call_command("seed_demo", cases=60, stdout=open("/dev/null", "w"))

    assert Case.objects.count() == 60
    assert sum(called) == 50
    assert Case.objects.filter(sla_clock="", sla_paused=False).count() >= 50
