"""Merging duplicates (issue 9, point 20): through the case services, one tenant only, closing the
duplicate with a link, copying its customer messages to the survivor and keeping its requester as a
follower, seen from both cases and in the audit log; on the case page and in bulk."""

import pytest
from auditlog.models import LogEntry

from cases import bulk, services
from cases.choices import Status
from cases.models import Case, Interaction
from tests.conftest import login
from tests.factories import CaseFactory, InteractionFactory, RequesterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(tenant_a):
    survivor = CaseFactory(tenant=tenant_a, subject="Webhooks are not retried", status=Status.IN_PROGRESS)
    duplicate = CaseFactory(
        tenant=tenant_a, subject="Webhook deliveries lost", requester=RequesterFactory(tenant=tenant_a, name="Bo Li")
    )
    InteractionFactory(
        case=duplicate,
        kind=Interaction.Kind.INBOUND,
        public=True,
        body="We lost 40 deliveries",
        requester=duplicate.requester,
    )
    InteractionFactory(case=duplicate, kind=Interaction.Kind.NOTE, body="internal: check the retry queue")
    return survivor, duplicate


def test_a_merge_closes_the_duplicate_and_carries_its_messages_and_requester(pair, agent):
    survivor, duplicate = pair
    services.case_merge(case_id=duplicate.pk, into_id=survivor.pk, actor=agent, note="Tracked in the other case.")
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.status == Status.CLOSED and duplicate.duplicate_of_id == survivor.pk and duplicate.closed_at
    assert list(survivor.followers.all()) == [duplicate.requester]
    copied = survivor.interactions.filter(data__merged_from=duplicate.key)
    assert [i.body for i in copied] == ["We lost 40 deliveries"]  # the customer's message, not the note
    assert copied[0].requester == duplicate.requester
    assert survivor.interactions.filter(body__contains=f"{duplicate.key} “Webhook deliveries lost” was merged").exists()
    reply = duplicate.interactions.get(kind=Interaction.Kind.REPLY)
    assert reply.public and reply.body == "Tracked in the other case."
    closing = duplicate.interactions.get(kind=Interaction.Kind.STATUS)
    assert closing.data["merged_into"] == survivor.key and closing.actor == agent
    # The audit trail records the duplicate_of change and the follower added.
    changes = LogEntry.objects.get_for_object(duplicate).filter(action=LogEntry.Action.UPDATE)
    assert any("duplicate_of" in (e.changes or {}) for e in changes)
    assert any("followers" in (e.changes or {}) for e in LogEntry.objects.get_for_object(survivor))


@pytest.mark.parametrize(
    "setup, message",
    [
        ("other_tenant", "belongs to another tenant"),
        ("itself", "cannot be merged into itself"),
        ("closed_target", "reopen it before merging"),
        ("already", "is already merged into"),
    ],
)
def test_merges_that_make_no_sense_are_refused_and_change_nothing(pair, agent, tenant_b, setup, message):
    survivor, duplicate = pair
    target = survivor
    if setup == "other_tenant":
        target = CaseFactory(tenant=tenant_b)
        from companyos import roles

        actor = roles.system_user()
    else:
        actor = agent
    if setup == "itself":
        target = duplicate
    if setup == "closed_target":
        Case.objects.filter(pk=survivor.pk).update(status=Status.CLOSED)
    if setup == "already":
        services.case_merge(case_id=duplicate.pk, into_id=survivor.pk, actor=agent)
        target = CaseFactory(tenant=survivor.tenant, status=Status.TRIAGE)
    before = Case.objects.get(pk=duplicate.pk).version
    with pytest.raises(services.CaseError, match=message):
        services.case_merge(case_id=duplicate.pk, into_id=target.pk, actor=actor)
    assert Case.objects.get(pk=duplicate.pk).version == before


def test_an_agent_cannot_merge_into_a_case_they_cannot_see(pair, agent, tenant_b):
    _, duplicate = pair
    hidden = CaseFactory(tenant=tenant_b)
    with pytest.raises(services.NotPermitted):
        services.case_merge(case_id=duplicate.pk, into_id=hidden.pk, actor=agent)


