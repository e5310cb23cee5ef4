from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from companyos.models import TIMEZONE_CHOICES

from .choices import AuthMethod, BillingStatus, Channel, Health, Plan, Region, Segment, SupportTier


class Tenant(models.Model):
    """A customer organisation or workspace. Agents see a tenant (and everything under it) only when
    it is granted to them: guardian's per-object `view_tenant` permission."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.TEAM)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.SMB, db_index=True)
    support_tier = models.CharField(
        max_length=20, choices=SupportTier.choices, default=SupportTier.STANDARD, db_index=True
    )
    entitlements = models.JSONField(
        default=dict, blank=True, help_text='e.g. {"phone_support": true, "named_contacts": 3}'
    )
    billing_status = models.CharField(max_length=20, choices=BillingStatus.choices, default=BillingStatus.ACTIVE)
    region = models.CharField(max_length=20, choices=Region.choices, default=Region.EU_WEST)
    data_residency = models.CharField(max_length=40, blank=True, help_text="e.g. EU, US, NO")
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    telemetry_consent = models.BooleanField(default=False)
    telemetry_consent_at = models.DateTimeField(null=True, blank=True)
    telemetry_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    telemetry_consent_reference = models.CharField(
        max_length=200, blank=True, help_text="the customer's confirmation (a case, an e-mail, a contract clause)"
    )
    telemetry_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="how long trace bundles are kept (default: settings.BUNDLE_RETENTION_DAYS)"
    )
    default_team = models.ForeignKey("cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sla_policy = models.ForeignKey(
        "cases.SLAPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tenant_overrides",
        help_text="Overrides the SLA policy rules (segment/tier) for this tenant.",
    )
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    # Seed 003 "ARR at risk" and seed 002 "customer segment (tier, industry)": the product feedback
    # backlog (incidents/escalations) sums the one and shows the other.
    annual_contract_value = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, db_default=0, help_text="annual contract value (ARR), in USD"
    )
    industry = models.CharField(max_length=80, blank=True, db_default="", help_text="e.g. retail, fintech")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("tenants:console", kwargs={"slug": self.slug})


class TenantUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key permission rows (guardian): fast `tenant_id IN (…)` scoping."""

    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class TenantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Tenant, on_delete=models.CASCADE)


class Requester(models.Model):
    """A customer contact of a tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="requesters")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    role = models.CharField(max_length=100, blank=True)
    preferred_channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    auth_method = models.CharField(max_length=20, choices=AuthMethod.choices, default=AuthMethod.PASSWORD)
    # Which of the tenant's resources this contact may see (seed 003: "permissions to view
    # resources"): all of them, or only those listed. Read through tenants.selectors.requester_sees.
    sees_all_resources = models.BooleanField(
        default=True, help_text="May see every resource of the tenant; if off, only the resources listed."
    )
    visible_resources = models.ManyToManyField(
        "Resource", blank=True, related_name="visible_to_requesters", help_text="Only used when the above is off."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "email"], name="requester_unique_email_per_tenant")]

    def __str__(self):
        return f"{self.name} <{self.email}>"


class Resource(models.Model):
    """An affected resource or service of a tenant. Dependency edges come with telemetry."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="resources")
    external_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=60)
    region = models.CharField(max_length=20, choices=Region.choices, blank=True)
    version = models.CharField(max_length=60, blank=True)
    config_snapshot = models.JSONField(default=dict, blank=True)
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)

    class Meta:
        ordering = ["external_id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "external_id"], name="resource_unique_per_tenant")]

    def __str__(self):
        return f"{self.external_id} ({self.kind})"


from .access import TemporaryAccess  # noqa: E402,F401  (temporary elevated access, tenants/access.py)
from .telemetry import (  # noqa: E402,F401  (the tenants app's telemetry models, in their own module)
    SLI,
    Alert,
    ConfigSnapshot,
    Deployment,
    Experiment,
    FeatureFlag,
    Integration,
    LogLine,
    ResourceDependency,
    TelemetryPurge,
    UsageMetric,
)
from .widget import WidgetConfig  # noqa: E402,F401  (the in-app widget's configuration, tenants.widget)
