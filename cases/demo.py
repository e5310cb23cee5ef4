"""Demo and benchmark data for the console.

- `build_demo_world()` creates (idempotently) the teams, tenants, requesters, resources, users,
  roles, tenant grants, profiles, tags and saved views the demo needs, and returns a `World`.
- `realistic_cases(world, n)` writes cases with full timelines (inbound message, assignment, status
  changes, public replies, internal notes, customer follow-ups, reopens). A share of them go through
  the real services in `cases.services` (so the timeline and the audit trail are the real thing) and
  are back-dated afterwards; the rest are written directly with `bulk_create`, in the same shape.
- `bulk_cases(world, n)` loads many cases fast for benchmarks (up to millions): PostgreSQL COPY
  (psycopg 3) or `bulk_create` elsewhere, one inbound interaction per case, tags for some, with
  auditing off. About 15% stay open; the rest are resolved or closed; created over ~3 years.
- `ensure_cases(world, target)` tops the case table up to `target` cases, choosing the path.

Everything is deterministic for a given seed, and never updates or deletes audit entries.
"""
from __future__ import annotations

import math
import random
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from auditlog.context import disable_auditlog, set_actor
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from companyos import roles
from companyos.models import Profile
from tenants.choices import AuthMethod, BillingStatus, Health, Plan, Region, Segment, SupportTier
from tenants.models import Requester, Resource, Tenant
from tenants.services import tenant_grant

from . import services
from .choices import OPEN_STATUSES, Category, Environment, IssueType, Priority, Status
from .models import Case, Interaction, SavedView, Tag, Team

User = get_user_model()

DEMO_PASSWORD = "demo12345!"
DEFAULT_DEMO_CASES = 500
# Up to this many cases in the table, new cases get full timelines; beyond it, the bulk loader.
BULK_THRESHOLD = 5_000
# When a big load starts from an empty table, the first cases are still realistic ones.
REALISTIC_HEAD = DEFAULT_DEMO_CASES
# Share of realistic cases written through cases.services (the rest: bulk_create, same shape).
SERVICE_SHARE = 0.35
SERVICE_MAX = 600

Out = Callable[[str], None]


def _quiet(msg: str) -> None:
    pass


# --- the world ------------------------------------------------------------------------------------

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
    TenantSpec("acme", "Acme Corp", Segment.SMB, SupportTier.PREMIUM, Plan.TEAM, BillingStatus.ACTIVE, Region.US_EAST, "US", "America/New_York", "acme.example", weight=1.3),
    TenantSpec("initech", "Initech", Segment.SMB, SupportTier.STANDARD, Plan.TEAM, BillingStatus.PAST_DUE, Region.US_EAST, "US", "America/Chicago", "initech.example", telemetry=False, health=Health.AMBER, weight=0.8),
    TenantSpec("soylent-labs", "Soylent Labs", Segment.SMB, SupportTier.STANDARD, Plan.FREE, BillingStatus.TRIAL, Region.EU_WEST, "EU", "Europe/Amsterdam", "soylentlabs.example", "nl_NL", telemetry=False, health=Health.UNKNOWN, weight=0.4),
    TenantSpec("vandelay", "Vandelay Industries", Segment.SMB, SupportTier.STANDARD, Plan.TEAM, BillingStatus.CANCELLED, Region.US_EAST, "US", "America/New_York", "vandelay.example", telemetry=False, health=Health.UNKNOWN, weight=0.3),
    TenantSpec("hooli", "Hooli", Segment.MID_MARKET, SupportTier.PREMIUM, Plan.BUSINESS, BillingStatus.ACTIVE, Region.US_WEST, "US", "America/Los_Angeles", "hooli.example", weight=1.4),
    TenantSpec("nordic-freight", "Nordic Freight AS", Segment.MID_MARKET, SupportTier.STANDARD, Plan.BUSINESS, BillingStatus.ACTIVE, Region.EU_NORTH, "NO", "Europe/Oslo", "nordicfreight.example", "no_NO", weight=1.0),
    TenantSpec("cyberdyne", "Cyberdyne Systems", Segment.MID_MARKET, SupportTier.ENTERPRISE, Plan.BUSINESS, BillingStatus.ACTIVE, Region.US_WEST, "US", "America/Los_Angeles", "cyberdyne.example", health=Health.RED, weight=1.1),
    TenantSpec("tanaka-robotics", "Tanaka Robotics KK", Segment.MID_MARKET, SupportTier.PREMIUM, Plan.BUSINESS, BillingStatus.ACTIVE, Region.APAC, "JP", "Asia/Tokyo", "tanaka-robotics.example", "ja_JP", weight=0.7),
    TenantSpec("globex", "Globex Corporation", Segment.ENTERPRISE, SupportTier.ENTERPRISE, Plan.ENTERPRISE, BillingStatus.ACTIVE, Region.US_EAST, "US", "America/New_York", "globex.example", weight=2.0),
    TenantSpec("stark", "Stark Industries", Segment.ENTERPRISE, SupportTier.ENTERPRISE, Plan.ENTERPRISE, BillingStatus.ACTIVE, Region.US_WEST, "US", "America/Los_Angeles", "stark.example", health=Health.AMBER, weight=1.8),
    TenantSpec("umbrella", "Umbrella Corporation", Segment.ENTERPRISE, SupportTier.PREMIUM, Plan.ENTERPRISE, BillingStatus.ACTIVE, Region.EU_WEST, "EU", "Europe/Berlin", "umbrella.example", "de_DE", weight=1.5),
    TenantSpec("wayne", "Wayne Enterprises", Segment.ENTERPRISE, SupportTier.ENTERPRISE, Plan.ENTERPRISE, BillingStatus.ACTIVE, Region.US_EAST, "US", "America/New_York", "wayne.example", weight=1.6),
    TenantSpec("springfield", "City of Springfield", Segment.PUBLIC_SECTOR, SupportTier.STANDARD, Plan.BUSINESS, BillingStatus.ACTIVE, Region.US_EAST, "US", "America/Chicago", "springfield.example", telemetry=False, weight=0.6),
    TenantSpec("nordvik-kommune", "Nordvik Kommune", Segment.PUBLIC_SECTOR, SupportTier.ENTERPRISE, Plan.ENTERPRISE, BillingStatus.ACTIVE, Region.EU_NORTH, "NO", "Europe/Oslo", "nordvik.kommune.example", "no_NO", weight=0.9),
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
    "security", "billing", "webhooks", "sdk", "pagination", "rate-limit", "oauth", "ingestion",
    "trace-bundle", "docs", "regression", "known-issue", "customer-config", "latency", "api-keys",
    "cli", "widget", "vip", "escalated", "data-export",
]

ENTITLEMENTS = {
    SupportTier.STANDARD: {
        "phone_support": False, "named_contacts": 2, "channels": ["email", "web", "widget", "api", "cli"],
        "trace_bundles": False, "business_hours_only": True,
    },
    SupportTier.PREMIUM: {
        "phone_support": False, "named_contacts": 5, "channels": ["email", "web", "widget", "slack", "api", "cli"],
        "trace_bundles": True, "shared_slack_channel": True,
    },
    SupportTier.ENTERPRISE: {
        "phone_support": True, "named_contacts": 12, "channels": ["email", "web", "widget", "slack", "phone", "api", "cli"],
        "trace_bundles": True, "shared_slack_channel": True, "technical_account_manager": True, "uptime_sla": "99.95%",
    },
}

RESOURCE_KINDS = [
    ("api-gateway", "gw"), ("ingest-pipeline", "ingest"), ("webhook-dispatcher", "hooks"),
    ("auth-service", "auth"), ("postgres-cluster", "db"), ("search-index", "search"),
]
REQUESTER_ROLES = ["CTO", "Platform engineer", "DevOps lead", "Backend developer", "Integration engineer", "IT administrator", "Product manager", "SRE", "Support lead"]

SAVED_VIEWS = [
    # owner username (None = shared by admin), name, query
    ("agent", "My critical and high", "status=open&owner=me&priority=critical&priority=high"),
    ("agent2", "My critical and high", "status=open&owner=me&priority=critical&priority=high"),
    ("senior", "Enterprise waiting on customer", "status=waiting_on_customer&tier=enterprise&sort=stale"),
    (None, "Security tagged", "status=open&tag=security"),
]


@dataclass
class World:
    tenants: list[Tenant]
    specs: dict[int, TenantSpec]
    requesters: dict[int, list[Requester]]
    resources: dict[int, list[Resource]]
    users: dict[str, "User"]
    teams: dict[str, Team]
    tags: dict[str, Tag]
    # tenant id -> users who may see it (and so may own its cases)
    visible_users: dict[int, list] = field(default_factory=dict)
    created: bool = False

    def weights(self) -> list[float]:
        return [self.specs[t.pk].weight for t in self.tenants]