def test_a_stale_page_cannot_merge(pair, agent):
    survivor, duplicate = pair
    with pytest.raises(services.CaseConflict):
        services.case_merge(
            case_id=duplicate.pk, into_id=survivor.pk, actor=agent, expected_version=duplicate.version + 5
        )


def test_the_case_page_reviews_then_merges_and_both_cases_show_it(pair, agent):
    survivor, duplicate = pair
    client = login(agent)
    page = client.get(duplicate.get_absolute_url())
    assert b"Merge into" in page.content
    review = client.post(f"/cases/{duplicate.key}/merge/", {"into": str(survivor.pk), "version": duplicate.version})
    assert review.status_code == 200
    assert f"Merge {duplicate.key} into {survivor.key}?".encode() in review.content
    assert Case.objects.get(pk=duplicate.pk).status != Status.CLOSED  # nothing yet: a confirmation first
    done = client.post(
        f"/cases/{duplicate.key}/merge/",
        {"into": survivor.key, "version": duplicate.version, "confirm": "on", "note": "See the other case"},
    )
    assert done.status_code == 302 and done["Location"].endswith(f"/cases/{survivor.key}/")
    merged_page = client.get(duplicate.get_absolute_url()).content.decode()
    assert f'Merged into <a href="/cases/{survivor.key}/">{survivor.key}</a>' in merged_page
    survivor_page = client.get(survivor.get_absolute_url()).content.decode()
    assert "Merged here:" in survivor_page and duplicate.key in survivor_page and "Bo Li" in survivor_page


@pytest.mark.parametrize("into", ["", "nonsense", "CS-99999999999999999999"])
def test_a_bad_merge_target_is_a_clear_422(pair, agent, into):
    _, duplicate = pair
    response = login(agent).post(f"/cases/{duplicate.key}/merge/", {"into": into})
    assert response.status_code == 422
    assert b'role="alert"' in response.content


def test_merging_into_a_foreign_case_is_refused_without_revealing_it_and_audited(pair, agent, tenant_b):
    _, duplicate = pair
    hidden = CaseFactory(tenant=tenant_b, subject="Globex secret")
    response = login(agent).post(f"/cases/{duplicate.key}/merge/", {"into": hidden.key, "confirm": "on"})
    assert response.status_code == 422 and b"not visible to you" in response.content
    assert b"Globex secret" not in response.content
    assert LogEntry.objects.filter(object_pk=str(hidden.pk), additional_data__denied=True).exists()
    assert Case.objects.get(pk=duplicate.pk).duplicate_of_id is None


def test_bulk_merge_merges_every_selected_case_but_the_survivor(pair, agent, tenant_a):
    survivor, duplicate = pair
    third = CaseFactory(tenant=tenant_a)
    result = bulk.case_bulk(cases=[survivor, duplicate, third], actor=agent, action="merge", value=survivor.key)
    assert sorted(result.changed) == sorted([duplicate.key, third.key])
    assert survivor.key in result.skipped
    assert set(Case.objects.filter(duplicate_of=survivor).values_list("pk", flat=True)) == {duplicate.pk, third.pk}


def test_bulk_merge_through_the_queue_confirms_first(pair, agent):
    survivor, duplicate = pair
    client = login(agent)
    confirm = client.post("/cases/bulk/", {"id": [duplicate.pk], "action": "merge", "into": survivor.key})
    assert confirm.status_code == 200 and f"Merge into {survivor.key}".encode() in confirm.content
    client.post("/cases/bulk/", {"ids": str(duplicate.pk), "action": "merge", "into": survivor.key, "confirm": "on"})
    assert Case.objects.get(pk=duplicate.pk).duplicate_of_id == survivor.pk
    missing = client.post("/cases/bulk/", {"id": [duplicate.pk], "action": "merge", "into": ""})
    assert missing.status_code in (302, 422)
