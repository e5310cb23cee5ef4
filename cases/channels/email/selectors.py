"""Reads of the e-mail channel that a user sees: the unmatched queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from companyos import roles

from . import parsing
from .models import EmailMessage


def sees_unmatched(user) -> bool:
    """Unmatched mail belongs to no tenant yet, so it may be any tenant's: only those who see every
    tenant (managers, admins, SRE) see the queue."""
    return roles.sees_all_tenants(user)


def unmatched_for(user) -> QuerySet[EmailMessage]:
    if not sees_unmatched(user):
        return EmailMessage.objects.none()
    return EmailMessage.objects.filter(
        direction=EmailMessage.Direction.INBOUND, state=EmailMessage.State.UNMATCHED
    ).select_related("case")


@dataclass
class Preview:
    email: EmailMessage
    text: str
    attachments: list[str]


def preview(email: EmailMessage, limit: int = 600) -> Preview:
    """What the message says (the newest reply, cut to `limit`) and its attachments' names, read from
    the raw copy the queue keeps."""
    try:
        with email.raw.open("rb") as handle:
            parsed = parsing.parse(handle.read())
    except (OSError, ValueError):
        return Preview(email, "(the stored message could not be read)", [])
    text = parsing.message_text(parsed)
    return Preview(email, text[:limit] + ("…" if len(text) > limit else ""), [a.filename for a in parsed.attachments])
