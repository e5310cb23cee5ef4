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


class AuditSeal(models.Model):
    """A closed interval of the audit trail, sealed: how many entries it holds and a digest over their
    row hashes in id order, chained to the previous seal by an HMAC (companyos.audit_trail). Insert-only
    for the application's role (PostgreSQL privileges and triggers, companyos migration 0006)."""

    period_start = models.DateTimeField(unique=True)
    period_end = models.DateTimeField()
    row_count = models.BigIntegerField()
    rows_digest = models.CharField(max_length=64, help_text="sha256 over the rows' hashes in id order")
    prev_digest = models.CharField(max_length=64, blank=True, help_text="the previous seal's digest")
    digest = models.CharField(max_length=64, help_text="HMAC of this seal, chained to the previous one")
    sealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period_start"]

    def __str__(self):
        return f"audit seal {self.period_start:%Y-%m-%d %H:%M}–{self.period_end:%H:%M} ({self.row_count} entries)"


class AuditArchive(models.Model):
    """A month of the audit trail exported to a compressed file (checksum verified) and then dropped
    from the database (retention, companyos.audit_trail.archive_partition, run as the owner role)."""

    partition = models.CharField(max_length=63, unique=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    row_count = models.BigIntegerField()
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    archived_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period_start"]

    def __str__(self):
        return f"{self.partition} → {self.path}"


class ApiToken(models.Model):
    """A person's API token (the REST API at /api/v1/, the `companyos` CLI): it acts as its user, sees
    exactly what they see, within its scope (read, or read and write) until it expires or is revoked.
    Only a hash is stored; the token is shown once when created (companyos.api.tokens)."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What it is for, e.g. 'laptop CLI'; named in the audit trail")
    token_prefix = models.CharField(max_length=12, help_text="The token's first characters, to recognise it")
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], condition=models.Q(revoked_at__isnull=True), name="apitoken_active_name_unique"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.token_prefix}…)"

    def refusal(self, now) -> str:
        """Why the token cannot be used now ("" when it can)."""
        if self.revoked_at is not None:
            return "This token was revoked."
        if self.expires_at <= now:
            return "This token has expired."
        if not self.user.is_active:
            return "This token's user is deactivated."
        return ""


class IdempotencyKey(models.Model):
    """The first answer to a create sent with an `Idempotency-Key` header, per caller: a retry with the
    same key gets this answer again instead of a second case (companyos.api.idempotency). Written in the
    create's own transaction, so a failed create leaves no key behind."""

    principal = models.CharField(max_length=40, help_text="Who sent it: 'token:<id>' or 'integration:<id>'")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    status = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotencykey_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotencykey_created_idx")]

    def __str__(self):
        return f"{self.principal} {self.key}"


class PurgeRecord(models.Model):
    """One run of one retention rule (companyos.retention): a dry run or a purge, how many items, by whom."""

    rule = models.CharField(max_length=60)
    dry_run = models.BooleanField()
    count = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rule", "-created_at"], name="purge_rule_time_idx")]

    def __str__(self):
        return f"{'dry run' if self.dry_run else 'purge'} of {self.rule}: {self.count}"