def demo_world_exists() -> bool:
    return (
        Tenant.objects.filter(slug__in=DEMO_TENANT_SLUGS).count() == len(TENANTS)
        and User.objects.filter(username__in=[u[0] for u in USERS]).count() == len(USERS)
    )


def _ascii(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("å", "a").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and (c.isalnum() or c in ".-")).lower()


def _public_sector_policy():
    """A 24x7 override for the enterprise public-sector tenant: seed 002's calendar-time table."""
    from .sla.clocks import load_preset

    from .models import SLAPolicy

    return SLAPolicy.objects.filter(name="Public sector 24x7").first() or load_preset(
        preset="seed-002", column=None, name="Public sector 24x7", calendar=None
    )


def build_demo_world(*, out: Out = _quiet, seed: int = 42) -> World:
    """Create whatever of the demo world is missing; never changes what is already there."""
    created_any = False
    with transaction.atomic():
        # Users first: teams name a manager.
        password = None
        users = {}
        for username, first, last, role, tz, _team, staff, superuser in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                password = password or make_password(DEMO_PASSWORD)  # hash once: PBKDF2 is slow on purpose
                user = User.objects.create(
                    username=username, first_name=first, last_name=last, email=f"{username}@companyos.example",
                    is_staff=staff, is_superuser=superuser, password=password,
                )
                user.groups.add(Group.objects.get(name=role))
                created_any = True
            users[username] = user
        teams = {}
        for slug, name, manager in TEAMS:
            team, made = Team.objects.get_or_create(slug=slug, defaults={"name": name, "manager": users[manager]})
            created_any |= made
            teams[slug] = team
        for username, _first, _last, _role, tz, team_slug, _staff, _superuser in USERS:
            team = teams.get(team_slug) if team_slug else None
            _profile, made = Profile.objects.get_or_create(user=users[username], defaults={"timezone": tz, "team": team})
            created_any |= made
            if team is not None and made:
                team.members.add(users[username])

        tags = {}
        for name in TAGS:
            tags[name], made = Tag.objects.get_or_create(name=name)

        tenants, specs, requesters, resources = [], {}, {}, {}
        for spec in TENANTS:
            trng = random.Random(f"{seed}-{spec.slug}")
            tenant = Tenant.objects.filter(slug=spec.slug).first()
            if tenant is None:
                tenant = Tenant.objects.create(
                    slug=spec.slug, name=spec.name, segment=spec.segment, support_tier=spec.tier, plan=spec.plan,
                    billing_status=spec.billing, region=spec.region, data_residency=spec.residency, timezone=spec.tz,
                    telemetry_consent=spec.telemetry, health=spec.health, entitlements=dict(ENTITLEMENTS[spec.tier]),
                    default_team=teams["tier-1" if spec.tier == SupportTier.STANDARD else "tier-2"],
                    sla_policy=_public_sector_policy() if spec.segment == Segment.PUBLIC_SECTOR and spec.tier == SupportTier.ENTERPRISE else None,
                )
                created_any = True
            tenants.append(tenant)
            specs[tenant.pk] = spec
            if not tenant.requesters.exists():
                _make_requesters(tenant, spec, trng, seed)
                created_any = True
            if not tenant.resources.exists():
                _make_resources(tenant, spec, trng)
                created_any = True
            requesters[tenant.pk] = list(tenant.requesters.order_by("pk"))
            resources[tenant.pk] = list(tenant.resources.order_by("pk"))

        by_slug = {t.slug: t for t in tenants}
        for username, slugs in GRANTS.items():
            for slug in slugs:
                tenant_grant(tenant=by_slug[slug], user_or_group=users[username])  # get_or_create inside

        for owner, name, query in SAVED_VIEWS:
            owner_user = users[owner] if owner else users["admin"]
            _view, made = SavedView.objects.get_or_create(
                owner=owner_user, name=name, defaults={"query": query, "shared": owner is None, "position": 50}
            )
            created_any |= made

    visible_users = {}
    for tenant in tenants:
        visible_users[tenant.pk] = [
            users[u[0]] for u in USERS if u[0] in ALL_SEEING or tenant.slug in GRANTS.get(u[0], [])
        ]
    world = World(tenants, specs, requesters, resources, users, teams, tags, visible_users, created_any)
    if created_any:
        out(f"Demo world ready: {len(tenants)} tenants, {sum(len(r) for r in requesters.values())} requesters, "
            f"{len(users)} users, {len(teams)} teams.")
    return world


def _make_requesters(tenant: Tenant, spec: TenantSpec, rng: random.Random, seed: int) -> None:
    from faker import Faker

    fake = Faker(spec.locale)
    fake.seed_instance(f"{seed}-{spec.slug}")
    channels = ENTITLEMENTS[spec.tier]["channels"]
    seen = set()
    for _ in range(rng.randint(2, 5)):
        if spec.locale == "ja_JP":
            first, last = fake.first_romanized_name(), fake.last_romanized_name()
        else:
            first, last = fake.first_name(), fake.last_name()
        local = ".".join(part for part in (_ascii(first), _ascii(last)) if part) or f"user{len(seen) + 1}"
        email = f"{local}@{spec.domain}"
        if email in seen:
            continue
        seen.add(email)
        Requester.objects.create(
            tenant=tenant, name=f"{first} {last}", email=email, role=rng.choice(REQUESTER_ROLES),
            preferred_channel=rng.choice(channels),
            auth_method=rng.choice([AuthMethod.SSO, AuthMethod.SSO, AuthMethod.PASSWORD, AuthMethod.API_KEY, AuthMethod.OAUTH])
            if spec.segment != Segment.SMB else rng.choice([AuthMethod.PASSWORD, AuthMethod.API_KEY]),
        )


def _make_resources(tenant: Tenant, spec: TenantSpec, rng: random.Random) -> None:
    env = "prod"
    for kind, short in rng.sample(RESOURCE_KINDS, rng.randint(2, 3)):
        Resource.objects.create(
            tenant=tenant, external_id=f"{spec.slug}-{short}-{env}-{spec.region}", kind=kind, region=spec.region,
            version=f"v{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
            config_snapshot={"replicas": rng.choice([2, 3, 6]), "rate_limit_rps": rng.choice([100, 500, 2000]),
                             "tls": "1.3", "feature_flags": rng.sample(["batch_ingest", "v2_webhooks", "new_auth", "fast_export"], 2)},
            health=spec.health if rng.random() < 0.5 else Health.GREEN,
        )


# --- what customers write -------------------------------------------------------------------------

C, H, M, L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW
CAT, IT, ENV = Category, IssueType, Environment

