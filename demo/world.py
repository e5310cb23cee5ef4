"""The demo world: teams, tenants in every segment and tier (with requesters and resources), users
of every role with their tenant grants, profiles, tags and saved views; its reset; the logins.

What the world holds is described in `demo.catalog` (plain data); `build_demo_world()` creates
whatever of it is missing (idempotent) and returns a `World`, which the case planner and writers
(`demo.planning`, `demo.timelines`, `demo.bulk_load`) draw from.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditlog.context import disable_auditlog
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction

from cases.choices import IssueType
from cases.models import Case, Interaction, SavedView, Tag, Team
from companyos.models import Profile
from tenants.choices import AuthMethod, Health, Segment, SupportTier
from tenants.models import Requester, Resource, Tenant
from tenants.services import tenant_grant

from .catalog import (
    ALL_SEEING,
    DEMO_PASSWORD,
    DEMO_TENANT_SLUGS,
    ENTITLEMENTS,
    GRANTS,
    REQUESTER_ROLES,
    RESOURCE_KINDS,
    SAVED_VIEWS,
    TAGS,
    TEAMS,
    TENANTS,
    USERS,
    TenantSpec,
)

if TYPE_CHECKING:
    from .tickets import Draft

User = get_user_model()

DEFAULT_DEMO_CASES = 500

Out = Callable[[str], None]


def _quiet(msg: str) -> None:
    pass


# --- the world ------------------------------------------------------------------------------------


@dataclass
class World:
    tenants: list[Tenant]
    specs: dict[int, TenantSpec]
    requesters: dict[int, list[Requester]]
    resources: dict[int, list[Resource]]
    users: dict[str, User]
    teams: dict[str, Team]
    tags: dict[str, Tag]
    # tenant id -> users who may see it (and so may own its cases)
    visible_users: dict[int, list] = field(default_factory=dict)
    created: bool = False

    def weights(self) -> list[float]:
        return [self.specs[t.pk].weight for t in self.tenants]


def demo_world_exists() -> bool:
    return Tenant.objects.filter(slug__in=DEMO_TENANT_SLUGS).count() == len(TENANTS) and User.objects.filter(
        username__in=[u[0] for u in USERS]
    ).count() == len(USERS)


def _ascii(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("å", "a").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and (c.isalnum() or c in ".-")).lower()


def _public_sector_policy():
    """A 24x7 override for the enterprise public-sector tenant: seed 002's calendar-time table."""
    from cases.models import SLAPolicy
    from cases.sla.clocks import load_preset

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
        for username, first, last, role, _tz, _team, staff, superuser in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                password = password or make_password(DEMO_PASSWORD)  # hash once: PBKDF2 is slow on purpose
                user = User.objects.create(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@companyos.example",
                    is_staff=staff,
                    is_superuser=superuser,
                    password=password,
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
            _profile, made = Profile.objects.get_or_create(
                user=users[username], defaults={"timezone": tz, "team": team}
            )
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
                    slug=spec.slug,
                    name=spec.name,
                    segment=spec.segment,
                    support_tier=spec.tier,
                    plan=spec.plan,
                    billing_status=spec.billing,
                    region=spec.region,
                    data_residency=spec.residency,
                    timezone=spec.tz,
                    telemetry_consent=spec.telemetry,
                    health=spec.health,
                    entitlements=dict(ENTITLEMENTS[spec.tier]),
                    default_team=teams["tier-1" if spec.tier == SupportTier.STANDARD else "tier-2"],
                    sla_policy=_public_sector_policy()
                    if spec.segment == Segment.PUBLIC_SECTOR and spec.tier == SupportTier.ENTERPRISE
                    else None,
                )
                created_any = True
            tenants.append(tenant)
            specs[tenant.pk] = spec
            new_requesters = not tenant.requesters.exists()
            if new_requesters:
                _make_requesters(tenant, spec, trng, seed)
                created_any = True
            if not tenant.resources.exists():
                _make_resources(tenant, spec, trng)
                created_any = True
            if new_requesters:
                _limit_requester_resources(tenant)
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
        out(
            f"Demo world ready: {len(tenants)} tenants, {sum(len(r) for r in requesters.values())} requesters, "
            f"{len(users)} users, {len(teams)} teams."
        )
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
            tenant=tenant,
            name=f"{first} {last}",
            email=email,
            role=rng.choice(REQUESTER_ROLES),
            preferred_channel=rng.choice(channels),
            auth_method=rng.choice(
                [AuthMethod.SSO, AuthMethod.SSO, AuthMethod.PASSWORD, AuthMethod.API_KEY, AuthMethod.OAUTH]
            )
            if spec.segment != Segment.SMB
            else rng.choice([AuthMethod.PASSWORD, AuthMethod.API_KEY]),
        )


