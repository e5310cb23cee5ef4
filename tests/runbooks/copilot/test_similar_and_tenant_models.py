"""Issue 19's last two gaps: the similar past cases behind each classification proposal (the case's
own tenant's resolved cases only, read again through the viewer's scope on the panel), and one model
per tenant's history (its own confirmed cases only; the global model under the threshold; the beat
sweep bounded and only for tenants with new confirmations)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.models import Interaction
from runbooks.copilot import selectors, services
from runbooks.copilot.models import CopilotAssessment, CopilotDecision, CopilotModel
from tests.conftest import login
from tests.factories import CaseFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

TINY = [
    {"subject": s, "body": b, "category": c, "severity": v, "issue_type": i, "environment": e}
    for s, b, c, v, i, e in [
        ("How do I rotate keys?", "How can we rotate API keys?", "authentication", "P4", "question", "unknown"),
        ("Rotate keys how?", "What is the way to rotate a key?", "authentication", "P4", "question", "unknown"),
        ("Slow API", "Latency doubled in production", "performance", "P2", "bug", "production"),
        ("Very slow", "Requests 3x slower in production", "performance", "P2", "bug", "production"),
    ]
]
WEBHOOK = "Webhook deliveries time out for endpoint orders"


def resolved(tenant, subject, description="", **kw):
    kw.setdefault("status", "resolved")
    kw.setdefault("resolved_at", timezone.now())
    return CaseFactory(tenant=tenant, subject=subject, description=description, **kw)


@pytest.fixture
def history(tenant_a, tenant_b):
    """Tenant A: three finished webhook cases (integration, P2) and one still open; tenant B: a
    finished case with the very same words, labelled differently."""
    a = [
        resolved(tenant_a, WEBHOOK, "Our webhook deliveries time out after 30 s", category="integration", priority=2),
        resolved(
            tenant_a,
            "Webhook deliveries time out",
            "deliveries to endpoint orders time out",
            category="integration",
            priority=2,
            status="closed",
        ),
        resolved(
            tenant_a,
            "Webhook delivery timeouts on orders",
            "webhook deliveries time out",
            category="performance",
            priority=3,
        ),
    ]
    open_a = CaseFactory(tenant=tenant_a, subject=WEBHOOK, description="still open", category="integration")
    b = resolved(tenant_b, WEBHOOK, "Our webhook deliveries time out after 30 s", category="validation", priority=1)
    unrelated = resolved(tenant_a, "Invoice address change", "Please change our billing address", category="other")
    return {"a": a, "open_a": open_a, "b": b, "unrelated": unrelated}


def _new_case(tenant, subject=WEBHOOK, description="Webhook deliveries time out since this morning"):
    return CaseFactory(tenant=tenant, subject=subject, description=description)


def test_classification_proposals_list_the_tenants_similar_resolved_cases(history, tenant_a, agent):
    case = _new_case(tenant_a)
    row = services.copilot_assess(case_id=case.pk, actor=agent)
    proposals = row.data["proposals"]
    mine = {c.pk for c in history["a"]}
    for field in ("category", "severity", "issue_type", "environment"):
        ids = [s["id"] for s in proposals[field]["similar"]]
        assert set(ids) == mine, field  # not the open case, not tenant B's twin, not the unrelated one
        sims = [s["sim"] for s in proposals[field]["similar"]]
        assert sims == sorted(sims, reverse=True)
    labels = {s["id"]: s["label"] for s in proposals["category"]["similar"]}
    assert labels == {
        history["a"][0].pk: "integration",
        history["a"][1].pk: "integration",
        history["a"][2].pk: "performance",
    }
    assert {s["label"] for s in proposals["severity"]["similar"]} == {"P2", "P3"}
    # the reason counts only what is listed: tenant B's case is not even a count
    value = proposals["category"]["value"]
    agree = sum(label == value for label in labels.values())
    reason = proposals["category"]["reasons"][-1]
    assert reason == {
        "rule": "Similar past cases (resolved, same tenant)",
        "words": f"{agree} of the 3 most similar carry {value}",
    }
    # needs-info: none of the past cases had its needs-info proposal decided, so nothing is listed
    assert proposals["needs_info"]["similar"] == []
    assert history["b"].pk not in {s["id"] for p in proposals.values() for s in p["similar"]}


def test_at_most_five_and_needs_info_reads_the_agents_decision(tenant_a, agent):
    past = [
        resolved(tenant_a, f"{WEBHOOK} {n}", "webhook deliveries time out", category="integration") for n in range(7)
    ]
    # an agent decided needs-info on one past case: it carries that label for the needs-info proposal
    services.copilot_assess(case_id=past[0].pk, actor=agent)
    services.copilot_decide(
        case_id=past[0].pk, field="needs_info", actor=agent, accept=False, value="false", reason="had all"
    )
    case = _new_case(tenant_a)
    proposals = services.copilot_assess(case_id=case.pk, actor=agent).data["proposals"]
    assert len(proposals["category"]["similar"]) == 5
    assert proposals["needs_info"]["similar"] == [
        {"id": past[0].pk, "sim": proposals["needs_info"]["similar"][0]["sim"], "label": "false"}
    ]


def test_the_panel_shows_them_with_links_and_a_pinned_statement_count(
    history, tenant_a, agent, django_assert_num_queries
):
    case = _new_case(tenant_a)
    client = login(agent)
    url = f"/runbooks/copilot/case/{case.key}/panel/"
    client.get(url)  # proposes
    with django_assert_num_queries(6):  # user, case, access entry, assessment, decisions, similar cases
        html = client.get(url).content.decode()
    for c in history["a"]:
        assert f'data-similar-case="{c.key}"' in html and f'href="{c.get_absolute_url()}"' in html
        assert c.subject in html
    assert history["b"].key not in html and history["open_a"].key not in html
    assert "Similar past cases (3)" in html


def test_the_panel_reads_them_through_the_viewers_scope(history, tenant_a, tenant_b, agent):
    """Even a stored list naming another tenant's case (a case moved since, or a bad row) shows only
    what the viewer may see — not its key, subject, nor in the count."""
    case = _new_case(tenant_a)
    row = services.copilot_assess(case_id=case.pk, actor=agent)
    data = row.data
    data["proposals"]["category"]["similar"].insert(0, {"id": history["b"].pk, "sim": 0.99, "label": "validation"})
    CopilotAssessment.objects.filter(pk=row.pk).update(data=data)
    html = login(agent).get(f"/runbooks/copilot/case/{case.key}/panel/").content.decode()
    assert history["b"].key not in html and "Similar past cases (4)" not in html
    assert html.count("Similar past cases (3)") >= 4  # category among them, with B's case dropped


def test_a_relabelled_past_case_shows_its_label_now(history, tenant_a, agent):
    case = _new_case(tenant_a)
    services.copilot_assess(case_id=case.pk, actor=agent)
    first = history["a"][0]
    type(first).objects.filter(pk=first.pk).update(category="authentication")
    html = login(agent).get(f"/runbooks/copilot/case/{case.key}/panel/").content.decode()
    start = html.index('data-field="category"')
    block = html[start : html.index("data-field=", start + 20)]
    assert f'data-similar-case="{first.key}"' in block and ">authentication</span>" in block


# --- one model per tenant ------------------------------------------------------------------------


@pytest.fixture
def tiny_base(monkeypatch):
    """The shipped training set stands in as four tickets (fitting 654 takes seconds per model)."""
    monkeypatch.setattr(services, "load", lambda path: list(TINY))


def _confirm(case, actor, category):
    services.copilot_assess(case_id=case.pk, actor=actor)
    services.copilot_decide(case_id=case.pk, field="category", actor=actor, accept=False, value=category, reason="x")


def test_a_tenant_with_enough_history_gets_its_own_model_and_its_proposals_name_it(
    tiny_base, settings, tenant_a, tenant_b, agent, manager
):
    settings.COPILOT_TENANT_MIN_CONFIRMED = 3
    glob = services.copilot_train(tickets=TINY)
    for n in range(3):
        _confirm(
            CaseFactory(tenant=tenant_a, subject=f"Ledger export stalls {n}", description="export stalls"),
            agent,
            "integration",
        )
    # tenant B: two confirmed cases — under the threshold — with a word no one else uses
    for n in range(2):
        _confirm(
            CaseFactory(tenant=tenant_b, subject=f"Zyxglorp sync broken {n}", description="zyxglorp"),
            manager,
            "integration",
        )
    trained = services.copilot_retrain_tenants()
    assert [m.tenant_id for m in trained] == [tenant_a.pk]
    own = trained[0]
    assert own.version > glob.version and own.examples == len(TINY) + 3 and "own confirmed" in own.source
    # never another tenant's case: B's word is not in A's vocabulary; A's is
    predictor = selectors.current_model(tenant_a.pk)
    words = predictor.vocab[0]
    assert "ledger" in words and "zyxglorp" not in words
    assert (predictor.version, predictor.scope, predictor.tenant_id) == (own.version, "tenant", tenant_a.pk)

    a_case = CaseFactory(tenant=tenant_a, subject="Ledger export stalls again")
    row = services.copilot_assess(case_id=a_case.pk, actor=agent)
    assert (row.model_version, row.model_scope) == (own.version, "tenant")
    assert row.data["model_scope"] == "tenant"
    html = login(agent).get(f"/runbooks/copilot/case/{a_case.key}/panel/").content.decode()
    assert f"model v{own.version} (Acme Corp's own)" in html and 'data-model-scope="tenant"' in html
    services.copilot_decide(case_id=a_case.pk, field="category", actor=agent, accept=True)
    assert CopilotDecision.objects.get(case=a_case).model_scope == "tenant"
    assert Interaction.objects.filter(case=a_case, body__contains=f"model v{own.version} (the tenant's own)").exists()

    report = login(manager).get("/runbooks/copilot/report/").content.decode()
    assert f"Global model: v{glob.version}" in report and f"Acme Corp v{own.version} (7 examples)" in report
    assert "Globex v" not in report

    # under the threshold: the global model
    b_case = CaseFactory(tenant=tenant_b, subject="Zyxglorp sync broken again")
    row = services.copilot_assess(case_id=b_case.pk, actor=manager)
    assert (row.model_version, row.model_scope) == (glob.version, "global")
    assert selectors.current_model(tenant_b.pk).version == glob.version
    assert selectors.current_model().version == glob.version  # the global one is still the fallback


def test_the_sweep_is_bounded_and_only_retrains_tenants_with_new_confirmations(tiny_base, settings, agent, tenant_a):
    settings.COPILOT_TENANT_MIN_CONFIRMED = 2
    others = [TenantFactory(), TenantFactory()]
    manager = UserFactory(role="manager")
    for tenant in (tenant_a, *others):
        for n in range(2):
            _confirm(CaseFactory(tenant=tenant, subject=f"Export fails {n}"), manager, "integration")
    first = services.copilot_retrain_tenants(limit=2)
    assert len(first) == 2
    second = services.copilot_retrain_tenants(limit=2)  # only the one still without a model
    assert len(second) == 1 and {m.tenant_id for m in first + second} == {tenant_a.pk, *(t.pk for t in others)}
    assert services.copilot_retrain_tenants(limit=2) == []  # nothing new confirmed: no work
    _confirm(CaseFactory(tenant=tenant_a, subject="Export fails again"), agent, "integration")
    again = services.copilot_retrain_tenants(limit=2)
    assert [m.tenant_id for m in again] == [tenant_a.pk]
    assert CopilotModel.objects.filter(tenant=tenant_a).count() == 2


def test_the_beat_task_trains_global_and_tenant_models(tiny_base, settings, tenant_a, agent):
    from runbooks.tasks import copilot_retrain_task

    settings.COPILOT_TENANT_MIN_CONFIRMED = 2
    for n in range(2):
        _confirm(CaseFactory(tenant=tenant_a, subject=f"Export fails {n}"), agent, "integration")
    versions = copilot_retrain_task()
    assert len(versions) == 2  # no model yet: the global one, and tenant A's own
    scopes = dict(CopilotModel.objects.values_list("version", "tenant_id"))
    assert sorted(scopes.values(), key=str) == sorted([None, tenant_a.pk], key=str)
    assert copilot_retrain_task() == []


def test_copilot_eval_compares_the_tenants_model_with_the_global_one(tmp_path, tenant_a, tenant_b, agent, manager):
    train = tmp_path / "train.jsonl"
    keys = dict(security=False, needs_info=False, expected_behavior=False, dup_group=None)
    train.write_text("".join(json.dumps({"id": f"t{i}", **t, **keys}) + "\n" for i, t in enumerate(TINY)))
    # tenant A's agents file "ledger" tickets under integration; tenant B's under validation
    for n in range(10):
        _confirm(
            CaseFactory(tenant=tenant_a, subject=f"Ledger totals wrong {n}", description="ledger"), agent, "integration"
        )
        _confirm(
            CaseFactory(tenant=tenant_b, subject=f"Ledger totals wrong {n}", description="ledger"),
            manager,
            "validation",
        )
    out = tmp_path / "out.json"
    with open(out, "w") as handle:
        call_command("copilot_eval", "--tenant", "acme", "--train", str(train), "--json", stdout=handle)
    figures = json.loads(out.read_text())
    assert (
        figures["held_out"] == 2
        and figures["tenant_trained_on"] == 4 + 8
        and figures["global_trained_on"] == 4 + 8 + 10
    )
    assert figures["tenant"]["accuracy"]["category"] == 1.0  # its own history: integration
    assert figures["global"]["accuracy"]["category"] < 1.0  # B's validation labels pull the global model away
    with open(out, "w") as handle:
        call_command("copilot_eval", "--tenant", "acme", "--train", str(train), stdout=handle)
    assert "tenant  global" in out.read_text()


def test_copilot_eval_says_what_is_missing(tenant_a):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Give a labelled FILE.jsonl, or --tenant SLUG"):
        call_command("copilot_eval")
    with pytest.raises(CommandError, match="No tenant 'nope'"):
        call_command("copilot_eval", "--tenant", "nope")
    with pytest.raises(CommandError, match="has 0 confirmed cases; at least 5"):
        call_command("copilot_eval", "--tenant", "acme")
