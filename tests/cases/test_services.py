"""cases.services: the lifecycle, conversation, ownership, classification, tags, bulk and intake
writes, including what happens when two agents act on the same case at once (real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from cases import bulk, services
from cases.choices import TRANSITIONS, Category, Environment, IssueType, Priority, Status
from cases.models import Attachment, Case, Interaction, Tag
from cases.services import CaseConflict, CaseError, InvalidTransition, NotPermitted
from tests.factories import CaseFactory, RequesterFactory, TagFactory, TenantFactory, UserFactory

ALLOWED = [(was, to) for was, tos in TRANSITIONS.items() for to in tos]
FORBIDDEN = [(was, to) for was in Status.values for to in Status.values if to not in TRANSITIONS.get(was, [])]


def _ids(pairs):
    return [f"{was}->{to}" for was, to in pairs]


def _case_in(status: str, **kwargs) -> Case:
    """A case sitting in `status` with the timestamps a real case there would have."""
    past = timezone.now() - timedelta(days=2)
    stamps = {"status_changed_at": past, "updated_at": past, "created_at": past - timedelta(hours=1)}
    if status != Status.NEW:
        stamps["triaged_at"] = past - timedelta(minutes=30)
    if status in (Status.RESOLVED, Status.CLOSED):
        stamps["resolved_at"] = past - timedelta(minutes=10)
    if status == Status.CLOSED:
        stamps["closed_at"] = past
    return CaseFactory(status=status, **{**stamps, **kwargs})


def _snapshot(case: Case) -> dict:
    case = Case.objects.get(pk=case.pk)
    return {
        "status": case.status,
        "version": case.version,
        "updated_at": case.updated_at,
        "status_changed_at": case.status_changed_at,
        "triaged_at": case.triaged_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "first_response_at": case.first_response_at,
        "owner_id": case.owner_id,
        "priority": case.priority,
        "category": case.category,
        "tags": sorted(case.tags.values_list("name", flat=True)),
        "interactions": case.interactions.count(),
        "attachments": case.attachments.count(),
    }


def _upload(name: str, data: bytes = b"stack trace line\n", content_type: str = "text/plain") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def actor(db):
    return UserFactory(username="svc-actor", role="manager")


# --- transitions --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("was", "to"), ALLOWED, ids=_ids(ALLOWED))
def test_every_allowed_transition(was, to, actor):
    case = _case_in(was)
    before = _snapshot(case)
    start = timezone.now()

    waiting = {"waiting_for": "logs"} if to == Status.WAITING_ON_CUSTOMER else {}
    result = services.case_transition(
        case_id=case.pk, to=to, actor=actor, reason="because", expected_status=was, **waiting
    )

    case.refresh_from_db()
    assert result.pk == case.pk
    assert case.status == to
    assert start <= case.status_changed_at <= timezone.now()
    assert case.updated_at == case.status_changed_at
    assert case.version == before["version"] + 1

    reopened = was in (Status.RESOLVED, Status.CLOSED) and to == Status.IN_PROGRESS
    if to == Status.TRIAGE:
        assert case.triaged_at == case.status_changed_at
    else:
        assert case.triaged_at == before["triaged_at"]
    if to == Status.RESOLVED:
        assert case.resolved_at == case.status_changed_at
    elif reopened:
        assert case.resolved_at is None
    else:
        assert case.resolved_at == before["resolved_at"]
    if to == Status.CLOSED:
        assert case.closed_at == case.status_changed_at
        assert case.resolved_at == before["resolved_at"], "closing keeps when it was resolved"
    elif reopened:
        assert case.closed_at is None
    else:
        assert case.closed_at == before["closed_at"]

    entries = list(case.interactions.all())
    assert len(entries) == 1
    entry = entries[0]
    assert entry.kind == Interaction.Kind.STATUS
    assert entry.actor == actor
    assert entry.public is False
    assert entry.created_at == case.status_changed_at
    assert entry.data["from"] == was
    assert entry.data["to"] == to
    assert entry.data["reason"] == "because"
    assert entry.data["reopened"] is reopened


@pytest.mark.django_db
@pytest.mark.parametrize(("was", "to"), FORBIDDEN, ids=_ids(FORBIDDEN))
def test_every_forbidden_transition_is_refused_and_changes_nothing(was, to, actor):
    case = _case_in(was)
    before = _snapshot(case)

    with pytest.raises(InvalidTransition) as excinfo:
        services.case_transition(case_id=case.pk, to=to, actor=actor, reason="nope")

    message = str(excinfo.value)
    assert case.key in message
    assert f"from {Status(was).label} to {Status(to).label}" in message
    assert _snapshot(case) == before
    assert not Interaction.objects.filter(case=case).exists()


def test_transition_table_covers_every_status():
    assert set(TRANSITIONS) == set(Status.values)
    assert len(ALLOWED) + len(FORBIDDEN) == len(Status.values) ** 2
    assert all(was != to for was, to in ALLOWED), "a move to the same status is never allowed"


@pytest.mark.django_db
def test_unknown_target_status_is_refused(actor):
    case = _case_in(Status.NEW)
    before = _snapshot(case)
    with pytest.raises(CaseError, match="Unknown status"):
        services.case_transition(case_id=case.pk, to="escalated", actor=actor)
    assert _snapshot(case) == before


@pytest.mark.django_db
def test_expected_status_mismatch_is_a_conflict_and_changes_nothing(actor):
    case = _case_in(Status.WAITING_ON_CUSTOMER)
    before = _snapshot(case)
    with pytest.raises(CaseConflict) as excinfo:
        # The user saw "in progress" and asked to wait on the customer; someone already did.
        services.case_transition(case_id=case.pk, to=Status.RESOLVED, actor=actor, expected_status=Status.IN_PROGRESS)
    assert not isinstance(excinfo.value, InvalidTransition)
    assert "Waiting on customer" in str(excinfo.value) and "In progress" in str(excinfo.value)
    assert _snapshot(case) == before


@pytest.mark.django_db
def test_triage_twice_keeps_the_first_triage_time(actor):
    case = _case_in(Status.NEW)
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=actor)
    case.refresh_from_db()
    first = case.triaged_at
    # Back round the loop: triage -> in progress -> resolved -> in progress (reopen) never re-triages.
    for to in (Status.IN_PROGRESS, Status.RESOLVED, Status.IN_PROGRESS):
        services.case_transition(case_id=case.pk, to=to, actor=actor)
    case.refresh_from_db()
    assert case.triaged_at == first
    assert case.interactions.filter(kind=Interaction.Kind.STATUS).count() == 4


@pytest.mark.django_db
def test_transition_by_someone_who_cannot_see_the_tenant_is_refused(tenant_a, tenant_b):
    agent = UserFactory(role="agent", tenants=[tenant_a])
    case = _case_in(Status.NEW, tenant=tenant_b, requester=RequesterFactory(tenant=tenant_b))
    before = _snapshot(case)
    with pytest.raises(NotPermitted):
        services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=agent)
    assert _snapshot(case) == before


# --- concurrency (real PostgreSQL row locks) -------------------------------------------------------------


def _race(*calls, timeout: float = 30):
    """Run each call in its own thread (and so its own DB connection), released together."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[i] = ("ok", call())
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts on
            outcomes[i] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racing call never finished (deadlock?)"
    return outcomes


