"""The static description of the demo world: teams, users of every role and their tenant grants,
the tenants (`TenantSpec`: segment, tier, plan, region, locale, share of the case volume), tags,
entitlements per support tier, resource kinds, requester roles and saved views. Plain data, no
database: `demo.world` builds the rows from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from companyos import roles
from tenants.choices import BillingStatus, Health, Plan, Region, Segment, SupportTier

DEMO_PASSWORD = "support-demo-2026"  # meets the password rules (AUTH_PASSWORD_VALIDATORS)

TEAMS = [
    # slug, name, manager username
    ("tier-1", "Tier 1", "manager"),
    ("tier-2", "Tier 2", "manager"),
    ("engineering", "Engineering", "manager"),
    ("sre", "SRE", "manager"),
]

# username, first name, last name, role, timezone, team slug, is_staff, is_superuser
USERS = [
    ("agent", "Maya", "Lindqvist", roles.AGENT, "Europe/Oslo", "tier-1", False, False),
    ("agent2", "Tom", "Becker", roles.AGENT, "America/New_York", "tier-1", False, False),
    ("senior", "Priya", "Raman", roles.SENIOR_AGENT, "Europe/London", "tier-2", False, False),
    ("engineer", "Lars", "Eriksen", roles.ENGINEER, "Europe/Oslo", "engineering", False, False),
    ("sre", "Jordan", "Kim", roles.SRE, "America/Los_Angeles", "sre", False, False),
    ("manager", "Sofia", "Moreno", roles.MANAGER, "America/New_York", "tier-1", True, False),
    ("admin", "Erik", "Hansen", roles.ADMIN, "UTC", None, True, True),
]
ALL_SEEING = {"sre", "manager", "admin"}


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    segment: str
    tier: str
    plan: str
    billing: str
    region: str
    residency: str
    tz: str
    domain: str
    locale: str = "en_US"
    telemetry: bool = True
    health: str = Health.GREEN
    weight: float = 1.0  # share of the case volume


TENANTS = [
    TenantSpec(
        "acme",
        "Acme Corp",
        Segment.SMB,
        SupportTier.PREMIUM,
        Plan.TEAM,
        BillingStatus.ACTIVE,
        Region.US_EAST,
        "US",
        "America/New_York",
        "acme.example",
        weight=1.3,
    ),
    TenantSpec(
        "initech",
        "Initech",
        Segment.SMB,
        SupportTier.STANDARD,
        Plan.TEAM,
        BillingStatus.PAST_DUE,
        Region.US_EAST,
        "US",
        "America/Chicago",
        "initech.example",
        telemetry=False,
        health=Health.AMBER,
        weight=0.8,
    ),
    TenantSpec(
        "soylent-labs",
        "Soylent Labs",
        Segment.SMB,
        SupportTier.STANDARD,
        Plan.FREE,
        BillingStatus.TRIAL,
        Region.EU_WEST,
        "EU",
        "Europe/Amsterdam",
        "soylentlabs.example",
        "nl_NL",
        telemetry=False,
        health=Health.UNKNOWN,
        weight=0.4,
    ),
    TenantSpec(
        "vandelay",
        "Vandelay Industries",
        Segment.SMB,
        SupportTier.STANDARD,
        Plan.TEAM,
        BillingStatus.CANCELLED,
        Region.US_EAST,
        "US",
        "America/New_York",
        "vandelay.example",
        telemetry=False,
        health=Health.UNKNOWN,
        weight=0.3,
    ),
    TenantSpec(
        "hooli",
        "Hooli",
        Segment.MID_MARKET,
        SupportTier.PREMIUM,
        Plan.BUSINESS,
        BillingStatus.ACTIVE,
        Region.US_WEST,
        "US",
        "America/Los_Angeles",
        "hooli.example",
        weight=1.4,
    ),
    TenantSpec(
        "nordic-freight",
        "Nordic Freight AS",
        Segment.MID_MARKET,
        SupportTier.STANDARD,
        Plan.BUSINESS,
        BillingStatus.ACTIVE,
        Region.EU_NORTH,
        "NO",
        "Europe/Oslo",
        "nordicfreight.example",
        "no_NO",
        weight=1.0,
    ),
    TenantSpec(
        "cyberdyne",
        "Cyberdyne Systems",
        Segment.MID_MARKET,
        SupportTier.ENTERPRISE,
        Plan.BUSINESS,
        BillingStatus.ACTIVE,
        Region.US_WEST,
        "US",
        "America/Los_Angeles",
        "cyberdyne.example",
        health=Health.RED,
        weight=1.1,
    ),
    TenantSpec(
        "tanaka-robotics",
        "Tanaka Robotics KK",
        Segment.MID_MARKET,
        SupportTier.PREMIUM,
        Plan.BUSINESS,
        BillingStatus.ACTIVE,
        Region.APAC,
        "JP",
        "Asia/Tokyo",
        "tanaka-robotics.example",
        "ja_JP",
        weight=0.7,
    ),
    TenantSpec(
        "globex",
        "Globex Corporation",
        Segment.ENTERPRISE,
        SupportTier.ENTERPRISE,
        Plan.ENTERPRISE,
        BillingStatus.ACTIVE,
        Region.US_EAST,
        "US",
        "America/New_York",
        "globex.example",
        weight=2.0,
    ),
    TenantSpec(
        "stark",
        "Stark Industries",
        Segment.ENTERPRISE,
        SupportTier.ENTERPRISE,
        Plan.ENTERPRISE,
        BillingStatus.ACTIVE,
        Region.US_WEST,
        "US",
        "America/Los_Angeles",
        "stark.example",
        health=Health.AMBER,
        weight=1.8,
    ),
    TenantSpec(
        "umbrella",
        "Umbrella Corporation",
        Segment.ENTERPRISE,
        SupportTier.PREMIUM,
        Plan.ENTERPRISE,
        BillingStatus.ACTIVE,
        Region.EU_WEST,
        "EU",
        "Europe/Berlin",
        "umbrella.example",
        "de_DE",
        weight=1.5,
    ),
    TenantSpec(
        "wayne",
        "Wayne Enterprises",
        Segment.ENTERPRISE,
        SupportTier.ENTERPRISE,
        Plan.ENTERPRISE,
        BillingStatus.ACTIVE,
        Region.US_EAST,
        "US",
        "America/New_York",
        "wayne.example",
        weight=1.6,
    ),
    TenantSpec(
        "springfield",
        "City of Springfield",
        Segment.PUBLIC_SECTOR,
        SupportTier.STANDARD,
        Plan.BUSINESS,
        BillingStatus.ACTIVE,
        Region.US_EAST,
        "US",
        "America/Chicago",
        "springfield.example",
        telemetry=False,
        weight=0.6,
    ),
    TenantSpec(
        "nordvik-kommune",
        "Nordvik Kommune",
        Segment.PUBLIC_SECTOR,
        SupportTier.ENTERPRISE,
        Plan.ENTERPRISE,
        BillingStatus.ACTIVE,
        Region.EU_NORTH,
        "NO",
        "Europe/Oslo",
        "nordvik.kommune.example",
        "no_NO",
        weight=0.9,
    ),
]
DEMO_TENANT_SLUGS = [t.slug for t in TENANTS]

# Which tenants the tenant-scoped roles see (managers, admins and SREs see all).
GRANTS = {
    "agent": ["acme", "initech", "hooli", "globex"],
    "agent2": ["soylent-labs", "nordic-freight", "stark", "springfield"],
    "senior": ["acme", "vandelay", "cyberdyne", "tanaka-robotics", "stark", "umbrella", "wayne", "nordvik-kommune"],
    "engineer": ["globex", "stark", "umbrella", "wayne", "cyberdyne", "nordic-freight"],
}

TAGS = [
    "security",
    "billing",
    "webhooks",
    "sdk",
    "pagination",
    "rate-limit",
    "oauth",
    "ingestion",
    "trace-bundle",
    "docs",
    "regression",
    "known-issue",
    "customer-config",
    "latency",
    "api-keys",
    "cli",
    "widget",
    "vip",
    "escalated",
    "data-export",
]

ENTITLEMENTS = {
    SupportTier.STANDARD: {
        "phone_support": False,
        "named_contacts": 2,
        "channels": ["email", "web", "widget", "api", "cli"],
        "trace_bundles": False,
        "business_hours_only": True,
    },
    SupportTier.PREMIUM: {
        "phone_support": False,
        "named_contacts": 5,
        "channels": ["email", "web", "widget", "slack", "api", "cli"],
        "trace_bundles": True,
        "shared_slack_channel": True,
    },
    SupportTier.ENTERPRISE: {
        "phone_support": True,
        "named_contacts": 12,
        "channels": ["email", "web", "widget", "slack", "phone", "api", "cli"],
        "trace_bundles": True,
        "shared_slack_channel": True,
        "technical_account_manager": True,
        "uptime_sla": "99.95%",
    },
}

RESOURCE_KINDS = [
    ("api-gateway", "gw"),
    ("ingest-pipeline", "ingest"),
    ("webhook-dispatcher", "hooks"),
    ("auth-service", "auth"),
    ("postgres-cluster", "db"),
    ("search-index", "search"),
]
REQUESTER_ROLES = [
    "CTO",
    "Platform engineer",
    "DevOps lead",
    "Backend developer",
    "Integration engineer",
    "IT administrator",
    "Product manager",
    "SRE",
    "Support lead",
]

SAVED_VIEWS = [
    # owner username (None = shared by admin), name, query
    ("agent", "My critical and high", "status=open&owner=me&priority=critical&priority=high"),
    ("agent2", "My critical and high", "status=open&owner=me&priority=critical&priority=high"),
    ("senior", "Enterprise waiting on customer", "status=waiting_on_customer&tier=enterprise&sort=stale"),
    (None, "Security tagged", "status=open&tag=security"),
]
