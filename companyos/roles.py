"""Roles are Django groups, created by a data migration. Visibility rules read them from here."""
from functools import wraps

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from . import audit

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



def admin_required(model, *, reason: str, message: str, default_pk: str = "pages"):
    """View decorator: admins only. Anyone else gets 403 with `message`, and the attempt is written
    to the audit log as a denial on `model` (the `pk` from the URL, else `default_pk`) with `reason`."""
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not is_admin(request.user):
                audit.log_denied(model, kwargs.get("pk", default_pk), path=request.path, reason=reason)
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
