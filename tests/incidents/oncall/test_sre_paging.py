"""An SRE escalation (incidents/escalations/sre.py) pages on-call through the escalation chain when
one is configured (the other tests of the escalation run without one: every SRE by e-mail)."""

import pytest

from incidents.escalations import sre
from incidents.oncall.models import Page, PageEntry

pytestmark = pytest.mark.django_db


def test_an_sre_escalation_opens_a_page_through_the_default_chain(chain, people, case_a, agent):
    escalation, new = sre.sre_escalate(tenant_id=case_a.tenant_id, actor=agent, case_id=case_a.pk, reason="API down")
    assert new and escalation.paged == 1
    page = Page.objects.get(case=case_a)
    assert page.chain == chain and page.incident_id == escalation.incident_id and page.source == "incident"
    # The chain's first step fired at once: the schedule's on-call person was told.
    assert page.entries.filter(kind=PageEntry.Kind.STEP).exists()
    # A second escalation of the same tenant attaches to the open incident and pages no second time.
    again, new = sre.sre_escalate(tenant_id=case_a.tenant_id, actor=agent, case_id=case_a.pk, reason="still down")
    assert not new and Page.objects.filter(case=case_a).count() == 1
