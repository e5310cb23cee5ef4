"""Batches of telemetry items: validated whole, then upserted on (integration, source_id).

A batch is validated before anything is written: every item through its kind's serializer, then
every tenant slug and resource external id resolved in one query each. Any problem anywhere raises
`InvalidBatch` listing all of them (index, field, message) and nothing is written. A valid batch is
upserted in one transaction: one query loads the rows already stored under those source ids, an item
identical to its stored row is left alone ("unchanged": no write at all), new and changed items go
in one INSERT … ON CONFLICT DO UPDATE.

Telemetry never creates tenants: an unknown tenant slug is an error. An integration writes only for
its own tenants (`Integration.tenants`): an item naming any other tenant refuses the whole request
(`OutOfScope`, 403, naming them), before any item is looked at further. Resources (`kind=resources`)
are upserted by (tenant, external_id) and saved one by one, because Resource is audited
(django-auditlog) and bulk writes would bypass the audit trail; they are few.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from ..models import Resource, Tenant
from ..telemetry import TELEMETRY_MODELS, Integration, ResourceDependency
from .schema import KINDS, RESOURCES, SERIALIZERS

# --- errors ---------------------------------------------------------------------------------------------


class IngestError(Exception):
    """A request the API refuses as a whole; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


class BatchTooLarge(IngestError):
    status = 413


class UnknownKind(IngestError):
    status = 404


class IngestConflict(IngestError):
    """A concurrent write took a unique value this batch needed; retrying the batch is safe."""

    status = 409


class OutOfScope(IngestError):
    """Items for tenants outside the integration's own (`Integration.tenants`): the whole request is
    refused and nothing is written. `tenants` lists the slugs, sorted."""

    status = 403

    def __init__(self, integration: Integration, slugs: list[str]):
        self.tenants = slugs
        named = ", ".join(repr(slug) for slug in slugs)
        super().__init__(
            f"Integration {integration.name!r} may not send telemetry for tenant{'s' if len(slugs) != 1 else ''} "
            f"{named}; nothing was written. An admin adds tenants on the integration's page."
        )


def check_scope(integration: Integration, tenant_ids: dict[str, int]) -> None:
    """Refuse (OutOfScope) when any tenant the request names (slug → id, existing tenants only) is not
    one of the integration's. One query."""
    if not tenant_ids:
        return
    allowed = set(integration.tenants.filter(pk__in=tenant_ids.values()).values_list("pk", flat=True))
    foreign = sorted(slug for slug, pk in tenant_ids.items() if pk not in allowed)
    if foreign:
        raise OutOfScope(integration, foreign)


class InvalidBatch(IngestError):
    def __init__(self, errors: list[dict], total: int):
        self.errors = errors
        bad = len({e["index"] for e in errors})
        super().__init__(f"{bad} of {total} item{'s' if total != 1 else ''} invalid; nothing was written.")


@dataclass
class IngestResult:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {"kind": self.kind, "created": self.created, "updated": self.updated, "unchanged": self.unchanged}


# --- batch ingestion ------------------------------------------------------------------------------------


def _flatten(detail, prefix: str = "") -> list[tuple[str, str]]:
    """DRF's nested error detail as (dotted field, message) pairs; "item" for the item as a whole."""
    if isinstance(detail, dict):
        out = []
        for key, inner in detail.items():
            key = "item" if key == api_settings.NON_FIELD_ERRORS_KEY else key
            out += _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(detail, list):
        out = []
        for inner in detail:
            out += _flatten(inner, prefix)
        return out
    return [(prefix or "item", str(detail))]


