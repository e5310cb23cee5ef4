"""Sharing a trace bundle's report outside (seed 004 "encryption requirements when sharing artifacts
externally"): only through an expiring, signed link (`django.core.signing`, salted, with the bundle,
who made it and until when), audited when made and each time it is opened. The link shows the report
(masked findings only), never the bundle's bytes, the case or the customer."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.utils import timezone

from cases import services as case_services
from companyos import audit

from .models import BundleStatus, TraceBundle

SALT = "runbooks.diagnostics.share"
MAX_DAYS = 30


class ShareRefused(Exception):
    pass


def share_link_create(*, bundle_id: int, actor, days: int = 7) -> tuple[str, object]:
    if not 1 <= days <= MAX_DAYS:
        raise ShareRefused(f"A shared link lasts 1 to {MAX_DAYS} days.")
    with transaction.atomic():
        bundle = TraceBundle.objects.select_for_update().get(pk=bundle_id)
        case_services.case_lock(case_id=bundle.case_id, actor=actor)
        if bundle.status != BundleStatus.OK or bundle.purged_at:
            raise ShareRefused("Only the report of a valid, redacted bundle that is still kept can be shared.")
        expires = timezone.now() + timedelta(days=days)
        token = signing.dumps({"b": bundle.pk, "u": actor.pk, "e": int(expires.timestamp())}, salt=SALT, compress=True)
        audit.log_access(bundle, view="trace bundle report shared", extra={"expires": expires.isoformat()})
        case_services.case_record_event(
            case_id=bundle.case_id,
            actor=actor,
            body=f"A signed link to the report of {bundle.name} was made, valid until {expires:%Y-%m-%d %H:%M} UTC.",
            data={"trace_bundle": bundle.pk, "shared_until": expires.isoformat()},
        )
    return token, expires


def share_link_read(token: str) -> TraceBundle | None:
    """The bundle a link names while it is valid (signature, expiry, still kept), else None."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=timedelta(days=MAX_DAYS + 1))
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("e", 0) < timezone.now().timestamp():
        return None
    bundle = TraceBundle.objects.select_related("case").filter(pk=payload.get("b")).first()
    if bundle is None or bundle.status != BundleStatus.OK or bundle.purged_at:
        return None
    return bundle
