"""Writes of the shared plumbing's own models (Profile). Nothing domain-specific."""

from __future__ import annotations

from django.db import transaction

from .models import Profile


def profile_for(user) -> Profile:
    """The user's console preferences, created with the defaults on first use."""
    return Profile.objects.get_or_create(user=user)[0]


@transaction.atomic
def profile_update(
    *, user, timezone: str | None = None, density: str | None = None, timeline_order: str | None = None
) -> Profile:
    """Change the preferences given: the timezone every time is shown in (validated against
    TIMEZONE_CHOICES by the form), the density of lists (Profile.Density), the case timeline's order
    (Profile.TimelineOrder). Others stay as they are."""
    if density is not None and density not in Profile.Density.values:
        raise ValueError(f"Unknown density {density!r}")
    if timeline_order is not None and timeline_order not in Profile.TimelineOrder.values:
        raise ValueError(f"Unknown timeline order {timeline_order!r}")
    profile = Profile.objects.select_for_update().get_or_create(user=user)[0]
    changed = {"timezone": timezone, "density": density, "timeline_order": timeline_order}
    for name, value in changed.items():
        if value is not None:
            setattr(profile, name, value)
    fields = [name for name, value in changed.items() if value is not None]
    if fields:
        profile.save(update_fields=fields)
    return profile
