"""Temporary elevated access (seed 003 "grant temporary elevated access following least privilege";
DESIGN.md "Temporary elevated access is granted with an expiry, least privilege, and audited").

A grant lets one user see one tenant (view only: the same scope as a guardian `view_tenant` grant,
nothing else) until `expires_at`. It is a second source of `visible_tenant_ids` — read with the
expiry in the query (`active()`), so access ends at the expiry on every read path (the case page,
the queue, the tenant console, the exports, the API) whether or not beat has run yet. Beat's sweep
(`temporary_access_sweep`) then marks the expired grants revoked, once each (`revoked_at IS NULL` in
the UPDATE, SKIP LOCKED), and audits it. Granting and revoking are audited (django-auditlog on the
row, and the grant's reason and grantor on the tenant console). Imported by tenants.models, so Django
sees the model as the `tenants` app's."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from companyos import roles

MAX_HOURS = 24  # a temporary grant lasts at most this long (renew by granting again)


class TemporaryAccess(models.Model):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="temporary_access")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where it came from (an SRE escalation, by hand): shown on the console, kept for the audit.
    source = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "expires_at"], name="tempaccess_user_idx", condition=Q(revoked_at__isnull=True)
            ),
            models.Index(fields=["expires_at"], name="tempaccess_due_idx", condition=Q(revoked_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.user} may see {self.tenant} until {self.expires_at:%Y-%m-%d %H:%M}"


def active(now: datetime | None = None):
    """The grants in force at `now`: not revoked, not expired."""
    return TemporaryAccess.objects.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class AccessError(Exception):
    """A refused grant; `str(error)` is the message the user sees."""


@transaction.atomic
def temporary_access_grant(*, tenant, user, actor, hours: float, reason: str, source: str = "") -> TemporaryAccess:
    """Let `user` see `tenant` for `hours` (at most MAX_HOURS). The grantor must see the tenant
    themselves; the reason is required. A user who already sees the tenant needs no grant."""
    from .selectors import can_see_tenant, visible_tenant_ids

    if actor is None:
        raise TypeError("a grant needs an actor; system work passes companyos.roles.system_user()")
    if not (roles.is_system(actor) or can_see_tenant(actor, tenant.pk)):
        raise AccessError("You cannot grant access to a tenant you do not see.")
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise AccessError("Say why the access is needed.")
    try:
        hours = float(hours)
    except (TypeError, ValueError):
        raise AccessError("Give the duration in hours.") from None
    if not 0 < hours <= MAX_HOURS:
        raise AccessError(f"Temporary access lasts more than 0 and at most {MAX_HOURS} hours.")
    if not user.is_active:
        raise AccessError(f"{user.get_username()} is not an active user.")
    user._visible_tenant_ids = None  # re-read: not the cached list of an earlier grant
    if visible_tenant_ids(user) is None or tenant.pk in _permanent_ids(user):
        raise AccessError(f"{user.get_full_name() or user.get_username()} already sees {tenant.name}.")
    now = timezone.now()
    return TemporaryAccess.objects.create(
        tenant=tenant,
        user=user,
        granted_by=actor,
        reason=reason,
        granted_at=now,
        expires_at=now + timedelta(hours=hours),
        source=source[:120],
    )


def _permanent_ids(user) -> set[int]:
    from .models import TenantGroupObjectPermission, TenantUserObjectPermission
    from .selectors import VIEW_TENANT

    direct = TenantUserObjectPermission.objects.filter(user=user, permission__codename=VIEW_TENANT)
    groups = TenantGroupObjectPermission.objects.filter(group__user=user, permission__codename=VIEW_TENANT)
    return set(direct.values_list("content_object_id", flat=True)) | set(
        groups.values_list("content_object_id", flat=True)
    )


@transaction.atomic
def temporary_access_revoke(*, access_id: int, actor) -> TemporaryAccess:
    grant = TemporaryAccess.objects.select_for_update().get(pk=access_id)
    if grant.revoked_at is None:
        grant.revoked_at, grant.revoked_by = timezone.now(), actor
        grant.save(update_fields=["revoked_at", "revoked_by"])
    return grant


def temporary_access_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: mark the expired grants revoked, each once (the revoked_at IS NULL filter; SKIP LOCKED),
    by the system user — django-auditlog records each change. Returns how many."""
    now = now or timezone.now()
    system = roles.system_user()
    done = 0
    with roles.acting_as(system), transaction.atomic():
        due = list(
            TemporaryAccess.objects.select_for_update(skip_locked=True)
            .filter(revoked_at__isnull=True, expires_at__lte=now)
            .order_by("expires_at")[:limit]
        )
        for grant in due:
            grant.revoked_at, grant.revoked_by = now, system
            grant.save(update_fields=["revoked_at", "revoked_by"])
            done += 1
    return done


def tenant_grants(tenant, now: datetime | None = None) -> list[TemporaryAccess]:
    """The grants in force on `tenant` (the tenant console says who may see it, until when, why, by whom)."""
    return list(active(now).filter(tenant=tenant).select_related("user", "granted_by").order_by("expires_at"))
