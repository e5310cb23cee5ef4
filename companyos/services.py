"""Writes of the shared plumbing's own models (Profile). Nothing domain-specific."""

from __future__ import annotations

from django.db import transaction

from .models import Profile


def profile_for(user) -> Profile:
    """The user's console preferences, created with the defaults on first use."""
    return Profile.objects.get_or_create(user=user)[0]


@transaction.atomic
def profile_update(*, user, timezone: str | None = None, timeline_order: str | None = None) -> Profile:
    """Change the timezone every time is shown in and/or the case timeline's order (validated
    against the model's choices by the form); what is not given stays."""
    profile = Profile.objects.select_for_update().get_or_create(user=user)[0]
    fields = []
    if timezone is not None:
        profile.timezone = timezone
        fields.append("timezone")
    if timeline_order is not None:
        profile.timeline_order = timeline_order
        fields.append("timeline_order")
    if fields:
        profile.save(update_fields=fields)
    return profile
