"""The Prometheus Alertmanager webhook receiver (payload version 4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..models import Resource, Tenant
from ..telemetry import Alert, Integration
from .batch import BatchTooLarge, IngestConflict, IngestError, _upsert, check_scope

ALERTMANAGER_NO_END = "0001-01-01T00:00:00Z"


@dataclass
class AlertmanagerResult:
    accepted: int
    skipped: list[dict]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "skipped": self.skipped,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "closed_earlier": self.closed,
        }


def _am_time(value) -> datetime | None:
    if not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or timezone.is_naive(parsed):
        return None
    return parsed


def _str_map(value) -> dict | None:
    if not isinstance(value, Mapping):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) and "\x00" not in k + v for k, v in value.items()):
        return None
    return dict(value)


def _nul_at(payload) -> str | None:
    """Where the first NUL character is in a JSON value (a key or a string), or None: PostgreSQL
    text cannot hold one, so a fingerprint or label with one would fail the write. Iterative: a
    deeply nested payload cannot exhaust the stack."""
    stack = [(payload, "payload")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif isinstance(value, Mapping):
            for key, inner in value.items():
                if "\x00" in key:
                    return f"a key of {path}"
                stack.append((inner, f"{path}.{key}"))
        elif isinstance(value, list):
            stack.extend((inner, f"{path}[{i}]") for i, inner in enumerate(value))
    return None


def alertmanager_receive(*, integration: Integration, payload) -> AlertmanagerResult:
    """Record an Alertmanager webhook (payload version 4).

    Each alert maps to a tenant by the integration's `alert_tenant_label` (the tenant's slug) and to
    a resource of that tenant by `alert_service_label` (its external id; unknown → no resource). Its
    source id is fingerprint@startsAt, so a re-sent notification changes nothing and the resolved
    notification finds the alert it closes. Firing alerts have no end (Alertmanager's
    0001-01-01T00:00:00Z). A firing row of the same fingerprint that started earlier is closed too:
    the same label set cannot fire twice at once, so its resolved notification was lost.

    Alerts that cannot be placed (no or unknown tenant label, malformed fields) are skipped and
    reported, not refused: Alertmanager would retry the whole group forever. An alert for an existing
    tenant that is not one of the integration's refuses the whole notification (OutOfScope, 403,
    nothing written; Alertmanager does not retry a 4xx and logs it).
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("alerts"), list):
        raise IngestError(
            'Expected an Alertmanager webhook payload: a JSON object with "version": "4" and an "alerts" list.'
        )
    if (where := _nul_at(payload)) is not None:
        raise IngestError(f"A NUL character (\\u0000) at {where}: no alert can hold one. Nothing was written.")
    if str(payload.get("version", "4")) != "4":
        raise IngestError(
            f"Unsupported Alertmanager payload version {payload.get('version')!r}; this receiver reads version 4."
        )
    alerts = payload["alerts"]
    if len(alerts) > settings.TELEMETRY_MAX_BATCH:
        raise BatchTooLarge(
            f"{len(alerts):,} alerts; the limit is {settings.TELEMETRY_MAX_BATCH:,}. "
            "Set max_alerts in the receiver's webhook_config."
        )

    tenant_label, service_label = integration.alert_tenant_label, integration.alert_service_label
    skipped, parsed = [], []
    for alert in alerts:
        fingerprint = alert.get("fingerprint") if isinstance(alert, Mapping) else None
        reason = None
        if not isinstance(alert, Mapping):
            reason = "not a JSON object"
        elif not isinstance(fingerprint, str) or not fingerprint or len(fingerprint) > 100:
            reason = "no fingerprint"
        elif (labels := _str_map(alert.get("labels"))) is None:
            reason = "labels must be an object of strings"
        elif (annotations := _str_map(alert.get("annotations", {}))) is None:
            reason = "annotations must be an object of strings"
        elif (starts_at := _am_time(alert.get("startsAt"))) is None:
            reason = "startsAt is not an RFC 3339 time"
        elif alert.get("status") not in (Alert.Status.FIRING, Alert.Status.RESOLVED):
            reason = "status must be firing or resolved"
        elif not labels.get(tenant_label):
            reason = f"no {tenant_label!r} label"
        if reason:
            skipped.append({"fingerprint": fingerprint if isinstance(fingerprint, str) else None, "reason": reason})
            continue
        parsed.append((alert, fingerprint, labels, annotations, starts_at))

    slugs = {labels[tenant_label] for _, _, labels, _, _ in parsed}
    tenant_ids = dict(Tenant.objects.filter(slug__in=slugs).values_list("slug", "id")) if slugs else {}
    check_scope(integration, tenant_ids)  # an alert for another tenant refuses the notification (403)
    services = {(tenant_ids.get(labels[tenant_label]), labels.get(service_label)) for _, _, labels, _, _ in parsed}
    services = {pair for pair in services if None not in pair}
    resource_ids = {}
    if services:
        found = Resource.objects.filter(
            tenant_id__in={t for t, _ in services}, external_id__in={e for _, e in services}
        )
        resource_ids = {(t, e): pk for t, e, pk in found.values_list("tenant_id", "external_id", "id")}

    rows, seen = [], set()
    for alert, fingerprint, labels, annotations, starts_at in parsed:
        tenant_id = tenant_ids.get(labels[tenant_label])
        if tenant_id is None:
            skipped.append(
                {
                    "fingerprint": fingerprint,
                    "reason": f"unknown tenant {labels[tenant_label]!r} ({tenant_label!r} label)",
                }
            )
            continue
        source_id = f"{fingerprint}@{starts_at.astimezone(UTC).isoformat()}"
        if source_id in seen:
            skipped.append({"fingerprint": fingerprint, "reason": "sent twice in this notification"})
            continue
        seen.add(source_id)
        resolved = alert["status"] == Alert.Status.RESOLVED
        ends_at = _am_time(alert.get("endsAt")) if resolved else None
        rows.append(
            {
                "source_id": source_id,
                "tenant_id": tenant_id,
                "resource_id": resource_ids.get((tenant_id, labels.get(service_label))),
                "name": (labels.get("alertname") or "unnamed alert")[:200],
                "severity": (labels.get("severity") or "warning")[:20],
                "status": alert["status"],
                "summary": annotations.get("summary") or annotations.get("description") or "",
                "fingerprint": fingerprint,
                "labels": labels,
                "annotations": annotations,
                "starts_at": starts_at,
                "ends_at": ends_at if resolved else None,
            }
        )

    result = AlertmanagerResult(accepted=len(rows), skipped=skipped)
    if rows:
        try:
            with transaction.atomic():
                upserted = _upsert(Alert, integration=integration, rows=rows)
                result.closed = _close_superseded(integration, rows)
        except IntegrityError:
            raise IngestConflict(
                "A concurrent notification wrote the same alerts; nothing was written. Alertmanager will retry."
            ) from None
        result.created, result.updated, result.unchanged = upserted.created, upserted.updated, upserted.unchanged
    return result


def _close_superseded(integration: Integration, rows: list[dict]) -> int:
    """Close firing rows of a fingerprint that started before its newest row (stored or just sent,
    in whatever order the notifications came): the same label set cannot fire twice at once, so
    the older one ended, no later than the newer one started. Returns how many were closed."""
    fingerprints = {row["fingerprint"] for row in rows}
    mine = Alert.objects.filter(integration=integration, fingerprint__in=fingerprints)
    latest = dict(mine.values("fingerprint").annotate(latest=Max("starts_at")).values_list("fingerprint", "latest"))
    closed = 0
    for pk, fingerprint, starts_at in mine.filter(status=Alert.Status.FIRING).values_list(
        "pk", "fingerprint", "starts_at"
    ):
        if starts_at < latest[fingerprint]:
            closed += Alert.objects.filter(pk=pk, status=Alert.Status.FIRING).update(
                status=Alert.Status.RESOLVED, ends_at=latest[fingerprint], received_at=timezone.now()
            )
    return closed
