"""companyos.roles.system_user: the named actor of work nobody clicked, and how the case services
treat it (sees every tenant, audited under its name, timeline rows read "system")."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from cases import services
from cases.choices import Priority
from cases.models import Case, Interaction
from companyos import roles
from tenants.selectors import visible_tenant_ids


@pytest.mark.django_db
def test_the_system_user_is_named_inactive_and_cannot_log_in():
    system = roles.system_user()
    assert system.username == "system" and not system.is_active and not system.has_usable_password()
    assert roles.is_system(system) and roles.system_user().pk == system.pk
    assert visible_tenant_ids(system) == []  # no tenants of its own; the case services grant it all


@pytest.mark.django_db
def test_a_vanished_row_is_created_again():
    first = roles.system_user()
    # As a flush leaves it: gone without the ORM's delete (users are never deleted through Django: its
    # SET NULL of their audit entries' actor is an UPDATE the application's role may not run).
    type(first).objects.filter(pk=first.pk)._raw_delete(using="default")
    second = roles.system_user()
    assert second.pk != first.pk and roles.is_system(second)


@pytest.mark.django_db
def test_an_active_user_named_system_is_not_the_system(django_user_model):
    impostor = django_user_model(username="system", is_active=True)
    impostor.set_password("x")
    assert not roles.is_system(impostor) and not roles.is_system(None)


@pytest.mark.django_db
def test_system_work_sees_every_tenant_and_is_audited_under_its_name(case_b):
    system = roles.system_user()
    services.case_classify(case_id=case_b.pk, actor=system, priority=Priority.CRITICAL, reason="SLA breach")
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Case), object_pk=str(case_b.pk)
    ).latest("pk")
    assert entry.actor == system
    change = case_b.interactions.get(kind=Interaction.Kind.FIELDS)
    assert change.actor == system  # the timeline names the system user too


@pytest.mark.django_db
def test_a_case_service_refuses_a_missing_actor(case_a):
    with pytest.raises(TypeError):
        services.case_classify(case_id=case_a.pk, actor=None, priority=Priority.LOW)