# subject, description, category, issue type, base priority, environment (None: any), tags
TICKETS = [
    ("All our API calls return 500 since {time} UTC",
     "Every request to the production API fails with HTTP 500 since about {time} UTC. Nothing changed on our side; our last deploy was two days ago. Example request id: {rid}. Our checkout flow is completely down.",
     CAT.PERFORMANCE, IT.INCIDENT, C, ENV.PRODUCTION, ("escalated",)),
    ("We're seeing unauthorized access to customer data",
     "Our audit log shows reads of customer records from an API key that was revoked last week. Source IPs are not ours. Please treat this as a security incident; we have rotated all keys as a precaution.",
     CAT.AUTHENTICATION, IT.INCIDENT, C, ENV.PRODUCTION, ("security", "api-keys")),
    ("Payment processing is down",
     "Charges created through POST /v2/payments time out after 30 seconds and customers cannot pay. Started around {time} UTC. Request id of a failing call: {rid}.",
     CAT.INTEGRATION, IT.INCIDENT, C, ENV.PRODUCTION, ("billing",)),
    ("Authentication fails for every user since the key rotation",
     "After rotating our signing key as described in the docs, every login returns 401 invalid_token. We rolled the key back but tokens are still rejected. Nobody on our side can sign in.",
     CAT.AUTHENTICATION, IT.INCIDENT, C, ENV.PRODUCTION, ("security", "api-keys")),
    ("Complete message delivery outage in {region}",
     "No webhooks or notifications have been delivered to our endpoints in {region} since {time} UTC. The dispatcher dashboard shows the queue depth climbing. This is blocking all our downstream automation.",
     CAT.INTEGRATION, IT.INCIDENT, C, ENV.PRODUCTION, ("webhooks",)),
    ("POST {endpoint} returns 500 for payloads with special characters",
     "When a name contains characters like 'Ø' or an emoji, POST {endpoint} answers 500 instead of creating the record. The same payload with ASCII only works. Request id: {rid}.",
     CAT.VALIDATION, IT.BUG, H, ENV.PRODUCTION, ("regression",)),
    ("API latency is {x}x normal",
     "p95 latency on GET {endpoint} went from ~120 ms to ~{ms} ms since {time} UTC. Our timeouts are starting to fire. We have not changed our traffic pattern; about {rps} requests/second.",
     CAT.PERFORMANCE, IT.INCIDENT, H, ENV.PRODUCTION, ("latency",)),
    ("Our staging API key works but production key returns 403",
     "Same code, same endpoint ({endpoint}). With the staging key it works; with the production key we get 403 forbidden. The key shows as active in the dashboard.",
     CAT.AUTHENTICATION, IT.CONFIGURATION, H, ENV.PRODUCTION, ("api-keys", "customer-config")),
    ("Webhook deliveries failing with timeouts since {time} UTC",
     "Our endpoint receives nothing and the delivery log shows 'timeout after 10s' for {event} events. Our endpoint answers in under 200 ms when we curl it ourselves.",
     CAT.INTEGRATION, IT.BUG, H, ENV.PRODUCTION, ("webhooks",)),
    ("Event ingestion delayed by ~{minutes} minutes",
     "Events we send are showing up in dashboards about {minutes} minutes late. The ingest API accepts them with 202 immediately. This breaks our near-real-time alerts.",
     CAT.PERFORMANCE, IT.INCIDENT, H, ENV.PRODUCTION, ("ingestion",)),
    ("Queue backlog growing on the {region} ingest pipeline",
     "The usage page shows a backlog of {n} events on our ingest pipeline in {region} and it keeps growing. Is there throttling on our tenant?",
     CAT.PERFORMANCE, IT.INCIDENT, H, ENV.PRODUCTION, ("ingestion", "rate-limit")),
    ("Intermittent 401 with valid tokens",
     "About 1 in 50 requests returns 401 even though the token is fresh. It looks random. Could clock skew on your side be an issue? Example request id: {rid}.",
     CAT.AUTHENTICATION, IT.BUG, H, ENV.PRODUCTION, ("oauth",)),
    ("Timeouts on GET {endpoint} for large exports",
     "Exports with more than {n} rows time out after 60 seconds. Smaller exports are fine. We need the full export for our month-end reconciliation.",
     CAT.PERFORMANCE, IT.BUG, H, ENV.PRODUCTION, ("data-export",)),
    ("OAuth callback fails with invalid_grant in production",
     "Our OAuth authorization-code flow fails at the token exchange with invalid_grant. It works in staging. The redirect URI is identical in both app registrations as far as we can tell.",
     CAT.AUTHENTICATION, IT.CONFIGURATION, H, ENV.PRODUCTION, ("oauth", "customer-config")),
    ("Rate limit hit at a fraction of our plan's quota",
     "We get 429 Too Many Requests at about {rps} requests/second but our plan should allow much more. Retry-After is 60 seconds which stalls our batch jobs.",
     CAT.PERFORMANCE, IT.CONFIGURATION, H, ENV.PRODUCTION, ("rate-limit",)),
    ("OpenAPI docs page shows 500 error",
     "The API reference at /docs shows an Internal Server Error page for the {endpoint} section. Other sections render fine.",
     CAT.DOCUMENTATION, IT.BUG, M, ENV.PRODUCTION, ("docs",)),
    ("Pagination returns inconsistent results for large offsets",
     "When paging through GET {endpoint} with offset above {n}, some records appear twice and others never. Sorting is by created_at. Is offset pagination supported for large collections?",
     CAT.INTEGRATION, IT.BUG, M, None, ("pagination",)),
    ("Our SDK is getting 422 on valid-looking requests",
     "The {sdk} SDK {version} sends what looks like a valid payload to {endpoint} but the API answers 422 Unprocessable Entity with 'value is not a valid enumeration member'. Payload attached below.",
     CAT.VALIDATION, IT.BUG, M, None, ("sdk",)),
    ("{sdk} SDK {version} throws on an empty response body",
     "After upgrading to {sdk} SDK {version}, DELETE calls raise a JSON decode error because the API returns 204 with no body. Version {old_version} worked.",
     CAT.INTEGRATION, IT.BUG, M, ENV.DEVELOPMENT, ("sdk", "regression")),
    ("Webhook signature verification fails for some events",
     "Roughly 5% of {event} deliveries fail our HMAC signature check. We compute the signature over the raw body as documented. Could the payload be re-serialised on your side?",
     CAT.INTEGRATION, IT.BUG, M, ENV.PRODUCTION, ("webhooks", "security")),
    ("Empty body returns 422 on PATCH {endpoint}",
     "Sending PATCH {endpoint} with no body returns 422. We expected a no-op. Is an empty JSON object required?",
     CAT.VALIDATION, IT.QUESTION, M, ENV.DEVELOPMENT, ()),
    ("Trace bundle for failed CLI sync attached",
     "Uploaded trace-{stamp}-cli.zip to /support/upload. `companyos sync` fails with gateway.outbound errors after about {n} records. Telemetry consent is enabled for our workspace.",
     CAT.INTEGRATION, IT.BUG, M, None, ("trace-bundle", "cli")),
    ("Please request a trace bundle from our widget users",
     "Several of our end users report the in-app widget freezing on submit. We can ask them to produce a UI trace bundle (trace-<timestamp>-ui.zip) if you tell us how.",
     CAT.OTHER, IT.QUESTION, M, ENV.PRODUCTION, ("trace-bundle", "widget")),
    ("Duplicate webhook deliveries for {event}",
     "Each {event} event is delivered two or three times within a second, with the same event id. Our handler is idempotent but our partner's is not.",
     CAT.INTEGRATION, IT.BUG, M, ENV.PRODUCTION, ("webhooks",)),
    ("CSV export missing rows after {date}",
     "The CSV export of {endpoint} stops at {date}; later records are missing although the API returns them.",
     CAT.OTHER, IT.BUG, M, ENV.PRODUCTION, ("data-export",)),
    ("Decimal fields rejected with 500 instead of 422",
     "Sending amount=\"12.345\" (three decimals) to {endpoint} gives a 500 Internal Server Error rather than a validation error. Request id {rid}.",
     CAT.VALIDATION, IT.BUG, M, None, ("known-issue",)),
    ("Invoice shows usage above our actual request volume",
     "Our invoice for last month lists {n} API calls but our own logs count about half that. Could retries be billed twice?",
     CAT.OTHER, IT.QUESTION, M, ENV.PRODUCTION, ("billing",)),
    ("Requests hang on the second call when background tasks are enabled",
     "With background tasks enabled, the second request on a keep-alive connection hangs until the client times out. Disabling background tasks fixes it.",
     CAT.PERFORMANCE, IT.BUG, M, ENV.STAGING, ()),
    ("CLI `companyos support create` fails with 'no tenant context'",
     "Running `companyos support create` from our CI runner fails with 'no tenant context'. Locally it pre-fills the tenant correctly. CLI version {version}.",
     CAT.INTEGRATION, IT.BUG, M, ENV.DEVELOPMENT, ("cli",)),
    ("How do I implement pagination correctly?",
     "We list {endpoint} in a nightly job. Should we use offset or cursor pagination, and what page size do you recommend?",
     CAT.DOCUMENTATION, IT.QUESTION, L, ENV.DEVELOPMENT, ("pagination", "docs")),
    ("Can you add support for {feature} in the API?",
     "We would like {feature} in the API. Today we work around it with several calls per record, which eats our rate limit.",
     CAT.FEATURE_REQUEST, IT.QUESTION, L, ENV.UNKNOWN, ()),
    ("The error message for {code} could be clearer",
     "When a request fails with {code} the error body just says 'invalid request'. It would save us a lot of time if it named the field at fault.",
     CAT.DOCUMENTATION, IT.QUESTION, L, ENV.UNKNOWN, ("docs",)),
    ("Which IP ranges should we allowlist for webhooks?",
     "Our security team needs the source IP ranges of webhook deliveries for {region} before we can open the firewall.",
     CAT.INTEGRATION, IT.QUESTION, L, ENV.PRODUCTION, ("webhooks", "security")),
    ("How do we rotate API keys without downtime?",
     "We need to rotate our production API keys every 90 days. Can two keys be active at the same time during the switch?",
     CAT.AUTHENTICATION, IT.QUESTION, L, ENV.PRODUCTION, ("api-keys",)),
    ("Is there a sandbox for testing webhooks?",
     "Before going live we want to replay {event} events against our staging endpoint. Is there a sandbox or a replay tool?",
     CAT.INTEGRATION, IT.QUESTION, L, ENV.STAGING, ("webhooks",)),
    ("Does POST {endpoint} return 201 or 200?",
     "Our client treats anything but 200 as an error and the create call returns 201. Is 201 the documented behaviour?",
     CAT.DOCUMENTATION, IT.QUESTION, L, ENV.DEVELOPMENT, ("docs",)),
    ("Typo in the {sdk} SDK README example",
     "The quick-start example in the {sdk} SDK README passes `api_key` where the client expects `token`.",
     CAT.DOCUMENTATION, IT.BUG, L, ENV.UNKNOWN, ("sdk", "docs")),
    ("How do we enable telemetry consent for trace bundles?",
     "Support asked us for a trace bundle, but the CLI says telemetry consent is off. Where do admins switch it on?",
     CAT.OTHER, IT.CONFIGURATION, L, ENV.PRODUCTION, ("trace-bundle",)),
    ("Dark mode for the dashboard",
     "Several of our on-call engineers asked for a dark mode in the dashboard.",
     CAT.FEATURE_REQUEST, IT.QUESTION, L, ENV.UNKNOWN, ()),
    ("In-app help panel does not pre-fill our workspace",
     "The help panel in the app opens an empty form instead of pre-filling our workspace and user.",
     CAT.OTHER, IT.BUG, L, ENV.PRODUCTION, ("widget",)),
]