# Contacts in these roles see only the tenant's first resource (seed 003: a requester's
# "permissions to view resources"), so the case page's requester card has something to warn about.
LIMITED_ROLES = {"Product manager", "Support lead", "IT administrator"}


def _limit_requester_resources(tenant: Tenant) -> None:
    first = tenant.resources.order_by("pk").first()
    for requester in tenant.requesters.filter(role__in=LIMITED_ROLES):
        requester.sees_all_resources = False
        requester.save(update_fields=["sees_all_resources"])
        if first is not None:
            requester.visible_resources.set([first])


def _make_resources(tenant: Tenant, spec: TenantSpec, rng: random.Random) -> None:
    env = "prod"
    for kind, short in rng.sample(RESOURCE_KINDS, rng.randint(2, 3)):
        Resource.objects.create(
            tenant=tenant,
            external_id=f"{spec.slug}-{short}-{env}-{spec.region}",
            kind=kind,
            region=spec.region,
            version=f"v{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
            config_snapshot={
                "replicas": rng.choice([2, 3, 6]),
                "rate_limit_rps": rng.choice([100, 500, 2000]),
                "tls": "1.3",
                "feature_flags": rng.sample(["batch_ingest", "v2_webhooks", "new_auth", "fast_export"], 2),
            },
            health=spec.health if rng.random() < 0.5 else Health.GREEN,
        )


def pick_channel(rng: random.Random, spec: TenantSpec) -> str:
    allowed = ENTITLEMENTS[spec.tier]["channels"]
    weights = {"email": 35, "web": 20, "widget": 14, "slack": 12, "phone": 6, "api": 8, "cli": 5}
    return rng.choices(allowed, [weights[c] for c in allowed])[0]


def owner_choices(world: World, tenant_id: int, draft: Draft | None = None):
    users = world.visible_users[tenant_id]
    weights = []
    for u in users:
        w = {"agent": 6, "agent2": 6, "senior": 5, "engineer": 2, "sre": 1, "manager": 0.3, "admin": 0}.get(
            u.username, 1
        )
        if draft is not None and draft.issue_type == IssueType.INCIDENT and u.username in ("sre", "engineer"):
            w *= 3
        weights.append(w)
    return users, weights


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


def login_rows() -> list[tuple[str, ...]]:
    """(username, password, role, timezone, sees): the timezone each demo user sees every time in."""
    rows = []
    for username, _first, _last, role, tz, _team, staff, superuser in USERS:
        if username in ALL_SEEING:
            sees = "all tenants"
        else:
            names = [t.name for t in TENANTS if t.slug in GRANTS[username]]
            sees = f"{len(names)} tenants: " + ", ".join(names)
        flags = " (superuser)" if superuser else (" (staff)" if staff else "")
        rows.append((username, DEMO_PASSWORD, role + flags, tz, sees))
    return rows


def format_logins() -> str:
    rows = [("username", "password", "role", "timezone", "sees")] + login_rows()
    last = len(rows[0]) - 1
    widths = [max(len(r[i]) for r in rows) for i in range(last)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(last)) + "  " + r[last])
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths) + "  " + "-" * 40)
    return "\n".join(lines)
