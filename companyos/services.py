"""Writes of the shared plumbing's own models (Profile). Nothing domain-specific."""

from __future__ import annotations

from django.db import transaction

from .models import Profile


def profile_for(user) -> Profile:
    """The user's console preferences, created with the defaults on first use."""
    return Profile.objects.get_or_create(user=user)[0]


@transaction.atomic
def profile_update(*, user, timezone: str) -> Profile:
    """Change the timezone every time is shown in (validated against TIMEZONE_CHOICES by the form)."""
    profile = Profile.objects.select_for_update().get_or_create(user=user)[0]
    profile.timezone = timezone
    profile.save(update_fields=["timezone"])
    return profile
