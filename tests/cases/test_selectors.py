"""cases.selectors added for the thin views: who a case can be given to, a tenant's contacts, the
audit tab's entries."""

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from cases import selectors, services
from cases.choices import Priority
from tests.factories import RequesterFactory, UserFactory


@pytest.mark.django_db
def test_assignable_users_of_a_case_are_those_who_may_see_its_tenant(case_a, agent, manager, tenant_b):
    outsider = UserFactory(username="ola", role="agent", tenants=[tenant_b])
    UserFactory(username="gone", role="agent", tenants=[case_a.tenant], is_active=False)
    crew = Group.objects.create(name="night crew")
    by_group = UserFactory(username="nina")
    by_group.groups.add(crew)
    assign_perm("view_tenant", crew, case_a.tenant)
    everyone = {u.username for u in selectors.assignable_users()}
    assert {"kari", "mona", "ola", "nina"} <= everyone and "gone" not in everyone
    assert {u.username for u in selectors.assignable_users(case_a)} >= {"kari", "mona", "nina"}
    assert "ola" not in {u.username for u in selectors.assignable_users(case_a)}
    assert "ola" in {u.username for u in selectors.assignable_users(tenant_b)}
    assert outsider.pk


@pytest.mark.django_db
def test_requesters_of_a_tenant_by_name(tenant_a):
    RequesterFactory(tenant=tenant_a, name="Zed")
    RequesterFactory(tenant=tenant_a, name="Amy")
    assert [r.name for r in selectors.requesters_of(tenant_a)] == ["Amy", "Zed"]
    assert list(selectors.requesters_of(None)) == []


@pytest.mark.django_db
def test_case_audit_entries_cover_the_case_and_its_timeline(case_a, agent):
    services.case_classify(case_id=case_a.pk, actor=agent, priority=Priority.LOW)
    entries = list(selectors.case_audit_entries(case_a))
    assert {e.content_type.model for e in entries} >= {"case", "interaction"}
    assert entries == sorted(entries, key=lambda e: (e.timestamp, e.pk), reverse=True)
