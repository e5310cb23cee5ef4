"""Reads of the e-mail channel that a user sees: the unmatched queue."""

from __future__ import annotations

from django.db.models import QuerySet

from companyos import roles

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