FILL = {
    "endpoint": ["/users", "/v2/orders", "/v2/payments", "/v1/events", "/v2/invoices", "/v1/customers", "/v2/exports", "/v1/webhooks", "/v2/shipments"],
    "region": ["eu-west", "eu-north", "us-east", "us-west", "apac"],
    "event": ["order.created", "invoice.paid", "user.updated", "shipment.delivered", "payment.failed"],
    "sdk": ["Python", "Node.js", "Go", "Java", "Ruby", ".NET"],
    "feature": ["bulk upserts", "cursor pagination on /v2/orders", "webhook replay", "field-level filters", "SCIM provisioning", "idempotency keys on PATCH", "GraphQL"],
    "code": ["422", "409", "400", "403"],
}
EXTRA = [
    "We are on the {plan} plan.",
    "This affects roughly {pct}% of our traffic.",
    "Please advise, this is blocking a release planned for this week.",
    "Happy to jump on a call if that helps.",
    "Timestamps above are in UTC.",
    "Screenshots are attached.",
    "We checked the status page and it shows all green.",
    "",
    "",
]

ACK = [
    "Thanks for reaching out, {name}. I'm looking into this now and will update you within the hour.",
    "Hi {name}, thank you for the report. I've confirmed the impact on our side and the team is investigating.",
    "Thanks {name}. I've picked this up and I'm reviewing the logs for your workspace.",
]
INFO_REQUEST = (
    "Thank you for reporting this issue. To investigate further, we need:\n1. Timestamp of the error (with timezone)\n"
    "2. Request ID from the X-Request-Id header\n3. The complete error response body\n"
    "4. Endpoint, method and a sanitized request body\n5. Is this consistent or intermittent?"
)
# What agents write depends on what kind of case it is (issue type).
ASK = {
    IT.INCIDENT: [
        INFO_REQUEST,
        "Could you send us a diagnostic trace bundle (trace-<timestamp>-cli.zip) from an affected machine? Please confirm telemetry consent is enabled first.",
        "We've applied a mitigation on our side. Can you confirm whether you still see errors since {time} UTC?",
    ],
    IT.BUG: [
        INFO_REQUEST,
        "Could you share the exact payload and the SDK version you are using? That will let us reproduce it in staging.",
        "Could you send us a diagnostic trace bundle (trace-<timestamp>-cli.zip) from an affected machine? Please confirm telemetry consent is enabled first.",
    ],
    IT.CONFIGURATION: [
        "Could you send us the cURL command that fails (with the key redacted) and the environment it runs against?",
        "Can you check in the dashboard which scopes the production key has, and confirm the redirect URI registered for the app?",
    ],
    IT.QUESTION: [
        "Happy to help. Could you tell us a bit more about the use case (volume, how often the job runs) so we can recommend the right approach?",
        "Does the approach described above work for you? We'll keep the case open until we hear back.",
    ],
}
NOTES = {
    IT.INCIDENT: [
        "Checked Grafana: 5xx spike on gateway.outbound starting {time} UTC, matches the customer's report.",
        "Linked to INC-{n3} (on-call SRE paged).",
        "Tenant console: ingest SLI red, error budget burn 4x; other tenants in the region affected too.",
        "Rate-limit quota raised temporarily; follow up with the account team.",
    ],
    IT.BUG: [
        "Matches known issue KI-{n3}; workaround documented in the runbook.",
        "Reproduced in staging with the customer's payload; escalating with repro steps and request ids.",
        "Could not reproduce in staging with the payload provided; asked for the full request.",
        "Telemetry consent confirmed on the tenant console before opening the trace bundle. trace.json shows failed gateway.outbound spans.",
    ],
    IT.CONFIGURATION: [
        "Looks like a configuration issue on the customer's side (staging key used against production).",
        "Key is active but lacks the write scope; customer admin needs to add it.",
    ],
    IT.QUESTION: [
        "Answered from the docs; suggested cursor pagination. Docs gap logged for the docs backlog.",
        "Customer is on the enterprise tier: keep the update cadence even for how-to questions.",
        "Logged in the product feedback backlog with the customer's use case.",
    ],
}
CUSTOMER_FOLLOWUPS = {
    IT.INCIDENT: ["Here are the request ids you asked for: {rid}, {rid2}. Timestamps are UTC.", "Still seeing errors on our side, about 20% of requests.", "Any update on this? Our team is still blocked."],
    IT.BUG: ["Payload attached. SDK version {version}.", "Trace bundle uploaded: trace-{stamp}-cli.zip.", "We tried that and it still fails in production, same error."],
    IT.CONFIGURATION: ["Here is the failing cURL command (key redacted). We run it against production.", "We added the scope; still the same response."],
    IT.QUESTION: ["Thanks. We run it nightly over roughly {n} records.", "Any update on this?"],
}
RESOLUTIONS = {
    IT.INCIDENT: [
        "Good news: the fix has been deployed and error rates are back to normal since {time} UTC. Root cause was a bad configuration push on our side; the incident review will follow. Please let us know if you see anything else.",
        "We raised your rate-limit quota and confirmed your batch jobs complete. Resolving; reply here if anything changes.",
    ],
    IT.BUG: [
        "This is a known issue; the recommended workaround is to retry with an idempotency key. We're tracking a permanent fix and will update you when it ships.",
        "A fix for this has been released (v{version}). We verified it with your payload in staging. Please reopen this case if you still see the error.",
    ],
    IT.CONFIGURATION: [
        "This appears to be a configuration issue rather than a platform bug: the production key did not have the required scope. After adding it, requests succeed. Please reopen this case if it happens again.",
        "The redirect URI registered for the production app had a trailing slash; with it corrected the token exchange succeeds.",
    ],
    IT.QUESTION: [
        "This is expected behaviour based on our API design (201 for creates, 204 with no body for deletes). Our documentation explains it in detail; let us know if you have concerns about the design.",
        "Cursor pagination is the recommended approach for large collections: pass the `next_cursor` from each page and keep page sizes at 100–500. The guide in our docs has a full example.",
        "Thanks for the suggestion! We've logged it in our product feedback backlog with your use case and will update this case if it gets scheduled.",
    ],
}
CONFIRMATIONS = ["Confirmed, it works now. Thanks!", "All good on our side, you can close this.", "Thanks for the quick help."]


def _fill(text: str, rng: random.Random, now: datetime) -> str:
    if "{" not in text:
        return text
    values = {k: rng.choice(v) for k, v in FILL.items()}
    day = now - timedelta(days=rng.randint(1, 40))
    values.update(
        time=f"{rng.randint(0, 23):02d}:{rng.choice(['00', '15', '30', '45'])}",
        rid=f"req_{rng.getrandbits(48):012x}", rid2=f"req_{rng.getrandbits(48):012x}",
        x=rng.choice([2, 3, 3, 4, 5]), ms=rng.choice([400, 650, 900, 1800]), rps=rng.choice([40, 80, 150, 300]),
        minutes=rng.choice([15, 20, 45, 90]), n=rng.choice([5_000, 10_000, 50_000, 120_000]), n3=rng.randint(100, 999),
        version=f"{rng.randint(2, 5)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}", old_version=f"{rng.randint(1, 2)}.{rng.randint(0, 9)}.0",
        stamp=day.strftime("%Y%m%dT%H%M%S"), date=day.strftime("%Y-%m-%d"), pct=rng.choice([2, 5, 10, 30, 100]),
        plan=rng.choice(["Team", "Business", "Enterprise"]), name="there",
    )
    return text.format(**values)


@dataclass
class Draft:
    """What a customer filed: subject, description and the triaged classification."""

    subject: str
    description: str
    category: str
    issue_type: str
    priority: int
    environment: str
    tags: tuple[str, ...]


TICKET_WEIGHTS = [{C: 0.45, H: 1.0, M: 1.2, L: 1.0}[t[4]] for t in TICKETS]