@pytest.fixture
def slow_writes(monkeypatch):
    """Widen the race window: each service holds its row lock a little before writing. Without the
    SELECT … FOR UPDATE both callers would read the old row and both would write."""
    real_touch = services._touch

    def slow_touch(*args, **kwargs):
        time.sleep(0.3)
        return real_touch(*args, **kwargs)

    monkeypatch.setattr(services, "_touch", slow_touch)


@pytest.fixture
def race_world(role_groups):
    tenant = TenantFactory()
    first = UserFactory(username="racer-one", role="agent", tenants=[tenant])
    second = UserFactory(username="racer-two", role="agent", tenants=[tenant])
    return tenant, first, second


def _winner_and_loser(outcomes):
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    winner = next(value for kind, value in outcomes if kind == "ok")
    loser = next(value for kind, value in outcomes if kind == "error")
    return winner, loser


@pytest.mark.django_db(transaction=True)
def test_two_agents_moving_the_same_case_one_wins(race_world, slow_writes):
    tenant, first, second = race_world
    case = _case_in(Status.IN_PROGRESS, tenant=tenant, requester=RequesterFactory(tenant=tenant))

    def move(user):
        return lambda: services.case_transition(
            case_id=case.pk,
            to=Status.WAITING_ON_CUSTOMER,
            actor=user,
            reason=user.username,
            expected_status=Status.IN_PROGRESS,
            waiting_for="approval",
        )

    winner, loser = _winner_and_loser(_race(move(first), move(second)))
    assert isinstance(loser, (CaseConflict, InvalidTransition))
    case.refresh_from_db()
    assert case.status == Status.WAITING_ON_CUSTOMER
    assert case.version == 2
    moves = list(case.interactions.filter(kind=Interaction.Kind.STATUS))
    assert len(moves) == 1
    assert moves[0].data["from"] == Status.IN_PROGRESS and moves[0].data["to"] == Status.WAITING_ON_CUSTOMER
    assert moves[0].actor_id in (first.pk, second.pk)
    assert moves[0].data["reason"] == moves[0].actor.username
    assert winner.status == Status.WAITING_ON_CUSTOMER


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_the_same_unowned_case_one_wins(race_world, slow_writes):
    tenant, first, second = race_world
    case = _case_in(Status.TRIAGE, tenant=tenant, requester=RequesterFactory(tenant=tenant), owner=None)

    def take(user):
        return lambda: services.case_assign(case_id=case.pk, actor=user, owner=user, expected_owner_id=None)

    winner, loser = _winner_and_loser(_race(take(first), take(second)))
    assert isinstance(loser, CaseConflict)
    case.refresh_from_db()
    assert case.owner_id == winner.owner_id
    assert case.owner_id in (first.pk, second.pk)
    assert case.version == 2
    assignments = list(case.interactions.filter(kind=Interaction.Kind.ASSIGNMENT))
    assert len(assignments) == 1
    assert assignments[0].actor_id == case.owner_id
    # The loser is told who has it now.
    assert case.owner.username in str(loser)