def items_of(payload) -> list:
    """`{"items": [...]}` or a bare list."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, Mapping) and isinstance(payload.get("items"), list) and set(payload) == {"items"}:
        return payload["items"]
    raise IngestError(
        'Send a JSON object {"items": [...]} (or a bare JSON list of items) with Content-Type: application/json.'
    )


def _check_size(items: list) -> None:
    limit = settings.TELEMETRY_MAX_BATCH
    if len(items) > limit:
        raise BatchTooLarge(
            f"{len(items):,} items in one batch; the limit is {limit:,}. Split it into smaller batches."
        )
    if not items:
        raise IngestError("The batch has no items.")


def ingest_batch(*, integration: Integration, kind: str, payload) -> IngestResult:
    """Validate a whole batch of one kind and upsert it: all of it, or (InvalidBatch) none of it."""
    if kind not in SERIALIZERS:
        raise UnknownKind(f"Unknown kind {kind!r}. The kinds are: {', '.join(KINDS)}.")
    items = items_of(payload)
    _check_size(items)
    rows = _validate(kind, items, integration)
    try:
        with transaction.atomic():
            if kind == RESOURCES:
                return _upsert_resources(rows)
            return _upsert(TELEMETRY_MODELS[kind], integration=integration, rows=rows, kind=kind)
    except IntegrityError as exc:
        raise IngestConflict(
            f"Another write got there first ({exc.__class__.__name__}); nothing was written. Re-send the batch."
        ) from None


def _validate(kind: str, items: list, integration: Integration) -> list[dict]:
    serializer = SERIALIZERS[kind]()
    refs = serializer.resource_refs
    errors: dict[int, dict[str, list[str]]] = {}
    validated: dict[int, dict] = {}

    def add(i: int, field: str, message: str):
        errors.setdefault(i, {}).setdefault(field, []).append(message)

    for i, item in enumerate(items):
        try:
            validated[i] = serializer.run_validation(item)
        except ValidationError as exc:
            for field, message in _flatten(exc.detail):
                add(i, field, message)

    def raw(i: int, field: str):
        """A reference to resolve: validated if the item passed, else the raw value when it is usable."""
        if i in validated:
            return validated[i].get(field)
        value = items[i].get(field) if isinstance(items[i], Mapping) else None
        return value if isinstance(value, str) and field not in errors.get(i, {}) else None

    # Tenants: one query for every slug in the batch.
    slugs = {raw(i, "tenant") for i in range(len(items))} - {None}
    tenant_ids = dict(Tenant.objects.filter(slug__in=slugs).values_list("slug", "id")) if slugs else {}
    check_scope(integration, tenant_ids)  # before any item error: a foreign tenant refuses the request
    for i in range(len(items)):
        slug = raw(i, "tenant")
        if slug is not None and slug not in tenant_ids:
            add(
                i, "tenant", f"No tenant with slug {slug!r}. Telemetry never creates tenants: an admin adds them first."
            )

    # Resources: one query for every (tenant, external id) the batch names.
    wanted = {(tenant_ids.get(raw(i, "tenant")), raw(i, ref)) for i in range(len(items)) for ref in refs}
    wanted = {pair for pair in wanted if None not in pair}
    resource_ids = {}
    if wanted:
        found = Resource.objects.filter(tenant_id__in={t for t, _ in wanted}, external_id__in={e for _, e in wanted})
        resource_ids = {(t, e): pk for t, e, pk in found.values_list("tenant_id", "external_id", "id")}
    for i in range(len(items)):
        tenant_id = tenant_ids.get(raw(i, "tenant"))
        for ref in refs:
            external_id = raw(i, ref)
            if tenant_id is not None and external_id is not None and (tenant_id, external_id) not in resource_ids:
                add(
                    i,
                    ref,
                    f"No resource {external_id!r} for tenant {raw(i, 'tenant')!r}. "
                    "Send it to /api/v1/telemetry/resources/ first.",
                )

    # The same key twice in one batch is ambiguous: which one wins?
    seen: dict = {}
    for i, data in validated.items():
        key = (tenant_ids.get(data["tenant"]), data["external_id"]) if kind == RESOURCES else data["source_id"]
        if key in seen:
            field = "external_id" if kind == RESOURCES else "source_id"
            add(i, field, f"Also at index {seen[key]} of this batch: send each item once.")
        else:
            seen[key] = i

    rows = []
    if not errors:
        for i, data in sorted(validated.items()):
            row = dict(data)
            row["tenant_id"] = tenant_ids[row.pop("tenant")]
            for ref in refs:
                external_id = row.pop(ref)
                row[f"{ref}_id"] = None if external_id is None else resource_ids[(row["tenant_id"], external_id)]
            row["_index"] = i
            rows.append(row)
        if kind == "dependencies":
            for i, message in _edge_conflicts(rows, integration):
                add(i, "depends_on", message)
    if errors:
        raise InvalidBatch(
            [
                {"index": i, "field": field, "message": message}
                for i in sorted(errors)
                for field, messages in errors[i].items()
                for message in messages
            ],
            total=len(items),
        )
    return rows


def _edge_conflicts(rows: list[dict], integration: Integration) -> list[tuple[int, str]]:
    """A dependency edge is recorded once (unique (resource, depends_on)), under one source_id."""
    out, seen = [], {}
    for row in rows:
        edge = (row["resource_id"], row["depends_on_id"])
        if edge in seen:
            out.append((row["_index"], f"The same edge is at index {seen[edge]} of this batch."))
        seen.setdefault(edge, row["_index"])
    existing = ResourceDependency.objects.filter(
        resource_id__in={r for r, _ in seen}, depends_on_id__in={d for _, d in seen}
    ).values_list("resource_id", "depends_on_id", "integration_id", "source_id")
    owner = {(r, d): (integration_id, sid) for r, d, integration_id, sid in existing}
    for row in rows:
        edge = (row["resource_id"], row["depends_on_id"])
        if edge in owner and owner[edge] != (integration.pk, row["source_id"]):
            out.append(
                (
                    row["_index"],
                    f"This edge is already recorded under source_id {owner[edge][1]!r}; re-send that one instead.",
                )
            )
    return out


def _compared_fields(model) -> list[str]:
    skip = {"id", "integration", "source_id", "received_at"}
    return [f.attname for f in model._meta.concrete_fields if f.name not in skip]


def _upsert(
    model, *, integration: Integration, rows: list[dict], kind: str = "", now: datetime | None = None
) -> IngestResult:
    """Upsert rows (dicts of attnames plus source_id) on (integration, source_id): unchanged rows are
    not written; new and changed rows go in one INSERT … ON CONFLICT DO UPDATE."""
    now = now or timezone.now()
    fields = _compared_fields(model)
    stored = {
        values[0]: values[1:]
        for values in model.objects.filter(
            integration=integration, source_id__in=[r["source_id"] for r in rows]
        ).values_list("source_id", *fields)
    }
    defaults = {f.attname: f.get_default() for f in model._meta.concrete_fields if f.attname in fields}
    result = IngestResult(kind=kind or model._meta.model_name)
    write = []
    for row in rows:
        values = tuple(row[f] if f in row else defaults[f] for f in fields)
        old = stored.get(row["source_id"])
        if old is not None and old == values:
            result.unchanged += 1
            continue
        if old is None:
            result.created += 1
        else:
            result.updated += 1
        write.append(
            model(integration=integration, source_id=row["source_id"], received_at=now, **dict(zip(fields, values)))
        )
    if write:
        model.objects.bulk_create(
            write,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["integration", "source_id"],
            update_fields=[*fields, "received_at"],
        )
    return result


RESOURCE_FIELDS = ("kind", "region", "version", "config_snapshot", "health")


def _upsert_resources(rows: list[dict]) -> IngestResult:
    result = IngestResult(kind=RESOURCES)
    keys = {(r["tenant_id"], r["external_id"]) for r in rows}
    stored = {
        (res.tenant_id, res.external_id): res
        for res in Resource.objects.filter(
            tenant_id__in={t for t, _ in keys}, external_id__in={e for _, e in keys}
        ).select_for_update()
    }
    for row in rows:
        resource = stored.get((row["tenant_id"], row["external_id"]))
        given = {f: row[f] for f in RESOURCE_FIELDS if f in row}
        if resource is None:
            Resource.objects.create(tenant_id=row["tenant_id"], external_id=row["external_id"], **given)
            result.created += 1
        elif any(getattr(resource, f) != v for f, v in given.items()):
            for f, v in given.items():
                setattr(resource, f, v)
            resource.save(update_fields=list(given))
            result.updated += 1
        else:
            result.unchanged += 1
    return result
