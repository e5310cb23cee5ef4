"""Integrations and their tokens. Every write is atomic and takes `actor`; django-auditlog records it
(the request's AuditlogMiddleware supplies actor and address; outside a request wrap the call in
auditlog's `set_actor`). The token hash is excluded from the audit log; the raw token is returned
once and never stored."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Tenant
from ..telemetry import Integration

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class IntegrationError(Exception):
    """An integration change that cannot be made; the message says why."""


def _check_labels(tenant_label: str, service_label: str) -> None:
    for label in (tenant_label, service_label):
        if not LABEL_NAME.match(label or ""):
            raise IntegrationError(
                f"{label!r} is not a Prometheus label name (letters, digits and _, not starting with a digit)."
            )
    if tenant_label == service_label:
        raise IntegrationError("The tenant and the service label must differ.")


def _tenant_ids(tenant_ids: Iterable[int]) -> list[int]:
    """The given tenants (ids), checked to exist: an integration writes for at least one."""
    wanted = {int(pk) for pk in tenant_ids}
    if not wanted:
        raise IntegrationError("Choose the tenants it sends telemetry for: it may write for no other.")
    found = set(Tenant.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if missing := wanted - found:
        raise IntegrationError(f"No tenant with id {', '.join(map(str, sorted(missing)))}.")
    return sorted(found)


@transaction.atomic
def integration_create(
    *,
    name: str,
    actor,
    tenant_ids: Iterable[int],
    alert_tenant_label: str = "tenant",
    alert_service_label: str = "service",
) -> tuple[Integration, str]:
    """A new integration and its token, writing for `tenant_ids` only. The raw token is returned once
    and never stored."""
    name = name.strip()
    if not name:
        raise IntegrationError("Give the integration a name.")
    if Integration.objects.filter(name__iexact=name).exists():
        raise IntegrationError(f"An integration named {name!r} exists already.")
    _check_labels(alert_tenant_label, alert_service_label)
    tenants = _tenant_ids(tenant_ids)
    raw, prefix, digest = Integration.new_token()
    integration = Integration.objects.create(
        name=name,
        token_prefix=prefix,
        token_hash=digest,
        created_by=actor if getattr(actor, "pk", None) else None,
        alert_tenant_label=alert_tenant_label,
        alert_service_label=alert_service_label,
    )
    integration.tenants.set(tenants)
    return integration, raw


@transaction.atomic
def integration_update(
    *, integration_id: int, actor, alert_tenant_label: str, alert_service_label: str, tenant_ids: Iterable[int]
) -> Integration:
    """Change the Alertmanager label names and the tenants it may write for (telemetry already stored
    keeps its tenant and resource; a tenant taken out gets nothing new from it)."""
    integration = Integration.objects.select_for_update().get(pk=integration_id)
    _check_labels(alert_tenant_label, alert_service_label)
    tenants = _tenant_ids(tenant_ids)
    if (integration.alert_tenant_label, integration.alert_service_label) != (alert_tenant_label, alert_service_label):
        integration.alert_tenant_label, integration.alert_service_label = alert_tenant_label, alert_service_label
        integration.save(update_fields=["alert_tenant_label", "alert_service_label"])
    if set(integration.tenants.values_list("pk", flat=True)) != set(tenants):
        integration.tenants.set(tenants)  # django-auditlog records the m2m change
    return integration


@transaction.atomic
def integration_revoke(*, integration_id: int, actor) -> Integration:
    """Refuse the integration's token from now on. Its telemetry stays. Revoking twice is a no-op."""
    integration = Integration.objects.select_for_update().get(pk=integration_id)
    if integration.revoked_at is None:
        integration.revoked_at = timezone.now()
        integration.save(update_fields=["revoked_at"])
    return integration


@transaction.atomic
def integration_rotate_token(*, integration_id: int, actor) -> tuple[Integration, str]:
    """Replace an active integration's token (the old one stops working at once); returns the new raw token."""
    integration = Integration.objects.select_for_update().get(pk=integration_id)
    if integration.revoked_at is not None:
        raise IntegrationError("A revoked integration stays revoked: create a new one.")
    raw, integration.token_prefix, integration.token_hash = Integration.new_token()
    integration.save(update_fields=["token_prefix", "token_hash"])
    return integration, raw


# "Last used" is shown to the minute ("3 min ago"): one write a minute per integration is enough, and
# an integration sending a batch a second does not rewrite its own row a second time.
MARK_USED_EVERY = timedelta(minutes=1)


def integration_mark_used(*, integration_id: int, at: datetime | None = None) -> bool:
    """Record that the integration was used at `at` (now): its token authenticated an API call, or
    (the demo loader) it delivered rows. Never moves the time back, and skips the write when the
    stored time is less than MARK_USED_EVERY older. Not audited (as last_used_at is excluded from
    the log); returns whether the row was written."""
    at = at or timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=at - MARK_USED_EVERY)
    return bool(Integration.objects.filter(stale, pk=integration_id).update(last_used_at=at))
