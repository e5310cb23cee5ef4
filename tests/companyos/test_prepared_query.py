"""companyos.db.PreparedQuery (issue 10): a queryset compiled once and run with new values returns
what the queryset itself returns — fields, deferred fields, select_related rows, annotations — in
one statement, and every value (a time included) is the one passed, never the compiled one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case, Tag
from companyos.db import PreparedQuery
from tests.factories import CaseFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared reads are PostgreSQL's path"),
]


def _build(pk, since):
    return (
        Case.objects.filter(pk=pk, created_at__gte=since)
        .select_related("tenant", "owner")
        .defer("description")
        .annotate(_tags=ArraySubquery(Tag.objects.filter(cases=OuterRef("pk")).order_by("name").values("name")))
        .order_by()[:1]
    )


SINCE = timezone.now().replace(year=1901)


def test_rows_equal_the_querysets_own_rows_for_each_value(tenant_a, tenant_b, agent):
    one = CaseFactory(tenant=tenant_a, owner=agent, subject="Webhooks time out")
    two = CaseFactory(tenant=tenant_b, subject="Exports are empty")
    one.tags.add(Tag.objects.create(name="webhooks"), Tag.objects.create(name="api"))
    prepared = PreparedQuery(_build, pk=-7340099, since=SINCE)
    long_ago = timezone.now() - timedelta(days=1)
    for case in (one, two, one):
        with CaptureQueriesContext(connection) as ctx:
            (got,) = prepared.rows(pk=case.pk, since=long_ago)
        (expected,) = list(_build(case.pk, long_ago))
        assert len(ctx.captured_queries) == 1
        assert got.pk == expected.pk and got.subject == expected.subject
        assert got.tenant.name == expected.tenant.name  # select_related, no query
        assert (got.owner and got.owner.username) == (expected.owner and expected.owner.username)
        assert got._tags == expected._tags
        assert got.get_deferred_fields() == expected.get_deferred_fields() == {"description"}
    assert one.pk != two.pk and prepared.rows(pk=one.pk, since=long_ago)[0]._tags == ["api", "webhooks"]


def test_every_value_is_the_one_passed_not_the_one_compiled(tenant_a):
    case = CaseFactory(tenant=tenant_a)
    prepared = PreparedQuery(_build, pk=-7340099, since=SINCE)
    assert [c.pk for c in prepared.rows(pk=case.pk, since=case.created_at - timedelta(seconds=1))] == [case.pk]
    # The same compiled SQL, a time past the case's creation: no row (the time is a parameter).
    assert prepared.rows(pk=case.pk, since=case.created_at + timedelta(seconds=1)) == []
    assert prepared.rows(pk=case.pk + 1000, since=SINCE) == []


def test_a_value_that_is_not_a_parameter_is_refused():
    prepared = PreparedQuery(lambda pk, flag: Case.objects.filter(pk=pk), pk=-7340099, flag=-7340098)
    with pytest.raises(ValueError, match="'flag' is not a parameter"):
        prepared.rows(pk=1, flag=2)
