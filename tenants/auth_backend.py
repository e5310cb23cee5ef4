"""The console's authentication backend: Django's ModelBackend, whose `get_user` (run by
AuthenticationMiddleware on every request) reads in ONE query what every page needs about the
signed-in user: the user, their profile, their role names and the ids of the tenants granted to
them or their groups, or by a temporary elevated access in force (tenants.access). It primes the
per-request caches that `companyos.roles.role_names` and `tenants.selectors.visible_tenant_ids`
read (`_role_names`, `_visible_tenant_ids`), so a page asks no more (issue 10: four queries were
one). Fresh on every request: nothing is cached across requests.

On SQLite (the embedded default) the arrays are read with the same subqueries, one query each.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone

from companyos.db import PreparedQuery

from .access import active
from .models import TenantGroupObjectPermission, TenantUserObjectPermission
from .selectors import VIEW_TENANT

SENTINEL_USER = -7340021
SENTINEL_NOW = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)


def _user_query(pk, now):
    from django.contrib.auth import get_user_model

    direct = TenantUserObjectPermission.objects.filter(user_id=OuterRef("pk"), permission__codename=VIEW_TENANT).values(
        "content_object_id"
    )
    via_groups = TenantGroupObjectPermission.objects.filter(
        group__user=OuterRef("pk"), permission__codename=VIEW_TENANT
    ).values("content_object_id")
    temporary = active(now).filter(user_id=OuterRef("pk")).values("tenant_id")  # tenants.access, unexpired
    return (
        get_user_model()
        ._default_manager.filter(pk=pk)
        .select_related("profile")
        .annotate(
            _roles=ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name")),
            _direct=ArraySubquery(direct),
            _via_groups=ArraySubquery(via_groups),
            _temporary=ArraySubquery(temporary),
        )
        .order_by()[:1]
    )


# Built and compiled once per thread: the user is read on every request (companyos.db.PreparedQuery).
USER_QUERY = PreparedQuery(_user_query, pk=SENTINEL_USER, now=SENTINEL_NOW)


class ConsoleBackend(ModelBackend):
    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            UserModel = self._user_model()
            user = UserModel._default_manager.filter(pk=user_id).select_related("profile").first()
            return user if user is not None and self.user_can_authenticate(user) else None
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        rows = USER_QUERY.rows(pk=pk, now=timezone.now())
        user = rows[0] if rows else None
        if user is None or not self.user_can_authenticate(user):
            return None
        user._role_names = set(user._roles)
        user._visible_tenant_ids = sorted(set(user._direct) | set(user._via_groups) | set(user._temporary))
        return user

    def _user_model(self):
        from django.contrib.auth import get_user_model

        return get_user_model()
