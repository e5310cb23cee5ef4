"""cases.sla.actions: the breach-action registry the sweep calls for a policy's escalation. The
built-in "page on-call" e-mails the SRE group; another app can register its own in its place."""

from datetime import timedelta
from unittest import mock

import pytest

from cases.choices import Priority
from cases.models import Interaction, Notification, SLAPolicy
from cases.sla import actions
from tests.cases.sla.test_sweep import MON_0900, make_case, setup, sweep  # noqa: F401  (fixture)


@pytest.mark.django_db
def test_page_on_call_is_the_built_in_action(setup):  # noqa: F811
    SLAPolicy.objects.filter(name="Standard").update(escalation=SLAPolicy.Escalation.PAGE_CRITICAL)
    case = make_case(setup)
    sweep(MON_0900 + timedelta(minutes=16))
    assert Notification.objects.filter(case=case, recipient="oncall@example.com", subject__startswith="PAGE: ").exists()
    assert "paged on-call (1)" in case.interactions.get(kind=Interaction.Kind.AUTOMATION).data["actions"]


@pytest.mark.django_db
def test_a_registered_action_replaces_the_built_in_one(setup):  # noqa: F811
    SLAPolicy.objects.filter(name="Standard").update(escalation=SLAPolicy.Escalation.PAGE_CRITICAL)
    seen = []
    before = actions.breach_action(SLAPolicy.Escalation.PAGE_CRITICAL)  # the incidents app's on-call page

    def page_the_rota(breach):
        seen.append(breach.key)
        breach.email("rota@example.com", f"PAGE: {breach.headline}")
        return ["paged the rota"]

    case = make_case(setup)
    with mock.patch.dict(actions._actions):
        actions.register_breach_action(SLAPolicy.Escalation.PAGE_CRITICAL, page_the_rota)
        sweep(MON_0900 + timedelta(minutes=16))
    assert seen == [case.key]
    assert Notification.objects.filter(case=case, recipient="rota@example.com").exists()
    assert not Notification.objects.filter(case=case, recipient="oncall@example.com").exists()
    assert actions.breach_action(SLAPolicy.Escalation.PAGE_CRITICAL) is before
    assert actions.breach_action(SLAPolicy.Escalation.NOTIFY) is None and Priority.CRITICAL == case.priority
