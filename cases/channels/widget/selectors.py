"""Reads of the widget's thread page: the requester's own case and what the customer may see of it."""

from __future__ import annotations

from ...models import Case, Interaction

CUSTOMER_KINDS = (Interaction.Kind.INBOUND, Interaction.Kind.REPLY)


def requester_case(*, case_id: int, requester_id: int) -> Case | None:
    """The case, only if `requester_id` is its requester (a link of one contact shows no one else's case)."""
    return Case.objects.select_related("tenant", "requester").filter(pk=case_id, requester_id=requester_id).first()


def customer_timeline(case: Case) -> list[Interaction]:
    """The public messages of the case, oldest first: the customer's own and the agents' public
    replies (internal notes, status changes and automation never reach the customer)."""
    return list(
        case.interactions.filter(public=True, kind__in=CUSTOMER_KINDS)
        .select_related("actor", "requester")
        .order_by("created_at", "id")
    )