def draft_ticket(rng: random.Random, now: datetime) -> Draft:
    subject, body, category, issue_type, priority, env, tags = rng.choices(TICKETS, TICKET_WEIGHTS)[0]
    roll = rng.random()
    if roll < 0.12 and priority > C:
        priority -= 1
    elif roll > 0.85 and priority < L:
        priority += 1
    if env is None or rng.random() < 0.15:
        env = rng.choices([ENV.PRODUCTION, ENV.STAGING, ENV.DEVELOPMENT, ENV.UNKNOWN], [55, 20, 15, 10])[0]
    extra = _fill(rng.choice(EXTRA), rng, now)
    description = _fill(body, rng, now) + (" " + extra if extra else "")
    return Draft(_fill(subject, rng, now)[:250], description, category, issue_type, int(priority), env, tags)


def _channel(rng: random.Random, spec: TenantSpec) -> str:
    allowed = ENTITLEMENTS[spec.tier]["channels"]
    weights = {"email": 35, "web": 20, "widget": 14, "slack": 12, "phone": 6, "api": 8, "cli": 5}
    return rng.choices(allowed, [weights[c] for c in allowed])[0]


def _owner_choices(world: World, tenant_id: int, draft: Draft | None = None):
    users = world.visible_users[tenant_id]
    weights = []
    for u in users:
        w = {"agent": 6, "agent2": 6, "senior": 5, "engineer": 2, "sre": 1, "manager": 0.3, "admin": 0}.get(u.username, 1)
        if draft is not None and draft.issue_type == IT.INCIDENT and u.username in ("sre", "engineer"):
            w *= 3
        weights.append(w)
    return users, weights


# --- realistic cases with timelines ---------------------------------------------------------------

REALISTIC_STATUS_MIX = [
    (Status.NEW, 10), (Status.TRIAGE, 10), (Status.IN_PROGRESS, 25), (Status.WAITING_ON_CUSTOMER, 15),
    (Status.RESOLVED, 20), (Status.CLOSED, 20),
]
# When each status's cases were opened: (min days ago, max days ago) — new cases are young, closed ones old.
AGE_DAYS = {
    Status.NEW: (0.0, 2.0), Status.TRIAGE: (0.05, 4.0), Status.IN_PROGRESS: (0.2, 20.0),
    Status.WAITING_ON_CUSTOMER: (0.5, 30.0), Status.RESOLVED: (0.5, 12.0), Status.CLOSED: (6.0, 60.0),
}
TRIAGE_MINUTES = {C: (2, 15), H: (10, 60), M: (30, 360), L: (60, 1440)}
WORK_HOURS = {C: 0.7, H: 3.0, M: 12.0, L: 30.0}  # median working stretch


@dataclass
class Step:
    kind: str  # status | assign | reply | note | inbound
    offset: float  # seconds after the case was opened
    actor: object = None
    to: str = ""
    body: str = ""
    owner: object = None
    team: object = None
    reason: str = ""

    at: datetime | None = None


@dataclass
class CasePlan:
    tenant: Tenant
    requester: Requester
    draft: Draft
    channel: str
    created_at: datetime
    team: Team | None
    status: str
    steps: list[Step]
    resources: list[Resource]

    # derived from the steps
    owner: object = None
    final_team: Team | None = None
    triaged_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    status_changed_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1


def plan_case(world: World, rng: random.Random, now: datetime, status: str | None = None) -> CasePlan:
    status = status or rng.choices([s for s, _ in REALISTIC_STATUS_MIX], [w for _, w in REALISTIC_STATUS_MIX])[0]
    tenant = rng.choices(world.tenants, world.weights())[0]
    spec = world.specs[tenant.pk]
    requester = rng.choice(world.requesters[tenant.pk])
    draft = draft_ticket(rng, now)
    if spec.tier == SupportTier.ENTERPRISE and rng.random() < 0.2:
        draft.tags = tuple(sorted(set(draft.tags) | {"vip"}))
    lo, hi = AGE_DAYS[status]
    age = timedelta(days=lo + (hi - lo) * rng.random() ** 1.3)
    created_at = now - age
    channel = _channel(rng, spec)
    users, weights = _owner_choices(world, tenant.pk, draft)
    p = draft.priority
    it = IssueType(draft.issue_type)

    unassigned = {Status.NEW: 0.8, Status.TRIAGE: 0.35}.get(status, 0.06)
    owner = None if rng.random() < unassigned else rng.choices(users, weights)[0]
    agents = [u for u in users if u.username not in ("admin", "manager")] or users
    triager = owner or rng.choice(agents)
    worker = owner or triager
    name = requester.name.split()[0]

    steps: list[Step] = []
    t = 0.0

    def work(scale: float = 1.0) -> float:
        return 3600 * WORK_HOURS[p] * scale * rng.lognormvariate(0, 0.6)

    def add(kind, **kw):
        steps.append(Step(kind, t, **kw))

    if status == Status.NEW:
        if rng.random() < 0.15:
            t += work(0.5)
            add("inbound", body="Any update on this?")
        return _finish(CasePlan(tenant, requester, draft, channel, created_at, tenant.default_team, status, steps, _pick_resources(world, tenant, draft, rng)), now)

    t += 60 * rng.uniform(*TRIAGE_MINUTES[p])
    add("status", actor=triager, to=Status.TRIAGE, reason=rng.choice(["", "Accepted; classification confirmed.", f"Confirmed {Priority(p).label.lower()} priority."]))
    if owner is not None:
        t += rng.uniform(30, 600)
        add("assign", actor=triager, owner=owner)
    if status == Status.TRIAGE:
        if rng.random() < 0.5:
            t += rng.uniform(60, 1800)
            add("reply", actor=triager, body=_fill(rng.choice(ACK), rng, now).replace("there", name))
        return _finish(CasePlan(tenant, requester, draft, channel, created_at, tenant.default_team, status, steps, _pick_resources(world, tenant, draft, rng)), now)

    t += rng.uniform(60, 1800)
    first_ask = rng.random() < 0.4
    add("reply", actor=worker, body=(_fill(rng.choice(ASK[it]), rng, now) if first_ask else _fill(rng.choice(ACK), rng, now).replace("there", name)))
    t += rng.uniform(60, 900)
    add("status", actor=worker, to=Status.IN_PROGRESS, reason="")
    if rng.random() < 0.55:
        t += work(0.3)
        add("note", actor=worker, body=_fill(rng.choice(NOTES[it]), rng, now))
    engineering = world.teams["engineering"] if draft.issue_type in (IT.BUG, IT.INCIDENT) else None
    if engineering and p <= H and rng.random() < 0.35:
        t += work(0.2)
        add("assign", actor=worker, team=world.teams["sre"] if draft.issue_type == IT.INCIDENT and p == C else engineering)
        t += rng.uniform(60, 600)
        add("note", actor=worker, body="Escalated with reproduction data, request ids and the affected resources.")

    cycles = rng.choices([0, 1, 2], [50, 38, 12])[0]
    for _ in range(cycles):
        t += work(0.5)
        add("reply", actor=worker, body=_fill(rng.choice(ASK[it]), rng, now))
        t += rng.uniform(10, 300)
        add("status", actor=worker, to=Status.WAITING_ON_CUSTOMER, reason="Waiting for logs / confirmation from the customer.")
        t += 3600 * rng.uniform(1, 40)
        add("inbound", body=_fill(rng.choice(CUSTOMER_FOLLOWUPS[it]), rng, now))
        t += rng.uniform(120, 3600)
        add("status", actor=worker, to=Status.IN_PROGRESS, reason="Customer replied.")
        if rng.random() < 0.4:
            t += work(0.2)
            add("note", actor=worker, body=_fill(rng.choice(NOTES[it]), rng, now))

    if status == Status.WAITING_ON_CUSTOMER:
        t += work(0.5)
        add("reply", actor=worker, body=_fill(rng.choice(ASK[it]), rng, now))
        t += rng.uniform(10, 300)
        add("status", actor=worker, to=Status.WAITING_ON_CUSTOMER, reason="Waiting for logs / confirmation from the customer.")
    elif status == Status.IN_PROGRESS:
        if rng.random() < 0.08:  # resolved once, then reopened by the customer
            t += work()
            add("reply", actor=worker, body=_fill(rng.choice(RESOLUTIONS[it]), rng, now))
            t += rng.uniform(10, 300)
            add("status", actor=worker, to=Status.RESOLVED, reason="Fix confirmed on our side.")
            t += 3600 * rng.uniform(2, 48)
            add("inbound", body="This is happening again since this morning, same error as before.")
            t += rng.uniform(300, 3600)
            add("status", actor=worker, to=Status.IN_PROGRESS, reason="Customer reports a recurrence.")
        elif rng.random() < 0.4:
            t += work(0.4)
            add("reply", actor=worker, body="Quick update: we have identified the cause and are working on a fix. Next update within the agreed cadence.")
    else:  # resolved or closed
        t += work()
        add("reply", actor=worker, body=_fill(rng.choice(RESOLUTIONS[it]), rng, now))
        t += rng.uniform(10, 300)
        add("status", actor=worker, to=Status.RESOLVED, reason=rng.choice(["Fix deployed and verified.", "Configuration corrected.", "Answered; no further action."]))
        if status == Status.CLOSED:
            if rng.random() < 0.5:
                t += 3600 * rng.uniform(1, 30)
                add("inbound", body=rng.choice(CONFIRMATIONS))
                t += rng.uniform(300, 7200)
                add("status", actor=worker, to=Status.CLOSED, reason="Customer confirmed.")
            else:
                t += 86400 * rng.uniform(3, 7)
                add("status", actor=worker, to=Status.CLOSED, reason="Auto-closed after 7 days without reply.")

    return _finish(CasePlan(tenant, requester, draft, channel, created_at, tenant.default_team, status, steps, _pick_resources(world, tenant, draft, rng)), now)


