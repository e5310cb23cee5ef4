"""The audit trail: every change (django-auditlog model registration), every view of case or
tenant data (access entries written here), every denied attempt (an access entry marked denied).

Entries cannot be edited or deleted from the application: the admin is read-only and, on
PostgreSQL, a trigger refuses UPDATE and DELETE on the log table (companyos migration 0002).
"""

from __future__ import annotations

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models


def log_access(instance: models.Model, *, view: str = "", extra: dict | None = None) -> LogEntry | None:
    """Record that the current actor viewed `instance`. Inside a request, AuditlogMiddleware supplies
    actor, remote address and correlation id; outside one, wrap the call in auditlog's set_actor."""
    data = {"view": view} if view else {}
    if extra:
        data.update(extra)
    return LogEntry.objects.log_create(
        instance, force_log=True, action=LogEntry.Action.ACCESS, changes=None, additional_data=data or None
    )


def log_denied(model: type[models.Model], pk, *, path: str = "", reason: str = "not visible") -> LogEntry:
    """Record an attempt to reach an object the actor may not see (answered with 404)."""
    pk_str = str(pk)
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=pk_str,
        object_id=int(pk) if pk_str.isdigit() else None,
        object_repr=f"{model._meta.verbose_name} {pk_str}",
        action=LogEntry.Action.ACCESS,
        additional_data={"denied": True, "reason": reason, "path": path},
        cid=get_cid(),  # log_create sets it for the other entries; a denial belongs to the same request
    )


def is_denied(entry: LogEntry) -> bool:
    return bool(entry.additional_data and entry.additional_data.get("denied"))


def log_list_access(model: type[models.Model], pks, *, view: str, query: str = "") -> LogEntry:
    """Record that the current actor saw a list of objects (one entry per list view, naming every
    object shown), so "who saw this case" includes the queue pages it appeared on without writing a
    row per case per page load."""
    pks = [int(pk) for pk in pks]
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="list",
        object_repr=f"{view}: {len(pks)} {model._meta.verbose_name_plural}",
        action=LogEntry.Action.ACCESS,
        additional_data={"view": view, "query": query[:500], "ids": pks},
        cid=get_cid(),
    )


# --- written by the access guard (companyos.access) when a view did not write its own -------------------


def log_unattributed_read(model: type[models.Model] | None, *, view: str, path: str, kwargs: dict) -> LogEntry:
    """A declared view showed something without saying what (a bug the guard caught in production):
    the entry names the view, the full path and the URL arguments, so the read is still on the trail."""
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model or LogEntry),
        object_pk="unattributed",
        object_repr=f"{view}: unattributed read",
        action=LogEntry.Action.ACCESS,
        additional_data={"view": view, "path": path[:500], "url_kwargs": {k: str(v) for k, v in kwargs.items()}},
        cid=get_cid(),
    )


def log_refused_view(view: str, *, path: str, reason: str) -> LogEntry:
    """A denial on a view that names no model (an exempt one): recorded under the view's name."""
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(LogEntry),
        object_pk=view[:255],
        object_repr=f"view {view}"[:255],
        action=LogEntry.Action.ACCESS,
        additional_data={"denied": True, "reason": reason, "path": path},
        cid=get_cid(),
    )