@pytest.mark.django_db(transaction=True)
def test_two_stale_classification_forms_one_wins(race_world, slow_writes):
    tenant, first, second = race_world
    case = _case_in(Status.IN_PROGRESS, tenant=tenant, requester=RequesterFactory(tenant=tenant))
    seen = case.version

    outcomes = _race(
        lambda: services.case_classify(case_id=case.pk, actor=first, expected_version=seen, priority=Priority.CRITICAL),
        lambda: services.case_classify(
            case_id=case.pk, actor=second, expected_version=seen, category=Category.PERFORMANCE
        ),
    )
    winner, loser = _winner_and_loser(outcomes)
    assert isinstance(loser, CaseConflict)
    case.refresh_from_db()
    assert case.version == seen + 1
    won_priority = outcomes[0][0] == "ok"
    assert (case.priority == Priority.CRITICAL) is won_priority
    assert (case.category == Category.PERFORMANCE) is (not won_priority)
    assert case.interactions.filter(kind=Interaction.Kind.FIELDS).count() == 1


# --- replies and notes --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_public_reply_sets_first_response_once(agent, case_a):
    first = services.case_reply(case_id=case_a.pk, actor=agent, body="Looking into it now.", public=True)
    case_a.refresh_from_db()
    assert case_a.first_response_at == first.created_at
    assert first.kind == Interaction.Kind.REPLY and first.public and first.actor == agent
    assert first.data["first_response"] is True
    assert first.channel == case_a.channel

    second = services.case_reply(case_id=case_a.pk, actor=agent, body="Found it.", public=True)
    case_a.refresh_from_db()
    assert case_a.first_response_at == first.created_at
    assert second.data["first_response"] is False


