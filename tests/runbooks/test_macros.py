"""Macros: rendering with the one sandboxed engine (variables, escaping, unknown variable), the
preview, and applying — one transaction that refuses as a whole — singly and in bulk."""

import pytest

from cases import services as case_services
from cases.choices import Status
from cases.models import Case, Interaction
from runbooks import services
from runbooks.models import KnownIssue, Macro, MacroSuggestion, MacroUse
from tests.factories import CaseFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def make(agent, **kwargs):
    fields = {
        "name": "Test macro",
        "body": "Hi {{ customer_name }}, about {{ case_key }} ({{ priority }}).",
        "kind": "reply",
    }
    fields.update(kwargs)
    return services.macro_save(actor=agent, visibility="personal", **fields)


def replies(case):
    return Interaction.objects.filter(case=case, kind__in=["reply", "note"])


def test_preview_renders_variables(open_case, agent):
    macro = make(agent, actions_list=[{"type": "tags", "add": ["auth"]}])
    preview = services.macro_preview(macro_id=macro.pk, case=open_case, actor=agent)
    assert preview.ok
    assert preview.text == f"Hi Jo Doe, about {open_case.key} (Medium)."
    assert [s.text for s in preview.plan.steps] == ["Tags +auth"]


def test_values_are_not_interpreted_as_templates_nor_objects(open_case, agent):
    open_case.requester.name = "{{ agent }} <script>"
    open_case.requester.save()
    macro = make(agent, body="Hi {{ customer_name }}")
    assert services.macro_preview(macro_id=macro.pk, case=open_case, actor=agent).text == "Hi {{ agent }} <script>"


def test_an_unknown_variable_or_syntax_error_is_refused_when_saved(agent):
    with pytest.raises(services.KnowledgeError, match="Unknown variable customer_nme"):
        make(agent, body="Hi {{ customer_nme }}")
    with pytest.raises(services.KnowledgeError, match="Template error"):
        make(agent, body="Hi {{ customer_name ")
    with pytest.raises(services.KnowledgeError, match="Not allowed|Unknown variable"):
        make(agent, body="{{ case_key.__class__ }}")
    with pytest.raises(services.KnowledgeError, match="Action 1"):
        make(agent, actions_list=[{"type": "status", "to": "somewhere"}])
    with pytest.raises(services.KnowledgeError, match="Action 1: .*Unknown variable"):
        make(agent, actions_list=[{"type": "note", "text": "{{ nope }}"}])


def test_apply_sends_the_reply_runs_the_actions_and_records_one_summary(open_case, agent):
    macro = make(
        agent,
        actions_list=[
            {"type": "priority", "value": "high"},
            {"type": "tags", "add": ["auth"]},
            {"type": "note", "text": "Checked {{ tenant }}"},
            {"type": "request_info", "items": ["The X-Request-Id"], "waiting_for": "logs"},
        ],
    )
    services.macro_apply(macro_id=macro.pk, case_id=open_case.pk, actor=agent, expected_version=open_case.version)
    case = Case.objects.get(pk=open_case.pk)
    assert case.status == Status.WAITING_ON_CUSTOMER and case.waiting_for == "logs" and case.priority == 2
    assert list(case.tags.values_list("name", flat=True)) == ["auth"]
    reply = Interaction.objects.get(case=case, kind="reply")
    assert reply.public and reply.body.startswith("Hi Jo Doe") and reply.body.endswith("1. The X-Request-Id")
    assert Interaction.objects.get(case=case, kind="note").body == "Checked Acme Corp"
    summary = Interaction.objects.filter(case=case, kind="automation").latest("pk")
    assert summary.body == "Macro “Test macro” applied" and "tags +auth" in summary.data["actions"]
    assert MacroUse.objects.filter(macro=macro, case=case, actor=agent).count() == 1


def test_a_refused_action_leaves_nothing_half_done(open_case, agent):
    """The reply comes first, the forbidden move (in progress → closed) last: nothing stays."""
    macro = make(agent, actions_list=[{"type": "tags", "add": ["auth"]}, {"type": "status", "to": "closed"}])
    preview = services.macro_preview(macro_id=macro.pk, case=open_case, actor=agent)
    assert not preview.ok and "not allowed from In progress" in preview.problems[0]
    before = Interaction.objects.filter(case=open_case).count()
    with pytest.raises(services.KnowledgeError, match="not allowed from In progress"):
        services.macro_apply(macro_id=macro.pk, case_id=open_case.pk, actor=agent)
    case = Case.objects.get(pk=open_case.pk)
    assert Interaction.objects.filter(case=case).count() == before and not replies(case).exists()
    assert case.version == open_case.version and not case.tags.exists() and not MacroUse.objects.exists()