def _pick_resources(world: World, tenant: Tenant, draft: Draft, rng: random.Random) -> list[Resource]:
    pool = world.resources.get(tenant.pk) or []
    if pool and draft.issue_type in (IT.INCIDENT, IT.BUG) and rng.random() < 0.6:
        return rng.sample(pool, rng.randint(1, min(2, len(pool))))
    return []


def _finish(plan: CasePlan, now: datetime) -> CasePlan:
    """Fit the timeline between the case's opening and now, then derive the case's timestamps."""
    room = (now - plan.created_at).total_seconds() - 60
    last = plan.steps[-1].offset if plan.steps else 0
    scale = min(1.0, max(room, 1) / last) if last > 0 else 1.0
    for step in plan.steps:
        step.at = plan.created_at + timedelta(seconds=step.offset * scale)
    plan.status_changed_at = plan.updated_at = plan.created_at
    plan.final_team = plan.team
    for step in plan.steps:
        if step.kind != "inbound":
            plan.version += 1
            plan.updated_at = step.at
        if step.kind == "status":
            plan.status_changed_at = step.at
            if step.to == Status.TRIAGE and plan.triaged_at is None:
                plan.triaged_at = step.at
            elif step.to == Status.RESOLVED:
                plan.resolved_at = step.at
            elif step.to == Status.CLOSED:
                plan.closed_at = step.at
            elif step.to == Status.IN_PROGRESS and plan.resolved_at is not None:
                plan.resolved_at = plan.closed_at = None  # a reopen
        elif step.kind == "reply" and plan.first_response_at is None:
            plan.first_response_at = step.at
        elif step.kind == "assign":
            if step.owner is not None:
                plan.owner = step.owner
            if step.team is not None:
                plan.final_team = step.team
    last_status = [s.to for s in plan.steps if s.kind == "status"]
    assert (last_status[-1] if last_status else Status.NEW) == plan.status, (plan.status, last_status)
    return plan


def _who(user) -> str:
    return user.get_full_name() or user.get_username()


def realistic_cases(world: World, n: int, *, out: Out = _quiet, seed: int = 7, now: datetime | None = None,
                    service_share: float = SERVICE_SHARE, service_max: int = SERVICE_MAX) -> int:
    """Write `n` cases with full timelines, in the order they were opened (ids follow time)."""
    if n <= 0:
        return 0
    rng = random.Random(seed)
    now = now or timezone.now()
    _TAG_IDS.clear()  # ids cached by an earlier call may belong to rows rolled back since (tests)
    plans = sorted((plan_case(world, rng, now) for _ in range(n)), key=lambda p: p.created_at)
    n_service = min(service_max, round(n * service_share))
    via_service = set(rng.sample(range(n), n_service)) if n_service else set()
    started = time.perf_counter()
    for chunk in range(0, n, 100):
        # One transaction per 100 cases (the services' own transactions become savepoints): one
        # commit instead of one per service call.
        with transaction.atomic():
            buffer: list[CasePlan] = []
            service_made: list[tuple[int, CasePlan]] = []
            for i in range(chunk, min(chunk + 100, n)):
                if i in via_service:
                    if buffer:
                        _write_direct(buffer)
                        buffer = []
                    service_made.append((_write_via_services(plans[i]), plans[i]))
                else:
                    buffer.append(plans[i])
            if buffer:
                _write_direct(buffer)
            _backdate(service_made)
        out(f"  {min(chunk + 100, n):,}/{n:,} cases with timelines ({time.perf_counter() - started:.1f} s)")
    _replay_clocks(plans, out)
    return n


def _replay_clocks(plans, out: Out) -> None:
    """SLA clocks for the realistic cases, replayed from their back-dated timelines."""
    from .sla.clocks import replay

    started = time.perf_counter()
    first = min(p.created_at for p in plans)
    with transaction.atomic():
        for case in Case.objects.filter(created_at__gte=first, sla_snapshot__isnull=True).select_related("tenant").order_by("pk"):
            replay(case)
    out(f"  SLA clocks replayed from the timelines ({time.perf_counter() - started:.1f} s)")


def _write_via_services(plan: CasePlan) -> int:
    """The real services, as agents would have used them; back-dated afterwards by `_backdate`."""
    d = plan.draft
    with set_actor(None):
        case = services.case_create(
            actor=None, tenant=plan.tenant, requester=plan.requester, subject=d.subject, description=d.description,
            priority=d.priority, category=d.category, issue_type=d.issue_type, environment=d.environment,
            channel=plan.channel, team=plan.team, tags=list(d.tags),
        )
    if plan.resources:
        case.affected_resources.add(*plan.resources)
    for step in plan.steps:
        if step.kind == "inbound":
            Interaction.objects.create(
                case=case, kind=Interaction.Kind.INBOUND, public=True, requester=plan.requester,
                channel=plan.channel, body=step.body, data={"follow_up": True},
            )
            continue
        with set_actor(step.actor):
            if step.kind == "status":
                services.case_transition(case_id=case.pk, to=step.to, actor=step.actor, reason=step.reason)
            elif step.kind == "assign":
                kwargs = {}
                if step.owner is not None:
                    kwargs["owner"] = step.owner
                if step.team is not None:
                    kwargs["team"] = step.team
                services.case_assign(case_id=case.pk, actor=step.actor, **kwargs)
            elif step.kind in ("reply", "note"):
                services.case_reply(case_id=case.pk, actor=step.actor, body=step.body, public=step.kind == "reply")
    return case.pk


def _backdate(made: list[tuple[int, CasePlan]]) -> None:
    """Move the service-made cases and their timelines back to when they 'happened'. Audit entries
    keep their real (seed-time) timestamps: they are immutable and record when the rows were written."""
    if not made:
        return
    by_case = {pk: plan for pk, plan in made}
    cases = list(Case.objects.filter(pk__in=by_case))
    for case in cases:
        plan = by_case[case.pk]
        case.created_at = plan.created_at
        case.updated_at = plan.updated_at
        case.status_changed_at = plan.status_changed_at
        case.triaged_at = plan.triaged_at
        case.first_response_at = plan.first_response_at
        case.resolved_at = plan.resolved_at
        case.closed_at = plan.closed_at
    fields = ["created_at", "updated_at", "status_changed_at", "triaged_at", "first_response_at", "resolved_at", "closed_at"]
    Case.objects.bulk_update(cases, fields, batch_size=500)
    rows = list(Interaction.objects.filter(case_id__in=by_case).order_by("case_id", "id").only("id", "case_id", "created_at"))
    grouped: dict[int, list[Interaction]] = {}
    for row in rows:
        grouped.setdefault(row.case_id, []).append(row)
    changed = []
    for case_id, items in grouped.items():
        plan = by_case[case_id]
        times = [plan.created_at] + [s.at for s in plan.steps]
        if len(times) != len(items):
            raise RuntimeError(f"case {case_id}: planned {len(times)} timeline entries, services wrote {len(items)}")
        for item, at in zip(items, times):
            item.created_at = at
            changed.append(item)
    Interaction.objects.bulk_update(changed, ["created_at"], batch_size=500)