@pytest.mark.django_db
def test_internal_note_never_sets_first_response(agent, case_a):
    note = services.case_reply(case_id=case_a.pk, actor=agent, body="Customer is on the legacy plan.", public=False)
    case_a.refresh_from_db()
    assert case_a.first_response_at is None
    assert note.kind == Interaction.Kind.NOTE and note.public is False and note.channel == ""
    assert case_a.version == 2


@pytest.mark.django_db
@pytest.mark.parametrize("public", [True, False], ids=["reply", "note"])
@pytest.mark.parametrize("body", ["", "   \n\t "], ids=["empty", "blank"])
def test_empty_reply_or_note_is_refused(agent, case_a, public, body):
    before = _snapshot(case_a)
    with pytest.raises(CaseError, match="Write something|empty note"):
        services.case_reply(case_id=case_a.pk, actor=agent, body=body, public=public)
    assert _snapshot(case_a) == before


@pytest.mark.django_db
def test_reply_with_attachment_stores_it_on_the_reply(agent, case_a):
    reply = services.case_reply(
        case_id=case_a.pk, actor=agent, body="Log attached.", public=True, files=[_upload("server.log")]
    )
    attachment = Attachment.objects.get(case=case_a)
    assert attachment.interaction == reply
    assert attachment.filename == "server.log"
    assert attachment.content_type == "text/plain"
    assert attachment.size == len(b"stack trace line\n")
    assert attachment.uploaded_by == agent
    with attachment.file.open("rb") as fh:
        assert fh.read() == b"stack trace line\n"


def _media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("files", "max_bytes", "message"),
    [
        ([("payload.exe", b"MZ\x90\x00")], None, r"payload\.exe: files of type \.exe are not accepted"),
        ([("noextension", b"data")], None, r"type \(none\) are not accepted"),
        ([("huge.log", b"x" * (1024 * 1024 + 1))], 1024 * 1024, r"huge\.log is .*MB; the limit is 1 MB"),
        ([("empty.txt", b"")], None, r"empty\.txt is empty"),
        # One good file does not get stored when its sibling is refused.
        ([("fine.txt", b"ok"), ("bad.sh", b"rm -rf /")], None, r"bad\.sh: files of type \.sh"),
    ],
    ids=["extension", "no-extension", "too-big", "empty", "one-bad-of-two"],
)
def test_bad_attachment_refuses_the_whole_reply(agent, case_a, settings, files, max_bytes, message):
    if max_bytes is not None:
        settings.ATTACHMENT_MAX_BYTES = max_bytes
    before = _snapshot(case_a)
    uploads = [_upload(name, data) for name, data in files]
    with pytest.raises(CaseError, match=message):
        services.case_reply(case_id=case_a.pk, actor=agent, body="see attached", public=True, files=uploads)
    assert _snapshot(case_a) == before
    assert _media_files(settings) == []


@pytest.mark.django_db
def test_attach_validates_and_writes_nothing_when_refused(agent, case_a, settings):
    before = _snapshot(case_a)
    with pytest.raises(CaseError, match="not accepted"):
        services.case_attach(case_id=case_a.pk, actor=agent, upload=_upload("macro.docm", b"PK"))
    assert _snapshot(case_a) == before
    assert _media_files(settings) == []

    attachment = services.case_attach(case_id=case_a.pk, actor=agent, upload=_upload("har.har", b"{}"))
    assert attachment.content_type == "application/json"
    entry = case_a.interactions.get()
    assert entry.kind == Interaction.Kind.ATTACHMENT and attachment.interaction == entry


# --- ownership ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assign_to_someone_who_cannot_see_the_tenant_is_refused(agent, case_a, tenant_b):
    outsider = UserFactory(username="outsider", role="agent", tenants=[tenant_b])
    before = _snapshot(case_a)
    with pytest.raises(CaseError, match="outsider cannot see Acme Corp"):
        services.case_assign(case_id=case_a.pk, actor=agent, owner=outsider)
    assert _snapshot(case_a) == before


