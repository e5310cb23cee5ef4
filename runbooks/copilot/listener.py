"""Propose for every new case: a change listener (cases.changes) that sees the case's opening entry
and, after the case's transaction commits, enqueues the copilot's assessment. Cheap for every other
entry (one attribute check); writes nothing in the case's transaction."""

from __future__ import annotations

from django.db import transaction


def on_change(interaction) -> None:
    if interaction.kind != "inbound" or "opened_by" not in (interaction.data or {}):
        return
    case_id = interaction.case_id

    def enqueue():
        from ..tasks import copilot_assess_task

        copilot_assess_task.delay(case_id)

    transaction.on_commit(enqueue)


def register() -> None:
    from cases.changes import register_change_listener

    register_change_listener(on_change)