def _write_direct(plans: list[CasePlan]) -> None:
    """The same timelines as the services would write, with bulk_create (no audit entries)."""
    with transaction.atomic(), disable_auditlog():
        cases = [
            Case(
                tenant=p.tenant, requester=p.requester, subject=p.draft.subject, description=p.draft.description,
                status=p.status, priority=p.draft.priority, category=p.draft.category, issue_type=p.draft.issue_type,
                environment=p.draft.environment, channel=p.channel, owner=p.owner, team=p.final_team,
                created_at=p.created_at, updated_at=p.updated_at, status_changed_at=p.status_changed_at,
                triaged_at=p.triaged_at, first_response_at=p.first_response_at, resolved_at=p.resolved_at,
                closed_at=p.closed_at, version=p.version,
            )
            for p in plans
        ]
        Case.objects.bulk_create(cases)
        interactions, tag_rows, resource_rows = [], [], []
        TagThrough, ResourceThrough = Case.tags.through, Case.affected_resources.through
        for case, p in zip(cases, plans):
            interactions.append(Interaction(
                case=case, kind=Interaction.Kind.INBOUND, public=True, requester=p.requester, channel=p.channel,
                body=p.draft.description, data={"opened_by": "customer"}, created_at=p.created_at,
            ))
            status, owner, team, responded = Status.NEW, None, p.team, False
            for s in p.steps:
                if s.kind == "inbound":
                    interactions.append(Interaction(case=case, kind=Interaction.Kind.INBOUND, public=True, requester=p.requester,
                                                    channel=p.channel, body=s.body, data={"follow_up": True}, created_at=s.at))
                elif s.kind == "status":
                    reopened = status in (Status.RESOLVED, Status.CLOSED) and s.to == Status.IN_PROGRESS
                    interactions.append(Interaction(case=case, kind=Interaction.Kind.STATUS, actor=s.actor, body=s.reason,
                                                    data={"from": status, "to": s.to, "reason": s.reason, "reopened": reopened}, created_at=s.at))
                    status = s.to
                elif s.kind == "assign":
                    changes = {}
                    if s.owner is not None:
                        changes["owner"] = [_who(owner) if owner else None, _who(s.owner)]
                        owner = s.owner
                    if s.team is not None:
                        changes["team"] = [team.name if team else None, s.team.name]
                        team = s.team
                    interactions.append(Interaction(case=case, kind=Interaction.Kind.ASSIGNMENT, actor=s.actor,
                                                    data={"changes": changes}, created_at=s.at))
                else:
                    public = s.kind == "reply"
                    first = public and not responded
                    responded = responded or public
                    interactions.append(Interaction(case=case, kind=Interaction.Kind.REPLY if public else Interaction.Kind.NOTE,
                                                    public=public, actor=s.actor, channel=p.channel if public else "", body=s.body,
                                                    data={"first_response": first}, created_at=s.at))
            tag_rows += [TagThrough(case_id=case.pk, tag_id=_tag_id(t)) for t in p.draft.tags]
            resource_rows += [ResourceThrough(case_id=case.pk, resource_id=r.pk) for r in p.resources]
        Interaction.objects.bulk_create(interactions, batch_size=1000)
        TagThrough.objects.bulk_create(tag_rows, batch_size=1000)
        ResourceThrough.objects.bulk_create(resource_rows, batch_size=1000)


_TAG_IDS: dict[str, int] = {}


def _tag_id(name: str) -> int:
    if name not in _TAG_IDS:
        _TAG_IDS[name] = Tag.objects.get_or_create(name=name)[0].pk
    return _TAG_IDS[name]


# --- bulk cases for benchmarks ----------------------------------------------------------------------

BULK_YEARS = 3
OPEN_TAU_DAYS = 60.0  # open probability decays with age: 0.9·e^(−age/τ) + 1.5% stale tail → ~15% open overall
RESOLUTION_HOURS = {C: 3.0, H: 10.0, M: 36.0, L: 96.0}  # medians
CASE_COLUMNS = [
    "id", "tenant_id", "requester_id", "subject", "description", "status", "priority", "category", "issue_type",
    "environment", "channel", "owner_id", "team_id", "duplicate_of_id", "created_at", "updated_at",
    "status_changed_at", "triaged_at", "first_response_at", "resolved_at", "closed_at", "version",
    # Non-nullable without a database default: COPY must name them. The bulk cases carry no SLA
    # clocks, so the summary is empty (what the clocks' summary is for a case without clocks).
    "sla_clock", "sla_paused",
]
INTERACTION_COLUMNS = ["case_id", "kind", "public", "actor_id", "requester_id", "channel", "body", "data", "created_at"]


class _BulkFactory:
    """Rows for `bulk_cases`, cheap enough for millions: ticket texts come from a pre-drawn pool and
    `created_at` grows with the row number (stratified), so ids follow time."""

    def __init__(self, world: World, n: int, rng: random.Random, now: datetime, first_index: int = 0):
        self.world, self.n, self.rng, self.now = world, n, rng, now
        self.pool = [draft_ticket(rng, now) for _ in range(3000)]
        self.tenant_ids = [t.pk for t in world.tenants]
        self.tenant_weights = list(world.weights())
        self.channels = {t.pk: ENTITLEMENTS[world.specs[t.pk].tier]["channels"] for t in world.tenants}
        self.requesters = {t.pk: [r.pk for r in world.requesters[t.pk]] for t in world.tenants}
        self.default_team = {t.pk: t.default_team_id for t in world.tenants}
        self.owners = {}
        for t in world.tenants:
            users, weights = _owner_choices(world, t.pk)
            self.owners[t.pk] = ([u.pk for u in users], weights)
        self.engineering = world.teams["engineering"].pk
        self.sre = world.teams["sre"].pk
        self.tag_ids = {name: world.tags[name].pk for name in TAGS}
        self.span = BULK_YEARS * 365 * 86400.0

    def row(self, i: int):
        rng, now = self.rng, self.now
        u = (i + rng.random()) / self.n
        age = self.span * (1.0 - u ** (1.0 / 3.0))  # volume grows over the years
        created = now - timedelta(seconds=age + 30)
        age_days = age / 86400.0
        d = rng.choice(self.pool)
        tenant = rng.choices(self.tenant_ids, self.tenant_weights)[0]
        requester = rng.choice(self.requesters[tenant])
        channel = rng.choice(self.channels[tenant])
        p = d.priority
        team = self.default_team[tenant]
        if d.issue_type in (IT.BUG, IT.INCIDENT) and rng.random() < 0.15:
            team = self.sre if (d.issue_type == IT.INCIDENT and p == C and rng.random() < 0.5) else self.engineering
        users, weights = self.owners[tenant]

        triage_s = 60 * rng.uniform(*TRIAGE_MINUTES[p])
        triaged = created + timedelta(seconds=triage_s)
        responded = triaged + timedelta(seconds=rng.uniform(60, 1800))
        resolved = triaged + timedelta(hours=RESOLUTION_HOURS[p] * rng.lognormvariate(0, 0.9))
        is_open = rng.random() < 0.9 * math.exp(-age_days / OPEN_TAU_DAYS) + 0.015 or resolved >= now
        triaged_at = first_response_at = resolved_at = closed_at = None
        if is_open:
            if age_days < 1:
                status = rng.choices(OPEN_STATUSES, [45, 30, 25, 0])[0]
            elif age_days < 7:
                status = rng.choices(OPEN_STATUSES, [8, 12, 50, 30])[0]
            else:
                status = rng.choices(OPEN_STATUSES, [0, 1, 52, 47])[0]
            if status == Status.NEW:
                changed = updated = created
                version = 1
                owner = None if rng.random() < 0.8 else rng.choices(users, weights)[0]
            else:
                triaged_at = min(triaged, now)
                changed = triaged_at
                if status != Status.TRIAGE or rng.random() < 0.6:
                    first_response_at = min(responded, now)
                if status in (Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER):
                    start = first_response_at or triaged_at
                    changed = start + (now - start) * rng.random()
                updated = changed + (now - changed) * rng.random() * 0.5
                version = rng.randint(2, 9)
                owner = None if rng.random() < (0.35 if status == Status.TRIAGE else 0.08) else rng.choices(users, weights)[0]
        else:
            auto_close = timedelta(days=rng.uniform(1, 7))
            triaged_at, first_response_at, resolved_at = triaged, responded, max(resolved, responded)
            if resolved_at + auto_close < now:
                status, closed_at = Status.CLOSED, resolved_at + auto_close
                changed = updated = closed_at
            else:
                status = Status.RESOLVED
                changed = updated = resolved_at
            version = rng.randint(4, 14)
            owner = None if rng.random() < 0.02 else rng.choices(users, weights)[0]
        tags = ()
        if d.tags and rng.random() < 0.4:
            tags = tuple(self.tag_ids[t] for t in d.tags[: rng.randint(1, 2)])
        case = (tenant, requester, d.subject, d.description, status, p, d.category, d.issue_type, d.environment,
                channel, owner, team, None, created, updated, changed, triaged_at, first_response_at, resolved_at,
                closed_at, version, "", False)
        return case, tags, requester, channel, d.description, created


REBUILD_INDEXES_FROM = 50_000