@pytest.mark.django_db
def test_assign_to_an_inactive_user_is_refused(agent, case_a, tenant_a):
    gone = UserFactory(username="gone", role="agent", tenants=[tenant_a], is_active=False)
    with pytest.raises(CaseError, match="cannot own"):
        services.case_assign(case_id=case_a.pk, actor=agent, owner=gone)
    case_a.refresh_from_db()
    assert case_a.owner_id is None


@pytest.mark.django_db
def test_assign_writes_one_assignment_entry(agent, other_agent, case_a):
    services.case_assign(case_id=case_a.pk, actor=agent, owner=other_agent, expected_owner_id=None)
    case_a.refresh_from_db()
    assert case_a.owner == other_agent
    entry = case_a.interactions.get()
    assert entry.kind == Interaction.Kind.ASSIGNMENT and entry.actor == agent
    assert entry.data["changes"]["owner"] == [None, "ana"]

    # Assigning to the same owner again is no change at all.
    services.case_assign(case_id=case_a.pk, actor=agent, owner=other_agent)
    assert case_a.interactions.count() == 1

    # Someone who saw the case unassigned and tries to take it now gets a conflict.
    with pytest.raises(CaseConflict, match="owned by ana"):
        services.case_assign(case_id=case_a.pk, actor=agent, owner=agent, expected_owner_id=None)
    case_a.refresh_from_db()
    assert case_a.owner == other_agent


# --- classification and tags --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {"category": "billing"},
        {"issue_type": "outage"},
        {"environment": "prod"},
        {"priority": 0},
        {"priority": 9},
        {"priority": "urgent"},
        {"priority": None},
        {"status": "closed"},
        {"priority": Priority.HIGH, "category": "nonsense"},
    ],
    ids=[
        "category",
        "issue-type",
        "environment",
        "priority-0",
        "priority-9",
        "priority-word",
        "priority-none",
        "not-a-field",
        "one-bad-of-two",
    ],
)
def test_classify_with_a_bad_value_is_refused(agent, case_a, values):
    before = _snapshot(case_a)
    with pytest.raises(CaseError):
        services.case_classify(case_id=case_a.pk, actor=agent, **values)
    assert _snapshot(case_a) == before


@pytest.mark.django_db
def test_classify_writes_the_changes_with_labels(agent, case_a):
    services.case_classify(
        case_id=case_a.pk,
        actor=agent,
        expected_version=1,
        reason="customer is down",
        priority=Priority.CRITICAL,
        category=Category.PERFORMANCE,
        issue_type=IssueType.INCIDENT,
        environment=Environment.UNKNOWN,
    )
    case_a.refresh_from_db()
    assert (case_a.priority, case_a.category, case_a.issue_type) == (
        Priority.CRITICAL,
        Category.PERFORMANCE,
        IssueType.INCIDENT,
    )
    entry = case_a.interactions.get()
    assert entry.kind == Interaction.Kind.FIELDS and entry.body == "customer is down"
    assert entry.data["changes"] == {
        "priority": ["Medium", "Critical"],
        "category": ["Other", "Performance"],
        "issue_type": ["Question", "Incident"],
    }
    # A form rendered at version 1 is now stale.
    with pytest.raises(CaseConflict):
        services.case_classify(case_id=case_a.pk, actor=agent, expected_version=1, priority=Priority.LOW)
    case_a.refresh_from_db()
    assert case_a.priority == Priority.CRITICAL


