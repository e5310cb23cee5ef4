"""Feedback emissions (seed 003): every closing feeds the reliability, product or docs backlog.

The choice rides on the case's closing status entry (`feedback`, `feedback_confirmed`: cases
.services.case_transition, by the agent's confirmation at close or by the classification —
cases.closure.rules.feedback_for — for an auto-close). `on_change` is registered with cases'
change listeners (cases.changes) and writes the FeedbackEmission in the closing's transaction,
once per closing (INSERT … ON CONFLICT DO NOTHING on case × closed_at). It writes no case row."""

from __future__ import annotations

from cases.choices import Status
from cases.models import Interaction

from .models import FeedbackEmission


def on_change(interaction: Interaction) -> None:
    if interaction.kind != Interaction.Kind.STATUS:
        return
    data = interaction.data or {}
    if data.get("to") != Status.CLOSED:
        return
    backlog = data.get("feedback")
    if backlog not in FeedbackEmission.Backlog.values:
        return
    case = interaction.case
    FeedbackEmission.objects.bulk_create(
        [
            FeedbackEmission(
                case_id=case.pk,
                tenant_id=case.tenant_id,
                backlog=backlog,
                confirmed=bool(data.get("feedback_confirmed")),
                closed_how=data.get("closed_how", "")[:12],
                category=case.category,
                issue_type=case.issue_type,
                closed_at=interaction.created_at,
            )
        ],
        ignore_conflicts=True,
    )
