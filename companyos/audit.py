"""The audit trail: every change (django-auditlog model registration), every view of case or
tenant data (access entries written here), every denied attempt (an access entry marked denied).

Entries cannot be edited or deleted from the application: the admin is read-only and, on PostgreSQL,
the application's role holds only INSERT and SELECT on the log table, whose triggers refuse UPDATE and
DELETE, stamp each entry with the database's time and a hash of its content (companyos migrations
0003, 0006; seals and verification in companyos.audit_trail).

Entries refer to people by id: personal fields registered with `mask_fields=PERSONAL_MASK` are
recorded as changed-with-a-keyed-hash (`personal_digest`), the entry's object_repr of a person
(`register_person`) is "<model> <id>", and the actor's e-mail address is not stored. Erasing a
requester therefore never has to rewrite an entry.
"""

from __future__ import annotations

import hashlib
import hmac

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Now
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

# For auditlog.register(..., mask_fields=[...], mask_callable=PERSONAL_MASK)
PERSONAL_MASK = "companyos.audit.personal_digest"
_PERSON_MODELS: set[tuple[str, str]] = set()


def audit_key() -> bytes:
    """The key of the personal-field digests and the seals' chain: AUDIT_SEAL_KEY, else derived from
    SECRET_KEY. Never stored in the database."""
    secret = settings.AUDIT_SEAL_KEY or f"companyos.audit:{settings.SECRET_KEY}"
    return hashlib.sha256(secret.encode()).digest()


def personal_digest(value: str) -> str:
    """django-auditlog's mask callable for personal fields: "changed" and a keyed hash instead of the
    value (two entries with the same digest had the same value; the value cannot be read back)."""
    if value in ("", "None"):
        return value
    digest = hmac.new(audit_key(), value.encode(), hashlib.sha256).hexdigest()[:24]
    return f"changed (hmac {digest})"


def register_person(model: type[models.Model]) -> None:
    """Entries about `model`'s rows name them by id only (object_repr "requester 12")."""
    _PERSON_MODELS.add((model._meta.app_label, model._meta.model_name))


@receiver(pre_save, sender=LogEntry, dispatch_uid="companyos.audit.stamp")
def _stamp(sender, instance: LogEntry, raw=False, **kwargs):
    if raw or not instance._state.adding:
        return
    # The time is the database's (a trigger on PostgreSQL refuses or overwrites any other), sent as
    # the database's own clock so the row lands in the right monthly partition.
    instance.timestamp = Now()
    instance.actor_email = None
    ct = ContentType.objects.get_for_id(instance.content_type_id) if instance.content_type_id else None
    if ct is not None and (ct.app_label, ct.model) in _PERSON_MODELS:
        instance.object_repr = f"{ct.model} {instance.object_pk}"


@receiver(post_save, sender=LogEntry, dispatch_uid="companyos.audit.stamped")
def _stamped(sender, instance: LogEntry, created=False, raw=False, **kwargs):
    if created and not raw:
        instance.__dict__.pop("timestamp", None)  # deferred: read back from the database when used


register_person(get_user_model())


def log_access(instance: models.Model, *, view: str = "", extra: dict | None = None) -> LogEntry | None:
    """Record that the current actor viewed `instance`. Inside a request, AuditlogMiddleware supplies
    actor, remote address and correlation id; outside one, wrap the call in auditlog's set_actor."""
    data = {"view": view} if view else {}
    if extra:
        data.update(extra)
    return LogEntry.objects.log_create(
        instance, force_log=True, action=LogEntry.Action.ACCESS, changes=None, additional_data=data or None
    )


def log_accesses(items: list[tuple[models.Model, str]]) -> list[LogEntry]:
    """Record several views at once, in one INSERT: `[(instance, view), …]` (a page that shows a
    case and its tenant). Each entry is what `log_access` writes — the same pre_save and post_save
    signals run for each (actor, address and correlation id from the request; the database's time;
    the access guard's count), only the round trips are one."""
    entries = []
    for instance, view in items:
        pk = instance.pk
        entry = LogEntry(
            content_type=ContentType.objects.get_for_model(instance),
            object_pk=str(pk),
            object_id=pk if isinstance(pk, int) else None,
            object_repr=str(instance)[:255] if str(instance) else "",
            action=LogEntry.Action.ACCESS,
            changes=None,
            additional_data={"view": view} if view else None,
            cid=get_cid(),
        )
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using="default", update_fields=None)
        entries.append(entry)
    LogEntry.objects.bulk_create(entries)
    for entry in entries:
        post_save.send(sender=LogEntry, instance=entry, created=True, raw=False, using="default", update_fields=None)
    return entries


def log_denied(model: type[models.Model], pk, *, path: str = "", reason: str = "not visible") -> LogEntry:
    """Record an attempt to reach an object the actor may not see (answered with 404)."""
    pk_str = str(pk)[:255]
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=pk_str,
        object_id=int(pk_str) if pk_str.isdigit() and int(pk_str) <= BIGINT_MAX else None,
        object_repr=f"{model._meta.verbose_name} {pk_str}"[:255],
        action=LogEntry.Action.ACCESS,
        additional_data={"denied": True, "reason": reason, "path": path},
        cid=get_cid(),  # log_create sets it for the other entries; a denial belongs to the same request
    )


BIGINT_MAX = 2**63 - 1  # LogEntry.object_id is a bigint: a larger id from a URL is kept in object_pk only


def log_account_event(
    event: str,
    *,
    user=None,
    actor=None,
    remote_addr: str | None = None,
    denied: bool = False,
    extra: dict | None = None,
) -> LogEntry:
    """Record a sign-in (`login`), a failed one (`login_failed`, a denial), a sign-out (`logout`)
    or an unlock (`login_unlocked`) on the user it concerns, by id (`user` None: a username that
    names nobody). `actor` is the user for their own sign-in and sign-out, the admin for an unlock;
    for a failure it is left to the request (nobody signed in: whoever typed the password is not
    known to be that user)."""
    from django.contrib.auth import get_user_model

    data = {"event": event, **(extra or {})}
    if denied:
        data["denied"] = True
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_pk=str(user.pk) if user is not None else "unknown",
        object_id=user.pk if user is not None else None,
        object_repr=f"user {user.pk}" if user is not None else "unknown user",
        action=LogEntry.Action.ACCESS,
        additional_data=data,
        actor=actor,
        remote_addr=remote_addr,
        cid=get_cid(),
    )


def is_denied(entry: LogEntry) -> bool:
    return bool(entry.additional_data and entry.additional_data.get("denied"))


def log_list_access(
    model: type[models.Model], pks, *, view: str, query: str = "", extra: dict | None = None
) -> LogEntry:
    """Record that the current actor saw a list of objects (one entry per list view, naming every
    object shown), so "who saw this case" includes the queue pages it appeared on without writing a
    row per case per page load."""
    pks = [int(pk) for pk in pks]
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="list",
        object_repr=f"{view}: {len(pks)} {model._meta.verbose_name_plural}",
        action=LogEntry.Action.ACCESS,
        additional_data={"view": view, "query": query[:500], "ids": pks, **(extra or {})},
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