@pytest.mark.django_db
def test_tag_add_and_remove_write_tags_entries(agent, case_a):
    services.case_tag(case_id=case_a.pk, actor=agent, add=["Billing", "needs info", " "])
    case_a.refresh_from_db()
    assert sorted(case_a.tags.values_list("name", flat=True)) == ["billing", "needs-info"]
    added = case_a.interactions.get(kind=Interaction.Kind.TAGS)
    assert added.data == {"added": ["billing", "needs-info"], "removed": []}
    assert added.actor == agent
    assert case_a.version == 2

    services.case_tag(case_id=case_a.pk, actor=agent, remove=["BILLING"])
    assert list(case_a.tags.values_list("name", flat=True)) == ["needs-info"]
    removed = case_a.interactions.filter(kind=Interaction.Kind.TAGS).latest("id")
    assert removed.data == {"added": [], "removed": ["billing"]}

    # Adding what is there and removing what is not changes nothing and writes nothing.
    services.case_tag(case_id=case_a.pk, actor=agent, add=["needs-info"], remove=["billing"])
    assert case_a.interactions.filter(kind=Interaction.Kind.TAGS).count() == 2


@pytest.mark.django_db
def test_tag_removal_uses_the_same_spelling_rules_as_adding(agent, case_a):
    services.case_tag(case_id=case_a.pk, actor=agent, add=["needs info"])
    services.case_tag(case_id=case_a.pk, actor=agent, remove=["Needs Info"])
    assert not case_a.tags.exists()


# --- bulk -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_status_over_a_mixed_selection(agent, tenant_a):
    requester = RequesterFactory(tenant=tenant_a)
    working = _case_in(Status.IN_PROGRESS, tenant=tenant_a, requester=requester)
    also_working = _case_in(Status.IN_PROGRESS, tenant=tenant_a, requester=requester)
    fresh = _case_in(Status.NEW, tenant=tenant_a, requester=requester)
    done = _case_in(Status.CLOSED, tenant=tenant_a, requester=requester)
    already = _case_in(Status.WAITING_ON_CUSTOMER, tenant=tenant_a, requester=requester)
    cases = list(
        Case.objects.filter(pk__in=[c.pk for c in (working, also_working, fresh, done, already)]).order_by("pk")
    )

    result = bulk.case_bulk(
        cases=cases, actor=agent, action="status", value=Status.WAITING_ON_CUSTOMER, waiting_for="logs"
    )

    assert sorted(result.changed) == sorted([working.key, also_working.key])
    assert set(result.skipped) == {fresh.key, done.key, already.key}
    assert "cannot move from New to Waiting on customer" in result.skipped[fresh.key]
    assert "cannot move from Closed" in result.skipped[done.key]
    assert result.skipped[already.key] == "already Waiting on customer"
    assert result.summary == "2 cases changed; 3 skipped"
    for case in (working, also_working):
        case.refresh_from_db()
        assert case.status == Status.WAITING_ON_CUSTOMER
        entry = case.interactions.get()
        assert entry.kind == Interaction.Kind.STATUS and entry.actor == agent and entry.data["reason"] == "bulk action"
    for case in (fresh, done, already):
        assert not case.interactions.exists()
        assert Case.objects.get(pk=case.pk).status == case.status


@pytest.mark.django_db
def test_bulk_assign_and_tag_each_write_their_own_entry(agent, other_agent, tenant_a, tenant_b):
    requester = RequesterFactory(tenant=tenant_a)
    unowned = CaseFactory(tenant=tenant_a, requester=requester)
    owned = CaseFactory(tenant=tenant_a, requester=requester, owner=other_agent)
    tagged = CaseFactory(tenant=tenant_a, requester=requester, tags=[TagFactory(name="vip")])
    hidden = CaseFactory(tenant=tenant_b)  # not visible to the agent: the service refuses it too
    cases = [unowned, owned, tagged, hidden]

    result = bulk.case_bulk(cases=cases, actor=agent, action="assign", value=other_agent)
    assert sorted(result.changed) == sorted([unowned.key, tagged.key])
    assert result.skipped[owned.key] == "nothing to change"
    assert "not visible" in result.skipped[hidden.key]
    for case in (unowned, tagged):
        assert case.interactions.get().kind == Interaction.Kind.ASSIGNMENT
    assert not hidden.interactions.exists() and Case.objects.get(pk=hidden.pk).owner_id is None

    cases = list(Case.objects.filter(pk__in=[c.pk for c in cases]).order_by("pk"))
    result = bulk.case_bulk(cases=cases, actor=agent, action="tag", value="vip")
    assert sorted(result.changed) == sorted([unowned.key, owned.key])
    assert result.skipped[tagged.key] == "nothing to change"
    assert hidden.key in result.skipped
    for case in (unowned, owned):
        assert case.interactions.filter(kind=Interaction.Kind.TAGS).count() == 1
    assert not hidden.tags.exists()