def test_a_refusal_inside_a_service_also_rolls_everything_back(open_case, agent):
    """The plan does not know every rule (here: an owner who cannot see the tenant); the service's
    refusal raised mid-way still undoes the reply and the actions before it."""
    outsider = UserFactory(username="outsider", role="agent")
    macro = make(
        agent, actions_list=[{"type": "tags", "add": ["auth"]}, {"type": "assign", "owner": outsider.username}]
    )
    with pytest.raises(case_services.CaseError, match="cannot see"):
        services.macro_apply(macro_id=macro.pk, case_id=open_case.pk, actor=agent)
    case = Case.objects.get(pk=open_case.pk)
    assert not replies(case).exists() and not case.tags.exists() and case.owner_id is None


def test_a_stale_preview_is_a_conflict(open_case, agent):
    macro = make(agent)
    case_services.case_tag(case_id=open_case.pk, actor=agent, add=["x"])
    with pytest.raises(case_services.CaseConflict):
        services.macro_apply(macro_id=macro.pk, case_id=open_case.pk, actor=agent, expected_version=open_case.version)
    assert not replies(open_case).exists()


def test_personal_and_team_macros_are_their_owners(open_case, agent, other_agent):
    mine = make(agent)
    with pytest.raises(services.KnowledgeError, match="not yours"):
        services.macro_preview(macro_id=mine.pk, case=open_case, actor=other_agent)
    with pytest.raises(services.KnowledgeError, match="Only admins and senior agents"):
        services.macro_save(actor=agent, name="Shared", body="x", visibility="shared")
    senior = UserFactory(role="senior agent")
    team = TeamFactory(name="T2", slug="t2")
    team.members.add(other_agent)
    team_macro = services.macro_save(actor=senior, name="Team", body="x", visibility="team", team=team)
    assert services.macro_preview(macro_id=team_macro.pk, case=open_case, actor=other_agent).ok
    with pytest.raises(services.KnowledgeError):
        services.macro_preview(macro_id=team_macro.pk, case=open_case, actor=agent)


def test_initial_response_builtin_moves_a_new_case_to_triage(tenant_a, agent):
    case = CaseFactory(tenant=tenant_a)
    macro = Macro.objects.get(builtin="initial-response")
    services.macro_apply(macro_id=macro.pk, case_id=case.pk, actor=agent)
    case.refresh_from_db()
    assert case.status == Status.TRIAGE and case.first_response_at is not None
    assert case.key in Interaction.objects.get(case=case, kind="reply").body


def test_every_builtin_renders_on_a_case(open_case, agent):
    issue = KnownIssue.objects.create(title="Token refresh race", component="auth API", workaround="Retry once")
    for macro in Macro.objects.filter(builtin__isnull=False):
        preview = services.macro_preview(macro_id=macro.pk, case=open_case, actor=agent, known_issue_id=issue.pk)
        assert not preview.error, (macro.builtin, preview.error)


def test_bulk_applies_each_case_through_the_same_service(tenant_a, agent, open_case):
    new_case = CaseFactory(tenant=tenant_a)
    macro = Macro.objects.get(builtin="initial-response")  # new → triage: refused for the case in progress
    result = services.macro_bulk(macro_id=macro.pk, cases=[new_case, open_case], actor=agent)
    assert result["changed"] == [new_case.key] and list(result["skipped"]) == [open_case.key]
    assert Interaction.objects.filter(case=new_case, kind="reply").exists()
    assert not replies(open_case).exists()


def test_applying_a_suggested_macro_is_a_hit(open_case, agent):
    macro = make(agent)
    MacroSuggestion.objects.create(case=open_case, macro=macro)
    services.macro_apply(macro_id=macro.pk, case_id=open_case.pk, actor=agent, suggested=True)
    assert MacroSuggestion.objects.get(case=open_case, macro=macro).applied_at is not None
