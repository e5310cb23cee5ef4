import zoneinfo

from django.conf import settings
from django.db import models

TIMEZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz or tz == "UTC")


class Profile(models.Model):
    """Per-user console preferences: the timezone every time is shown in, how dense lists are, the
    case timeline's order."""

    class Density(models.TextChoices):
        COMPACT = "compact", "Compact"
        COMFORTABLE = "comfortable", "Comfortable"

    class TimelineOrder(models.TextChoices):
        # Oldest first with the composer under the end of the conversation (Zendesk's Agent
        # Workspace, Front, e-mail threads) is the default; newest first with the composer on top
        # (classic Zendesk, Jira Service Management) is the other way agents know.
        OLDEST_FIRST = "oldest", "Oldest first, reply box at the bottom"
        NEWEST_FIRST = "newest", "Newest first, reply box on top"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    timeline_order = models.CharField(max_length=6, choices=TimelineOrder.choices, default=TimelineOrder.OLDEST_FIRST)
    team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    density = models.CharField(max_length=12, choices=Density.choices, default=Density.COMPACT)

    def __str__(self):
        return f"Profile of {self.user}"