@pytest.mark.django_db
def test_bulk_refuses_an_unknown_action(agent, case_a):
    with pytest.raises(CaseError, match="Unknown bulk action"):
        bulk.case_bulk(cases=[case_a], actor=agent, action="delete", value=None)


# --- intake ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_opens_a_case_with_its_inbound_message(agent, tenant_a):
    requester = RequesterFactory(tenant=tenant_a)
    case = services.case_create(
        actor=agent,
        tenant=tenant_a,
        requester=requester,
        subject="  SSO login loops  ",
        description="Since the upgrade.",
        priority=Priority.HIGH,
        category=Category.AUTHENTICATION,
        channel="web",
        tags=["SSO"],
    )
    assert case.subject == "SSO login loops"
    assert (case.status, case.priority, case.category, case.channel) == (
        Status.NEW,
        Priority.HIGH,
        Category.AUTHENTICATION,
        "web",
    )
    assert case.created_at == case.status_changed_at == case.updated_at
    assert case.first_response_at is None and case.triaged_at is None
    assert list(case.tags.values_list("name", flat=True)) == ["sso"]
    inbound = case.interactions.get()
    assert inbound.kind == Interaction.Kind.INBOUND and inbound.public
    assert inbound.requester == requester and inbound.actor == agent
    assert inbound.body == "Since the upgrade." and inbound.channel == "web"


@pytest.mark.django_db
def test_create_uses_the_tenant_routing_defaults(agent, tenant_a, other_agent):
    from tests.factories import TeamFactory

    team = TeamFactory()
    tenant_a.default_owner, tenant_a.default_team = other_agent, team
    tenant_a.save()
    case = services.case_create(actor=agent, tenant=tenant_a, requester=RequesterFactory(tenant=tenant_a), subject="Hi")
    assert case.owner == other_agent and case.team == team


@pytest.mark.django_db
def test_create_refuses_a_requester_of_another_tenant(agent, tenant_a, tenant_b):
    stranger = RequesterFactory(tenant=tenant_b)
    with pytest.raises(CaseError, match="is not a contact of Acme Corp"):
        services.case_create(actor=agent, tenant=tenant_a, requester=stranger, subject="Help")
    assert not Case.objects.exists() and not Interaction.objects.exists()


@pytest.mark.django_db
def test_create_refuses_an_actor_without_access_to_the_tenant(agent, tenant_b):
    with pytest.raises(NotPermitted):
        services.case_create(actor=agent, tenant=tenant_b, requester=RequesterFactory(tenant=tenant_b), subject="Help")
    assert not Case.objects.exists() and not Interaction.objects.exists()


@pytest.mark.django_db
def test_create_refuses_an_empty_subject(agent, tenant_a):
    with pytest.raises(CaseError, match="needs a subject"):
        services.case_create(actor=agent, tenant=tenant_a, requester=RequesterFactory(tenant=tenant_a), subject="   ")
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_create_by_the_customer_has_no_actor(tenant_a):
    requester = RequesterFactory(tenant=tenant_a)
    case = services.case_create(
        actor=None, tenant=tenant_a, requester=requester, subject="From the widget", channel="widget"
    )
    inbound = case.interactions.get()
    assert inbound.actor is None and inbound.data["opened_by"] == "customer"
    assert inbound.data["sla"] and "first response clock started" in inbound.data["sla"][0]
    assert Tag.objects.count() == 0
