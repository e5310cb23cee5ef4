"""Who sees which tenant. Every list, count, search and detail in the console goes through here."""
from __future__ import annotations

from django.db.models import QuerySet

from companyos import roles

from .models import Tenant, TenantGroupObjectPermission, TenantUserObjectPermission

VIEW_TENANT = "view_tenant"


def visible_tenant_ids(user) -> list[int] | None:
    """The ids of the tenants `user` may see, or None when they see every tenant.

    Managers, admins and SREs see all tenants by an explicit role rule; everybody else only the
    tenants granted to them or to one of their groups (guardian object permission). The model-wide
    `view_tenant` permission deliberately grants nothing here (guardian's list leak)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if roles.sees_all_tenants(user):
        return None
    cached = getattr(user, "_visible_tenant_ids", None)
    if cached is not None:
        return cached
    direct = TenantUserObjectPermission.objects.filter(user=user, permission__codename=VIEW_TENANT).values_list(
        "content_object_id", flat=True
    )
    via_groups = TenantGroupObjectPermission.objects.filter(
        group__user=user, permission__codename=VIEW_TENANT
    ).values_list("content_object_id", flat=True)
    ids = sorted(set(direct) | set(via_groups))
    user._visible_tenant_ids = ids
    return ids


def tenant_visible_to(user) -> QuerySet[Tenant]:
    ids = visible_tenant_ids(user)
    qs = Tenant.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)


def can_see_tenant(user, tenant_id: int) -> bool:
    ids = visible_tenant_ids(user)
    return ids is None or tenant_id in ids