def bulk_cases(world: World, n: int, *, out: Out = _quiet, seed: int = 11, batch_size: int = 20_000,
               now: datetime | None = None, rebuild_indexes: bool | None = None) -> int:
    """Load `n` cases fast: COPY on PostgreSQL, bulk_create elsewhere. One inbound interaction per
    case, tags for ~40% of those whose ticket suggests some. No audit entries (auditlog disabled).

    On PostgreSQL a load of 50k+ rows that at least doubles the table drops the secondary indexes of
    the case tables first and rebuilds them at the end (from their own definitions in pg_index):
    that is about twice as fast as maintaining ~30 indexes row by row (`rebuild_indexes` forces it
    on or off)."""
    if n <= 0:
        return 0
    existing = Case.objects.count()
    rng = random.Random(f"{seed}-{existing}")
    now = now or timezone.now()
    factory = _BulkFactory(world, n, rng, now)
    postgres = connection.vendor == "postgresql"
    if rebuild_indexes is None:
        rebuild_indexes = n >= REBUILD_INDEXES_FROM and n >= existing
    started = time.perf_counter()
    done = 0
    out(f"  bulk loading {n:,} cases via {'COPY' if postgres else 'bulk_create'} in batches of {batch_size:,}")
    with disable_auditlog(), (_indexes_dropped(out) if postgres and rebuild_indexes else _nothing()):
        while done < n:
            size = min(batch_size, n - done)
            rows = [factory.row(i) for i in range(done, done + size)]
            with transaction.atomic():
                (_copy_batch if postgres else _orm_batch)(rows)
            done += size
            elapsed = time.perf_counter() - started
            out(f"  {done:,}/{n:,} cases ({elapsed:.1f} s, {done / elapsed:,.0f}/s)")
    if postgres:
        # VACUUM as well as ANALYZE: it sets the visibility map, without which the queue's
        # index-only scans (capped counts) fall back to visiting the heap. Not inside a transaction.
        out("  VACUUM ANALYZE …")
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                cursor.execute(f"ANALYZE {Case._meta.db_table}, {Interaction._meta.db_table}, {Case.tags.through._meta.db_table}")
            else:
                cursor.execute(
                    f"VACUUM ANALYZE {Case._meta.db_table}, {Interaction._meta.db_table}, {Case.tags.through._meta.db_table}"
                )
    return n


@contextmanager
def _nothing():
    yield


def _bulk_tables() -> list[str]:
    return [Case._meta.db_table, Interaction._meta.db_table, Case.tags.through._meta.db_table]


@contextmanager
def _indexes_dropped(out: Out):
    """Drop the plain secondary indexes of the case tables (never primary keys, unique indexes or
    anything backing a constraint) and recreate them, exactly as defined, when the block ends —
    also when it fails or is interrupted."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ic.relname, pg_get_indexdef(ix.indexrelid)
            FROM pg_index ix
            JOIN pg_class ic ON ic.oid = ix.indexrelid
            JOIN pg_class tc ON tc.oid = ix.indrelid
            WHERE tc.relname = ANY(%s) AND pg_table_is_visible(tc.oid)
              AND NOT ix.indisprimary AND NOT ix.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ix.indexrelid)
            ORDER BY tc.relname, ic.relname
            """,
            [_bulk_tables()],
        )
        definitions = cursor.fetchall()
    out(f"  dropping {len(definitions)} secondary indexes for the load (rebuilt at the end)")
    with transaction.atomic(), connection.cursor() as cursor:
        for name, _ddl in definitions:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    try:
        yield
    finally:
        started = time.perf_counter()
        out(f"  rebuilding {len(definitions)} indexes …")
        # Indexes declared in a model's Meta are recreated by the schema editor, i.e. with the very
        # SQL their migration ran; the rest (foreign-key and trigram indexes) from pg_get_indexdef.
        declared = {index.name: (model, index) for model in (Case, Interaction) for index in model._meta.indexes}
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            try:
                with connection.schema_editor(atomic=False) as editor:
                    for name, ddl in definitions:
                        if name in declared:
                            editor.add_index(*declared[name])
                        else:
                            cursor.execute(ddl.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            except Exception:
                out("  !! rebuilding failed; recreate these indexes by hand:\n" + ";\n".join(d for _n, d in definitions) + ";")
                raise
            finally:
                cursor.execute("RESET maintenance_work_mem")
        out(f"  indexes rebuilt in {time.perf_counter() - started:.1f} s")


def _copy_batch(rows) -> None:
    case_table, inter_table = Case._meta.db_table, Interaction._meta.db_table
    tag_table = Case.tags.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [case_table, len(rows)]
        )
        ids = [r[0] for r in cursor.fetchall()]
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {case_table} ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            for pk, (case, *_rest) in zip(ids, rows):
                copy.write_row((pk, *case))
        with raw.copy(f"COPY {inter_table} ({', '.join(INTERACTION_COLUMNS)}) FROM STDIN") as copy:
            for pk, (_case, _tags, requester, channel, body, created) in zip(ids, rows):
                copy.write_row((pk, "inbound", True, None, requester, channel, body, '{"opened_by": "customer"}', created))
        with raw.copy(f"COPY {tag_table} (case_id, tag_id) FROM STDIN") as copy:
            for pk, (_case, tags, *_rest) in zip(ids, rows):
                for tag in tags:
                    copy.write_row((pk, tag))


def _orm_batch(rows) -> None:
    fields = CASE_COLUMNS[1:]
    cases = [Case(**dict(zip(fields, case))) for case, *_ in rows]
    Case.objects.bulk_create(cases, batch_size=2000)
    Interaction.objects.bulk_create(
        [
            Interaction(case_id=c.pk, kind=Interaction.Kind.INBOUND, public=True, requester_id=requester, channel=channel,
                        body=body, data={"opened_by": "customer"}, created_at=created)
            for c, (_case, _tags, requester, channel, body, created) in zip(cases, rows)
        ],
        batch_size=2000,
    )
    through = Case.tags.through
    through.objects.bulk_create(
        [through(case_id=c.pk, tag_id=tag) for c, (_case, tags, *_rest) in zip(cases, rows) for tag in tags], batch_size=2000
    )


# --- top up ---------------------------------------------------------------------------------------


def ensure_cases(world: World, target: int, *, out: Out = _quiet) -> int:
    """Make the case table hold at least `target` cases; return how many were added. Small tables
    get realistic timelines; past BULK_THRESHOLD the remainder comes from the bulk loader (after a
    realistic head of REALISTIC_HEAD cases, so a big demo database still has rich recent cases)."""
    existing = Case.objects.count()
    missing = target - existing
    if missing <= 0:
        return 0
    if target <= BULK_THRESHOLD:
        return realistic_cases(world, missing, out=out, seed=7 + existing)
    head = max(0, min(REALISTIC_HEAD, target) - existing)
    added = realistic_cases(world, head, out=out, seed=7 + existing) if head else 0
    return added + bulk_cases(world, missing - head, out=out)


# --- reset ----------------------------------------------------------------------------------------


def reset_demo(*, out: Out = _quiet) -> None:
    """Remove the demo tenants, their cases, the demo teams, profiles and saved views. The demo users
    stay (audit entries point at them and cannot be rewritten): their password, flags and role are
    restored instead, and `build_demo_world()` then recreates everything else."""
    with disable_auditlog():
        tenant_ids = list(Tenant.objects.filter(slug__in=DEMO_TENANT_SLUGS).values_list("pk", flat=True))
        qs = Case.objects.filter(tenant_id__in=tenant_ids)
        total = qs.count()
        deleted = 0
        while True:
            ids = list(qs.order_by("pk").values_list("pk", flat=True)[:10_000])
            if not ids:
                break
            with transaction.atomic():
                Interaction.objects.filter(case_id__in=ids)._raw_delete(connection.alias)
                Case.tags.through.objects.filter(case_id__in=ids)._raw_delete(connection.alias)
                Case.objects.filter(duplicate_of_id__in=ids).update(duplicate_of=None)
                Case.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
            out(f"  deleted {deleted:,}/{total:,} cases")
        with transaction.atomic():
            Requester.objects.filter(tenant_id__in=tenant_ids).delete()
            Tenant.objects.filter(pk__in=tenant_ids).delete()
            SavedView.objects.filter(owner__username__in=[u[0] for u in USERS], builtin=False).delete()
            Team.objects.filter(slug__in=[t[0] for t in TEAMS]).delete()
            Profile.objects.filter(user__username__in=[u[0] for u in USERS]).delete()
            password = make_password(DEMO_PASSWORD)
            for username, first, last, role, _tz, _team, staff, superuser in USERS:
                user = User.objects.filter(username=username).first()
                if user is not None:
                    user.password, user.first_name, user.last_name = password, first, last
                    user.is_staff, user.is_superuser, user.is_active = staff, superuser, True
                    user.save()
                    user.groups.set([Group.objects.get(name=role)])


# --- logins ---------------------------------------------------------------------------------------


def login_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for username, _first, _last, role, _tz, _team, staff, superuser in USERS:
        if username in ALL_SEEING:
            sees = "all tenants"
        else:
            names = [t.name for t in TENANTS if t.slug in GRANTS[username]]
            sees = f"{len(names)} tenants: " + ", ".join(names)
        flags = " (superuser)" if superuser else (" (staff)" if staff else "")
        rows.append((username, DEMO_PASSWORD, role + flags, sees))
    return rows


def format_logins() -> str:
    rows = [("username", "password", "role", "sees")] + login_rows()
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths) + "  " + "-" * 40)
    return "\n".join(lines)
