"""Roles are Django groups, created by a data migration. Visibility rules read them from here."""
from django.contrib.auth.models import Group

AGENT = "agent"
SENIOR_AGENT = "senior agent"
ENGINEER = "engineer"
MANAGER = "manager"
ADMIN = "admin"
SRE = "SRE"

ALL_ROLES = [AGENT, SENIOR_AGENT, ENGINEER, MANAGER, ADMIN, SRE]
# Roles that see every tenant. Everyone else sees only the tenants granted to them (or to one of
# their groups) through guardian's per-tenant view permission.
ALL_TENANT_ROLES = {MANAGER, ADMIN, SRE}


def role_names(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return cached


def sees_all_tenants(user) -> bool:
    return user.is_authenticated and user.is_active and (user.is_superuser or bool(role_names(user) & ALL_TENANT_ROLES))


def is_admin(user) -> bool:
    return user.is_authenticated and (user.is_superuser or ADMIN in role_names(user))


def primary_role(user) -> str:
    names = role_names(user)
    for role in [ADMIN, MANAGER, SRE, ENGINEER, SENIOR_AGENT, AGENT]:
        if role in names:
            return role
    return "admin" if user.is_superuser else "—"


def group(name: str) -> Group:
    return Group.objects.get(name=name)


def sees_sla_dashboard(user) -> bool:
    """Managers and admins watch the SLA dashboard."""
    return user.is_authenticated and (user.is_superuser or bool(role_names(user) & {MANAGER, ADMIN}))
