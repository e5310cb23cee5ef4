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


# --- signals

from dataclasses import dataclass  # noqa: E402  (kept with the section it serves)


@dataclass(frozen=True)
class TenantSignals:
    """What a tenant's telemetry says at one instant (read by a case's context capture): the latest
    SLI per name of the last two days, the overall health they add up to, the firing alerts (newest
    first, at most 20, resource loaded) and the deployments of the last seven days (at most 10)."""

    latest_slis: dict  # name -> SLI
    health: str  # "red" | "amber" | "green", else the tenant's own health when it has no SLIs
    firing_alerts: tuple
    deployments: tuple

    @property
    def red_slis(self) -> list[str]:
        return [name for name, sli in self.latest_slis.items() if sli.health == "red"]

    @property
    def amber_slis(self) -> list[str]:
        return [name for name, sli in self.latest_slis.items() if sli.health == "amber"]


def tenant_signals(tenant: Tenant, now) -> TenantSignals:
    from datetime import timedelta

    from .models import SLI, Alert, Deployment

    firing = tuple(Alert.objects.filter(tenant=tenant, status=Alert.Status.FIRING).select_related("resource").order_by("-starts_at")[:20])
    latest_slis: dict = {}
    for sli in SLI.objects.filter(tenant=tenant, observed_at__gte=now - timedelta(days=2)).order_by("name", "-observed_at")[:200]:
        latest_slis.setdefault(sli.name, sli)
    deployments = tuple(
        Deployment.objects.filter(tenant=tenant, deployed_at__gte=now - timedelta(days=7)).select_related("resource").order_by("-deployed_at")[:10]
    )
    healths = {sli.health for sli in latest_slis.values()}
    health = "red" if "red" in healths else "amber" if "amber" in healths else ("green" if latest_slis else tenant.health)
    return TenantSignals(latest_slis=latest_slis, health=health, firing_alerts=firing, deployments=deployments)
