"""Known issues: close a case as one (seed 002's template, the link), mark it fixed (every linked
case tagged with the version, seed 004), and tell every linked customer once."""

import pytest

from cases.choices import Status
from cases.models import Case, Interaction
from runbooks import services
from runbooks.models import KnownIssue, KnownIssueCase
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    return KnownIssue.objects.create(
        title="Token refresh race",
        component="auth API 2.3",
        workaround="Retry the refresh once.",
        message_patterns="refresh race",
    )


def test_close_as_known_issue_links_replies_and_resolves(open_case, agent, issue):
    open_case.unclassified = []
    open_case.save(update_fields=["unclassified"])
    services.known_issue_close_case(actor=agent, case_id=open_case.pk, known_issue_id=issue.pk)
    case = Case.objects.get(pk=open_case.pk)
    assert case.status == Status.RESOLVED and "known-issue" in case.tags.values_list("name", flat=True)
    reply = Interaction.objects.get(case=case, kind="reply")
    assert "This is a known issue with auth API 2.3: Token refresh race" in reply.body
    assert "Retry the refresh once." in reply.body
    assert KnownIssueCase.objects.filter(case=case, known_issue=issue).exists()


def test_close_as_known_issue_refuses_when_resolving_is_not_allowed(open_case, agent, issue):
    open_case.unclassified = ["category"]
    open_case.save(update_fields=["unclassified"])
    with pytest.raises(services.KnowledgeError, match="set category first"):
        services.known_issue_close_case(actor=agent, case_id=open_case.pk, known_issue_id=issue.pk)
    assert not KnownIssueCase.objects.exists() and not Interaction.objects.filter(case=open_case, kind="reply").exists()


def test_fixed_tags_linked_cases_and_notifies_each_customer_once(open_case, agent, issue):
    senior = UserFactory(role="senior agent", tenants=[open_case.tenant])
    KnownIssueCase.objects.create(known_issue=issue, case=open_case)
    with pytest.raises(services.KnowledgeError, match="Mark the issue fixed"):
        services.known_issue_notify_fixed(actor=senior, known_issue_id=issue.pk)
    with pytest.raises(services.KnowledgeError, match="Only admins and senior agents"):
        services.known_issue_mark_fixed(actor=agent, known_issue_id=issue.pk, version="2.3.1")
    issue, tagged = services.known_issue_mark_fixed(actor=senior, known_issue_id=issue.pk, version="2.3.1")
    assert tagged == [open_case.key] and issue.fixed_in == "2.3.1"
    assert "fixed-in-2.3.1" in open_case.tags.values_list("name", flat=True)
    result = services.known_issue_notify_fixed(actor=senior, known_issue_id=issue.pk)
    assert result["notified"] == [open_case.key]
    reply = Interaction.objects.get(case=open_case, kind="reply")
    assert reply.public and "fixed in version 2.3.1" in reply.body
    assert services.known_issue_notify_fixed(actor=senior, known_issue_id=issue.pk)["notified"] == []
    assert Interaction.objects.filter(case=open_case, kind="reply").count() == 1
