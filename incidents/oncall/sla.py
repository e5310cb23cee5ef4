"""The SLA engine's "page on-call" breach action (cases.sla.actions), registered by the incidents
app: a breach opens a page through the escalation chain of the policy's escalation team (its own
chain, else the default chain), which then runs until acknowledged. With no chain configured at all
the built-in action (e-mail every SRE) still runs, so paging never goes silent."""

from __future__ import annotations

import logging

from cases.choices import Priority
from cases.sla import actions
from cases.sla.actions import Breach
from companyos import roles

from . import services
from .models import Page

log = logging.getLogger(__name__)


def page_through_chain(breach: Breach) -> list[str]:
    """Critical cases only, as the built-in action (the policy value is "page_critical")."""
    if breach.case["priority"] != Priority.CRITICAL:
        return []
    team_id = breach.case.get("escalation_team")
    team_id = int(team_id) if team_id not in (None, "", "null") else None
    chains = breach.batch.setdefault("oncall_chains", {})
    if team_id not in chains:
        chains[team_id] = services.chain_for_team(team_id)
    chain = chains[team_id]
    if chain is None:
        return actions.page_on_call(breach)
    case_pk, title, body = breach.case["pk"], f"{breach.key}: {breach.headline}", breach.body

    def open_page():
        try:
            services.page_open(
                actor=roles.system_user(), title=title, body=body, source=Page.Source.SLA, chain=chain, case_id=case_pk
            )
        except services.OnCallError as error:  # the breach stands; the page is logged as missed
            log.warning("SLA page for case %s not opened: %s", case_pk, error)

    breach.after(open_page)
    return [f"paged on-call through {chain.name}"]


def register() -> None:
    actions.register_breach_action(actions.SLAPolicy.Escalation.PAGE_CRITICAL, page_through_chain)
