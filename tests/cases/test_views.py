"""The queue and the case page as a user meets them: every filter, full page and HTMX fragment,
intake, the composer, conflicts, bulk confirmation, and query counts that do not grow."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.choices import Category, Environment, IssueType, Priority, Status
from cases.filtersets import view_query
from cases.models import Case, Interaction, SavedView
from tenants.choices import Segment, SupportTier
from tenants.services import tenant_grant
from tests.conftest import login
from tests.factories import (
    CaseFactory,
    RequesterFactory,
    ResourceFactory,
    TagFactory,
    TeamFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# An HTMX swap of the results from the filter bar (a chip, the search box).
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue-results", "HTTP_HX_TRIGGER": "queue-filters"}


def keys(response) -> set[str]:
    import re

    return set(re.findall(r'data-href="/cases/(CS-\d+)/"', response.content.decode()))


@pytest.fixture
def world(tenant_a, agent, manager):
    ent = TenantFactory(
        name="Enterprise Co", slug="ent", segment=Segment.ENTERPRISE, support_tier=SupportTier.ENTERPRISE
    )
    team = TeamFactory(name="Tier 2", slug="tier-2")
    other = UserFactory(username="ola", role="agent", tenants=[tenant_a, ent])
    agent_grant = agent  # agent sees tenant_a only
    security = TagFactory(name="security")
    now = timezone.now()
    c = {
        "crit_new": CaseFactory(
            tenant=tenant_a,
            priority=Priority.CRITICAL,
            status=Status.NEW,
            subject="Payment processing is down",
            category=Category.INTEGRATION,
            issue_type=IssueType.INCIDENT,
            environment=Environment.PRODUCTION,
            channel="phone",
        ),
        "mine": CaseFactory(
            tenant=tenant_a,
            priority=Priority.HIGH,
            status=Status.IN_PROGRESS,
            owner=agent_grant,
            subject="API latency is 3x normal",
            category=Category.PERFORMANCE,
            team=team,
        ),
        "waiting": CaseFactory(
            tenant=tenant_a,
            priority=Priority.MEDIUM,
            status=Status.WAITING_ON_CUSTOMER,
            owner=other,
            subject="Need a log bundle",
            status_changed_at=now - timedelta(hours=30),
            tags=[security],
        ),
        "closed": CaseFactory(
            tenant=tenant_a,
            priority=Priority.LOW,
            status=Status.CLOSED,
            subject="How do I paginate?",
            description="Question about cursor pagination",
            created_at=now - timedelta(days=40),
            updated_at=now - timedelta(days=39),
        ),
        "ent": CaseFactory(
            tenant=ent,
            priority=Priority.LOW,
            status=Status.TRIAGE,
            subject="Enterprise SSO question",
            channel="slack",
            environment=Environment.STAGING,
            issue_type=IssueType.CONFIGURATION,
            category=Category.AUTHENTICATION,
        ),
    }
    return c


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", {"crit_new", "mine", "waiting", "ent"}),
        ("status=all", {"crit_new", "mine", "waiting", "closed", "ent"}),
        ("status=closed", {"closed"}),
        ("status=new&status=triage", {"crit_new", "ent"}),
        ("priority=critical", {"crit_new"}),
        ("priority=low&status=all", {"closed", "ent"}),
        ("tenant=ent", {"ent"}),
        ("segment=enterprise", {"ent"}),
        ("tier=enterprise", {"ent"}),
        ("owner=me", {"mine"}),
        ("owner=unassigned", {"crit_new", "ent"}),
        ("owner=ola", {"waiting"}),
        ("team=tier-2", {"mine"}),
        ("category=performance", {"mine"}),
        ("issue_type=incident", {"crit_new"}),
        ("environment=staging", {"ent"}),
        ("channel=slack", {"ent"}),
        ("tag=security", {"waiting"}),
        ("q=payment", {"crit_new"}),
        ("q=cursor+pagination&status=all", {"closed"}),
        ("in_status_hours=24", {"waiting"}),
        ("created_before={old}&status=all", {"closed"}),
        ("created_after={today}&status=all", {"crit_new", "mine", "waiting", "ent"}),
        ("updated_before={old}&status=all", {"closed"}),
        ("updated_after={today}", {"crit_new", "mine", "waiting", "ent"}),
    ],
)
def test_every_filter(world, manager, query, expected):
    mgr = login(manager)
    today = timezone.localdate()
    query = query.format(old=(today - timedelta(days=30)).isoformat(), today=today.isoformat())
    # "owner=me" is the manager here: give the manager the "mine" case for that row.
    if "owner=me" in query:
        Case.objects.filter(pk=world["mine"].pk).update(owner=manager)
    response = mgr.get(f"/cases/?{query}")
    assert response.status_code == 200
    assert keys(response) == {world[name].key for name in expected}


def test_search_by_key_and_key_jump(world, manager):
    mgr = login(manager)
    case = world["closed"]
    assert keys(mgr.get(f"/cases/?q={case.key}&status=all")) == {case.key}
    response = mgr.get(f"/search/?q={case.key.lower()}")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.key}/"
    response = mgr.get("/search/?q=latency")
    assert response.status_code == 302 and "q=latency" in response["Location"]


def test_sorts(world, manager):
    mgr = login(manager)
    import re

    def order(query):
        page = mgr.get(f"/cases/?{query}", follow=True)  # the default sort is dropped from the address
        return re.findall(r'data-href="/cases/(CS-\d+)/"', page.content.decode())

    by_prio = order("status=all&sort=priority")
    assert by_prio[0] == world["crit_new"].key and by_prio[-1] in {world["closed"].key, world["ent"].key}
    assert order("status=all&sort=age")[0] == world["closed"].key
    assert order("status=all&sort=newest")[-1] == world["closed"].key
    Case.objects.filter(pk=world["ent"].pk).update(updated_at=timezone.now() + timedelta(minutes=5))
    assert order("status=all&sort=updated")[0] == world["ent"].key
    assert order("status=all&sort=stale")[0] == world["closed"].key


def test_invalid_filter_values_are_a_clear_message_not_a_500(world, manager):
    response = login(manager).get("/cases/?priority=urgent&created_after=yesterday&sort=bogus")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Select a valid choice" in body and "Enter a valid date" in body


def test_htmx_gets_only_the_results_fragment(world, agent):
    client = login(agent)
    full = client.get("/cases/?priority=critical")
    fragment = client.get("/cases/?priority=critical", **HX)
    assert "<html" in full.content.decode() and 'id="queue-filters"' in full.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body and 'id="queue-filters"' not in body
    assert body.strip().startswith('<div id="queue-results"')
    assert keys(fragment) == {world["crit_new"].key}
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]


def test_pagination_keeps_filters(tenant_a, manager):
    CaseFactory.create_batch(55, tenant=tenant_a, priority=Priority.HIGH)
    mgr = login(manager)
    page1 = mgr.get("/cases/?priority=high")
    assert len(keys(page1)) == 50 and "55" in page1.content.decode()
    assert "?priority=high&amp;page=2" in page1.content.decode()
    page2 = mgr.get("/cases/?priority=high&page=2")
    assert len(keys(page2)) == 5 and not keys(page1) & keys(page2)


def test_count_is_capped_for_huge_queues(tenant_a, manager, settings):
    settings.QUEUE_COUNT_CAP = 10
    CaseFactory.create_batch(12, tenant=tenant_a)
    body = login(manager).get("/cases/").content.decode()
    assert "<b>10+</b> cases" in body


def test_empty_state(agent):
    body = login(agent).get("/cases/?q=nothing-matches-this").content.decode()
    assert "No cases match these filters." in body


def test_saved_views_builtins_and_counts(world, agent):
    client = login(agent)
    body = client.get("/cases/views/counts/").content.decode()
    for name in ["My open cases", "Unassigned critical/high", "Waiting on customer &gt; 24h"]:
        assert name in body
    views = {v.name: v for v in SavedView.objects.filter(builtin=True)}
    for view in views.values():
        view.query = view_query(view)  # linked by its clean query
    import re

    def count(name):
        pattern = (
            rf'{re.escape(views[name].query).replace("&", "&amp;")}">{re.escape(name).replace("&gt;", ">")}</a>'
            r'\s*<span class="count"[^>]*>(\d+)'
        )
        match = re.search(pattern.replace(">", "&gt;") if False else pattern, body.replace("&gt;", ">"))
        assert match, name
        return int(match.group(1))

    assert count("My open cases") == 1  # "mine"
    assert count("Unassigned critical/high") == 1  # crit_new (ent is low and not visible to agent)
    assert count("Waiting on customer > 24h") == 1


def test_create_and_delete_a_personal_saved_view(world, agent, other_agent):
    client = login(agent)
    response = client.post("/cases/views/", {"name": "My criticals", "query": "priority=critical&page=3"})
    assert response.status_code == 302
    view = SavedView.objects.get(name="My criticals")
    assert view.owner == agent and view.query == "priority=critical" and not view.shared
    assert "My criticals" not in login(other_agent).get("/cases/views/counts/").content.decode()
    # duplicate name → a message, not a 500
    response = client.post("/cases/views/", {"name": "My criticals", "query": ""}, follow=True)
    assert "already have a view with that name" in response.content.decode()
    # someone else cannot delete it
    assert login(other_agent).post(f"/cases/views/{view.pk}/delete/").status_code == 403
    assert client.post(f"/cases/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_only_admins_share_views(world, agent, admin_user):
    login(agent).post("/cases/views/", {"name": "Try share", "query": "status=open", "shared": "on"})
    assert SavedView.objects.get(name="Try share").shared is False
    login(admin_user).post("/cases/views/", {"name": "EMEA enterprise", "query": "segment=enterprise", "shared": "on"})
    shared = SavedView.objects.get(name="EMEA enterprise")
    assert shared.shared and shared.owner is None
    assert "EMEA enterprise" in login(agent).get("/cases/views/counts/").content.decode()


def test_bulk_asks_for_confirmation_with_the_count_then_applies(world, agent):
    client = login(agent)
    ids = [world["crit_new"].pk, world["mine"].pk]
    response = client.post("/cases/bulk/", {"id": ids, "action": "tag", "tag": "escalated"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "2 cases will change" in response.content.decode()
    assert not Case.objects.filter(tags__name="escalated").exists()
    response = client.post(
        "/cases/bulk/", {"ids": ",".join(map(str, ids)), "action": "tag", "tag": "escalated", "confirm": "on"}
    )
    assert response.status_code == 302
    assert set(Case.objects.filter(tags__name="escalated").values_list("pk", flat=True)) == set(ids)
    assert Interaction.objects.filter(case_id__in=ids, kind=Interaction.Kind.TAGS).count() == 2


def test_bulk_status_and_assign(world, agent, other_agent):
    client = login(agent)
    ids = [world["crit_new"].pk, world["mine"].pk]
    client.post("/cases/bulk/", {"id": ids, "action": "status", "status": "triage", "confirm": "on"})
    world["crit_new"].refresh_from_db()
    world["mine"].refresh_from_db()
    assert world["crit_new"].status == Status.TRIAGE  # allowed: new → triage
    assert world["mine"].status == Status.IN_PROGRESS  # refused: in progress → triage, skipped
    client.post("/cases/bulk/", {"id": ids, "action": "assign", "owner": "ana", "confirm": "on"})
    assert set(Case.objects.filter(pk__in=ids).values_list("owner__username", flat=True)) == {"ana"}


def test_bulk_without_selection_is_a_clear_error(agent):
    response = login(agent).post("/cases/bulk/", {"action": "tag", "tag": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "Select at least one case" in response.content.decode()


# --- the case page --------------------------------------------------------------------------------


def test_case_page_full_and_timeline_fragment(case_a, agent):
    client = login(agent)
    services.case_reply(case_id=case_a.pk, actor=agent, body="Public words", public=True)
    services.case_reply(case_id=case_a.pk, actor=agent, body="Secret words", public=False)
    full = client.get(f"/cases/{case_a.key}/").content.decode()
    for text in [
        case_a.subject,
        "Acme Corp",
        "Public words",
        "Secret words",
        "internal note",
        "Accept into triage",
        "Take",
    ]:
        assert text in full
    # only the transitions allowed now are buttons
    assert 'value="resolved"' not in full and "Wait on customer" not in full and 'value="triage"' in full
    fragment = client.get(
        f"/cases/{case_a.key}/?show=public", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline"
    ).content.decode()
    assert "<html" not in fragment and "Public words" in fragment and "Secret words" not in fragment
    notes = client.get(
        f"/cases/{case_a.key}/?show=notes", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline"
    ).content.decode()
    assert "Secret words" in notes and "Public words" not in notes


def test_unknown_key_is_404(agent):
    client = login(agent)
    assert client.get("/cases/CS-999999/").status_code == 404
    assert client.get("/cases/XX-abc/").status_code == 404


def test_reply_error_keeps_the_text(case_a, agent):
    client = login(agent)
    text = "Here is a long careful answer the agent must not lose"
    response = client.post(
        f"/cases/{case_a.key}/reply/",
        {"visibility": "public", "body": text, "attachment": _upload("evil.exe", b"MZ")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert text in body and ".exe are not accepted" in body and body.strip().startswith('<section id="composer"')
    assert not Interaction.objects.filter(case=case_a, kind=Interaction.Kind.REPLY).exists()


def test_reply_and_note_then_first_response(case_a, agent):
    client = login(agent)
    client.post(f"/cases/{case_a.key}/reply/", {"visibility": "internal", "body": "note first"})
    case_a.refresh_from_db()
    assert case_a.first_response_at is None
    response = client.post(
        f"/cases/{case_a.key}/reply/", {"visibility": "public", "body": "hello"}, HTTP_HX_REQUEST="true"
    )
    # The reply box comes back empty in place; the header, actions, SLA panel and timeline out of band.
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section id="composer"')
    assert 'id="case-header" class="case-header" hx-swap-oob="true"' in body and "hello" in body
    case_a.refresh_from_db()
    assert case_a.first_response_at is not None


def test_stale_transition_is_a_conflict_message(case_a, agent, other_agent):
    services.case_transition(case_id=case_a.pk, to=Status.TRIAGE, actor=other_agent)
    response = login(agent).post(
        f"/cases/{case_a.key}/transition/", {"to": "triage", "expected_status": "new"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "was moved to Triage by someone else" in response.content.decode()
    assert Interaction.objects.filter(case=case_a, kind=Interaction.Kind.STATUS).count() == 1


def test_forbidden_transition_is_422_with_reason(case_a, agent):
    response = login(agent).post(f"/cases/{case_a.key}/transition/", {"to": "resolved", "expected_status": "new"})
    assert response.status_code == 422
    assert "cannot move from New to Resolved" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.status == Status.NEW


def test_take_and_conflicting_take(case_a, agent, other_agent):
    response = login(agent).post(f"/cases/{case_a.key}/assign/", {"owner": "me", "expected_owner": ""})
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.owner == agent
    response = login(other_agent).post(
        f"/cases/{case_a.key}/assign/", {"owner": "me", "expected_owner": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409 and "now owned by kari" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.owner == agent


def test_classify_with_stale_version_conflicts(case_a, agent):
    client = login(agent)
    data = {
        "version": case_a.version,
        "priority": "high",
        "category": "performance",
        "issue_type": "bug",
        "environment": "production",
    }
    assert client.post(f"/cases/{case_a.key}/classify/", data).status_code == 302
    case_a.refresh_from_db()
    assert (case_a.priority, case_a.category) == (Priority.HIGH, "performance")
    data["priority"] = "low"
    response = client.post(f"/cases/{case_a.key}/classify/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and "changed by someone else" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.priority == Priority.HIGH
    bad = client.post(f"/cases/{case_a.key}/classify/", {**data, "version": case_a.version, "priority": "urgent"})
    assert bad.status_code == 422


def test_tags_and_attachments(case_a, agent, settings):
    client = login(agent)
    client.post(f"/cases/{case_a.key}/tags/", {"add": "Security, billing"})
    assert set(case_a.tags.values_list("name", flat=True)) == {"security", "billing"}
    client.post(f"/cases/{case_a.key}/tags/", {"remove": "billing"})
    assert set(case_a.tags.values_list("name", flat=True)) == {"security"}
    response = client.post(f"/cases/{case_a.key}/attachments/", {"file": _upload("trace.json", b'{"spans": []}')})
    assert response.status_code == 302
    attachment = case_a.attachments.get()
    assert attachment.content_type == "application/json" and attachment.size == 13
    download = client.get(f"/cases/attachments/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b'{"spans": []}'
    assert "attachment" in download["Content-Disposition"]
    settings.ATTACHMENT_MAX_BYTES = 10
    too_big = client.post(
        f"/cases/{case_a.key}/attachments/", {"file": _upload("big.txt", b"x" * 20)}, HTTP_HX_REQUEST="true"
    )
    assert too_big.status_code == 422 and "the limit is" in too_big.content.decode()
    assert case_a.attachments.count() == 1


def test_intake_creates_a_case(tenant_a, tenant_b, agent):
    requester = RequesterFactory(tenant=tenant_a, name="J. Doe")
    foreign = RequesterFactory(tenant=tenant_b)
    client = login(agent)
    page = client.get("/cases/new/").content.decode()
    assert "Acme Corp" in page and "Globex" not in page
    options = client.get("/cases/new/requesters/?tenant=acme").content.decode()
    assert "J. Doe" in options and foreign.name not in options
    assert foreign.name not in client.get("/cases/new/requesters/?tenant=globex").content.decode()
    bad = client.post("/cases/new/", {"tenant": "acme", "requester": foreign.pk, "subject": ""})
    assert bad.status_code == 422
    assert "This field is required" in bad.content.decode()
    ok = client.post(
        "/cases/new/",
        {
            "tenant": "acme",
            "requester": requester.pk,
            "subject": "Webhooks missing since 10:40",
            "description": "No deliveries",
            "channel": "web",
            "priority": "high",
            "category": "integration",
            "issue_type": "bug",
            "environment": "production",
        },
    )
    case = Case.objects.get(subject="Webhooks missing since 10:40")
    assert ok.status_code == 302 and ok["Location"] == f"/cases/{case.key}/"
    assert case.priority == Priority.HIGH and case.status == Status.NEW and case.first_response_at is None
    assert case.interactions.get().kind == Interaction.Kind.INBOUND


def test_signed_out_users_are_sent_to_sign_in(client, case_a):
    response = client.get(f"/cases/{case_a.key}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.get("/cases/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/accounts/login/"


# --- query counts do not grow with the number of cases ------------------------------------------------


def _populate(n, tenant, agent):
    tags = [TagFactory(name=f"t{i}") for i in range(3)]
    for i in range(n):
        case = CaseFactory(tenant=tenant, owner=agent if i % 2 else None, tags=tags[: i % 3])
        Interaction.objects.create(case=case, kind=Interaction.Kind.NOTE, actor=agent, body=f"note {i}")


@pytest.mark.parametrize("n", [5, 200])
def test_queue_query_count_is_flat(n, tenant_a, agent, django_assert_max_num_queries):
    _populate(n, tenant_a, agent)
    client = login(agent)
    client.get("/cases/")  # warm session/contenttype caches
    client.get("/cases/?sort=updated")  # the filter bar of this address, into the fragment cache
    # Issue 10: the user with profile, roles and tenant grants (one query, tenants.auth_backend), count,
    # rows with their tag names (one query), assignees, list-access audit row, saved views; the filter
    # bar (and its tenant, team and tag choices) comes from the fragment cache (cases.filtersets), the
    # session from the cache, written at most once a minute (companyos.middleware.SessionRefreshMiddleware).
    with django_assert_max_num_queries(6):
        page = client.get("/cases/?sort=updated")
    assert page.status_code == 200 and 'aria-label="Assignee"' in page.content.decode()  # the page's own bulk bar
    # From the filter bar: the bar stays, only its chips' counts come along (no filter choices read),
    # and the page's bulk bar stays as it is (hx-preserve): no assignees read.
    with django_assert_max_num_queries(4):
        swap = client.get("/cases/?priority=medium", **HX)
    assert swap.status_code == 200
    assert '<div class="bulk-bar" id="bulk-bar" data-bulk-bar hx-preserve="true"></div>' in swap.content.decode()
    assert (
        'aria-label="Assignee"' not in swap.content.decode() and "/runbooks/macros/bulk/" not in swap.content.decode()
    )
    # From a pill, a sort link or the pager: the filter bar comes along — rendered once (its 3 filter
    # choices), then from the cache.
    with django_assert_max_num_queries(7):
        assert client.get("/cases/?priority=medium", **{**HX, "HTTP_HX_TRIGGER": ""}).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get("/cases/?priority=medium", **{**HX, "HTTP_HX_TRIGGER": ""}).status_code == 200
    # Every optional column shown: still flat (the rows load only what they show, nothing per row).
    cols = "&".join(f"cols={c}" for c in ("requester", "team", "severity", "category", "channel", "updated", "created"))
    with django_assert_max_num_queries(9):
        response = client.get(f"/cases/?{cols}&sort=updated")
    assert response.status_code == 200 and 'class="requester"' in response.content.decode()
    assert 'class="tag">t1<' in response.content.decode() or n < 3


def test_the_cached_filter_bar_follows_new_tags_tenants_and_grants(tenant_a, agent):
    """The filter bar is served from the fragment cache; a new tag, a renamed tenant or a tenant newly
    granted to the viewer shows in it at once (the choices' version, and the viewer's tenants, are in
    its key), and an invalid value is never cached (the bar shows the error)."""
    client = login(agent)
    bar = lambda html: html[html.index('id="queue-filters"') : html.index("</form>", html.index('id="queue-filters"'))]  # noqa: E731
    first = bar(client.get("/cases/").content.decode())
    assert "frobnicate" not in first and tenant_a.name in first
    TagFactory(name="frobnicate")
    assert 'value="frobnicate"' in bar(client.get("/cases/").content.decode())
    tenant_a.name = "Renamed Industries"
    tenant_a.save()
    assert "Renamed Industries" in bar(client.get("/cases/").content.decode())
    other = TenantFactory(name="Newly Granted Ltd")
    assert "Newly Granted Ltd" not in bar(client.get("/cases/").content.decode())
    tenant_grant(tenant=other, user_or_group=agent)
    client = login(agent)
    assert "Newly Granted Ltd" in bar(client.get("/cases/").content.decode())
    html = client.get("/cases/?created_after=not-a-date").content.decode()
    assert 'role="alert"' in bar(html)


@pytest.mark.parametrize("n", [5, 200])
def test_case_page_query_count_is_flat(n, tenant_a, agent, django_assert_max_num_queries):
    _populate(n, tenant_a, agent)
    case = CaseFactory(tenant=tenant_a)
    for i in range(n // 5):
        services.case_reply(case_id=case.pk, actor=agent, body=f"reply {i}", public=bool(i % 2))
    # What the page shows beside the case: tags, a duplicate merged into it and its follower, an attachment.
    case.tags.set([TagFactory(name="billing"), TagFactory(name="vip")])
    dup = CaseFactory(tenant=tenant_a, subject="the same again")
    services.case_merge(case_id=dup.pk, into_id=case.pk, actor=agent)
    case.followers.add(RequesterFactory(tenant=tenant_a, name="Fola Follower"))
    services.case_attach(case_id=case.pk, actor=agent, upload=_upload("log.txt", b"x"))
    # A requester who sees only some of the tenant's resources (the requester card names the others).
    seen = ResourceFactory(tenant=tenant_a, external_id="acme-seen-gw")
    case.requester.sees_all_resources = False
    case.requester.save()
    case.requester.visible_resources.set([seen])
    client = login(agent)
    client.get(f"/cases/{case.key}/")
    # Issue 10: 10 — the user (with profile, roles, grants), the case with its tags, merged duplicates,
    # followers and the resources its requester may see (one query), one INSERT for its two access
    # entries, the affected and the tenant's resources, assignees, attachments (also handed to the
    # timeline's entries), the SLA clocks, teams, the timeline; flat in the timeline's length, and no
    # session SQL.
    with django_assert_max_num_queries(10):
        response = client.get(f"/cases/{case.key}/")
    body = response.content.decode()
    assert response.status_code == 200 and "vip" in body and dup.key in body and "Fola Follower" in body
    assert body.count("log.txt") >= 2  # in the attachments list and on its timeline entry
    card = body.split('id="requester-card"', 1)[1].split("</section>", 1)[0]
    assert "acme-seen-gw" in card and "(1 of 1)" in card


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_queue_views_are_audited_with_the_cases_shown(world, agent):
    from auditlog.models import LogEntry

    login(agent).get("/cases/?priority=critical", **HX)
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk="list").latest("timestamp")
    assert entry.actor == agent
    assert entry.additional_data["ids"] == [world["crit_new"].pk]
    assert entry.additional_data["query"] == "priority=critical"


# --- SLA in the queue and on the case page ------------------------------------------------------------


@pytest.fixture
def sla_cases(tenant_a, agent):
    """Four open cases whose SLA summary says: breached, at risk, on track, paused."""
    now = timezone.now()
    return {
        "breached": CaseFactory(
            tenant=tenant_a,
            subject="breached one",
            sla_due_at=now - timedelta(minutes=12),
            sla_risk_at=now - timedelta(minutes=20),
            sla_clock="first_response",
        ),
        "at_risk": CaseFactory(
            tenant=tenant_a,
            subject="at risk one",
            sla_due_at=now + timedelta(minutes=5),
            sla_risk_at=now - timedelta(minutes=1),
            sla_clock="resolution",
        ),
        "on_track": CaseFactory(
            tenant=tenant_a,
            subject="on track one",
            sla_due_at=now + timedelta(hours=3),
            sla_risk_at=now + timedelta(hours=2),
            sla_clock="resolution",
        ),
        "paused": CaseFactory(
            tenant=tenant_a, subject="paused one", status=Status.WAITING_ON_CUSTOMER, sla_paused=True
        ),
    }


@pytest.mark.parametrize("state", ["breached", "at_risk", "on_track", "paused"])
def test_sla_filters(sla_cases, agent, state):
    assert keys(login(agent).get(f"/cases/?sla={state}")) == {sla_cases[state].key}


def test_sla_sort_breaches_soonest_and_column(sla_cases, agent):
    import re

    body = login(agent).get("/cases/?sort=sla").content.decode()
    order = re.findall(r'data-href="/cases/(CS-\d+)/"', body)
    assert order[:3] == [sla_cases["breached"].key, sla_cases["at_risk"].key, sla_cases["on_track"].key]
    assert 'class="sla sla-breached" title="first response overdue since' in body and "−0:12" in body
    assert 'class="sla sla-at_risk"' in body and 'class="sla sla-paused"' in body


def test_case_page_shows_every_clock_and_why(tenant_a, agent):
    requester = RequesterFactory(tenant=tenant_a)
    case = services.case_create(
        actor=agent, tenant=tenant_a, requester=requester, subject="x", priority=Priority.CRITICAL
    )
    services.case_transition(case_id=case.pk, to=Status.TRIAGE, actor=agent)
    client = login(agent)
    body = client.get(f"/cases/{case.key}/").content.decode()
    assert 'data-clock="first_response"' in body and 'data-clock="resolution"' in body
    assert "target 15 min business" in body and "Office hours (Oslo) hours" in body
    fragment = client.get(f"/cases/{case.key}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="sla-panel").content.decode()
    assert fragment.strip().startswith('<section id="sla-panel"') and "<html" not in fragment
    timeline = client.get(f"/cases/{case.key}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline").content.decode()
    assert "resolution clock started" in timeline


def test_create_writes_the_case_once_with_its_clock_and_audit_entries(tenant_a, agent, django_assert_max_num_queries):
    """Issue 10, point 4: one INSERT of the row carrying the policy snapshot and SLA summary (no
    UPDATE after it), the first-response clock, the opening entry, their audit entries, and the report
    rollup's dirty-day marker (issue 17, written in the same transaction); 12 statements in all."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.models import Interaction, SLAClock

    requester = RequesterFactory(tenant=tenant_a)
    client = login(agent)
    client.get("/cases/")
    # The content types the audit entries name, as a running process has them cached (whichever test
    # ran first in this process decided whether they were).
    ContentType.objects.get_for_models(Case, Interaction, SLAClock)
    form = {"tenant": tenant_a.slug, "requester": requester.pk, "subject": "Webhooks failing", "priority": "high"}
    form |= {"description": "since 10:00", "channel": "email", "category": "integration"}
    form |= {"issue_type": "bug", "environment": "production"}
    with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(12):
        response = client.post("/cases/new/", form)
    assert response.status_code == 302
    case = Case.objects.get(subject="Webhooks failing")
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum(s.startswith('INSERT INTO "cases_case"') for s in sql) == 1
    assert not [s for s in sql if s.startswith('UPDATE "cases_case"')]
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 1  # one transaction (a savepoint in the test's)
    clock = SLAClock.objects.get(case=case)  # the seeded default policy applies
    assert case.sla_due_at == clock.due_at and case.sla_clock == clock.kind and case.sla_snapshot
    assert LogEntry.objects.filter(object_pk=str(case.pk), content_type__model="case", action=0).exists()
