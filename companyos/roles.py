"""Roles are Django groups, created by a data migration. Visibility rules read them from here."""

from contextlib import contextmanager
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


# --- the system actor ---------------------------------------------------------------------------------

SYSTEM_USERNAME = "system"
# The triage copilot's own named actor (runbooks/copilot): its auto-applied changes say "copilot" on
# the timeline and in the audit log, not "system". A system actor like `system_user()`.
COPILOT_USERNAME = "copilot"
SYSTEM_USERNAMES = frozenset({SYSTEM_USERNAME, COPILOT_USERNAME})
_system_users: dict[str, object] = {}


def _named_system_user(username: str):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    cached = _system_users.get(username)
    if cached is not None and User.objects.filter(pk=cached.pk, username=username).exists():
        return cached
    user, created = User.objects.get_or_create(
        username=username, defaults={"is_active": False, "first_name": "", "last_name": "", "email": ""}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    _system_users[username] = user
    return user


def system_user():
    """The named actor for work nobody clicked: SLA sweeps and their escalation actions, context
    capture when a case opens, customer intake through a channel. Inactive, no usable password, no
    tenants (it cannot log in); `is_system` is what grants it every tenant in the case services.

    Created on first use and cached per process; the cache is checked against the table on every
    call (one cheap query), so a test database truncated between tests gets a fresh row."""
    return _named_system_user(SYSTEM_USERNAME)


def copilot_user():
    """The triage copilot as a named system actor (its auto-applied classifications)."""
    return _named_system_user(COPILOT_USERNAME)


def is_system(user) -> bool:
    """True for a system actor (no query: username, inactive, unusable password)."""
    return (
        user is not None
        and getattr(user, "username", None) in SYSTEM_USERNAMES
        and not user.is_active
        and not user.has_usable_password()
    )


@contextmanager
def acting_as(user):
    """Attribute the audit entries written inside the block to `user` (django-auditlog's actor),
    and restore the caller's actor afterwards. auditlog's own `set_actor` leaves the inner actor in
    its context variable when it exits, so inside a request (or an eager Celery task run from one)
    the request's actor would be lost for the rest of it."""
    from auditlog.context import auditlog_value, set_actor

    try:
        previous = auditlog_value.get()
    except LookupError:
        previous = None
    try:
        with set_actor(user):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


# --- admin-only views ----------------------------------------------------------------------------------


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
