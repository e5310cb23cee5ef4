"""Erasure of a requester (issue 18, point 4: a customer's right to be forgotten), across the apps
that hold their data: the contact row (tenants), every case of theirs and every case they follow
(cases: subject, description and messages redacted, the attachments of their own messages deleted),
the e-mails we received from them (addresses, names and the original .eml gone). One transaction;
who erased whom and why is an `Erasure` row and an audit entry. Kept: the cases themselves, their
metrics and SLA history, and the audit trail, which records personal fields only as hashes and is
never rewritten — erased by reference, so its hash chain still verifies.
"""

from __future__ import annotations

from django.db import transaction

from companyos import audit
from tenants import services as tenant_services
from tenants.models import Requester

from . import services
from .erasure_models import Erasure
from .models import Case


class ErasureError(Exception):
    """An erasure that cannot be done; the message says why."""


def requester_erase(*, requester_id: int, actor, reason: str) -> Erasure:
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ErasureError("Say why (the request, its reference): it is recorded with the erasure.")
    if Erasure.objects.filter(requester_id=requester_id).exists():
        raise ErasureError("This contact was erased already.")
    with transaction.atomic():
        requester, held = tenant_services.requester_tombstone(requester_id=requester_id, actor=actor)
        needles = [held["name"], held["email"]]
        case_ids = sorted(
            set(Case.objects.filter(requester_id=requester.pk).values_list("pk", flat=True))
            | set(Case.objects.filter(followers=requester).values_list("pk", flat=True))
        )
        totals = {"messages": 0, "attachments": 0}
        for case_id in case_ids:
            done = services.case_redact_requester(
                case_id=case_id, actor=actor, needles=needles, requester_id=requester.pk
            )
            totals["messages"] += done["messages"]
            totals["attachments"] += done["attachments"]
        _erase_mail(held["email"], needles)
        record = Erasure.objects.create(
            requester_id=requester.pk,
            tenant_id=requester.tenant_id,
            erased_by=actor if getattr(actor, "pk", None) else None,
            reason=reason[:500],
            cases=len(case_ids),
            **totals,
        )
        audit.log_access(requester, view="requester erased", extra={"erasure": record.pk, "reason": reason[:200]})
    return record


def _erase_mail(address: str, needles: list[str]) -> None:
    """The e-mails we received from them: the original (.eml) deleted, sender and text redacted."""
    from .channels.email.models import EmailMessage

    for mail in EmailMessage.objects.select_for_update().filter(from_address__iexact=address):
        if mail.raw:
            mail.raw.delete(save=False)
        EmailMessage.objects.filter(pk=mail.pk).update(
            raw="",
            from_address="erased@erased.invalid",
            from_name="",
            subject=services.redact_text(mail.subject, needles),
            preview=services.redact_text(mail.preview, needles),
        )


def requester_of(requester_id: int) -> Requester | None:
    return Requester.objects.filter(pk=requester_id).first()


# --- reads for the admins' erasure page (cases/views_erasure.py) ---------------------------------------


def erasure_candidates(query: str, *, limit: int = 20) -> list[Requester]:
    """Contacts matching `query` (their e-mail address, or part of their name or address), not yet
    erased, with their tenant and how many cases are theirs."""
    from django.db.models import Count, Q

    query = " ".join((query or "").split())
    if len(query) < 3:
        return []
    erased = Erasure.objects.values("requester_id")
    return list(
        Requester.objects.select_related("tenant")
        .filter(Q(email__iexact=query) | Q(email__icontains=query) | Q(name__icontains=query))
        .exclude(pk__in=erased)
        .annotate(n_cases=Count("cases", distinct=True))
        .order_by("email", "pk")[:limit]
    )


def erasure_preview(requester: Requester) -> dict:
    """What erasing `requester` would touch (counts only): their cases and the cases they follow,
    the attachments of their own messages, the e-mails received from them."""
    from .channels.email.models import EmailMessage
    from .models import Attachment

    case_ids = set(Case.objects.filter(requester_id=requester.pk).values_list("pk", flat=True)) | set(
        Case.objects.filter(followers=requester).values_list("pk", flat=True)
    )
    return {
        "cases": len(case_ids),
        "attachments": Attachment.objects.filter(case_id__in=case_ids, interaction__requester_id=requester.pk).count(),
        "emails": EmailMessage.objects.filter(from_address__iexact=requester.email).count(),
    }


def recent_erasures(limit: int = 50) -> list[Erasure]:
    from tenants.models import Tenant

    records = list(Erasure.objects.select_related("erased_by").order_by("-created_at", "-id")[:limit])
    names = dict(Tenant.objects.filter(pk__in={r.tenant_id for r in records}).values_list("pk", "name"))
    for record in records:
        record.tenant_name = names.get(record.tenant_id, f"tenant {record.tenant_id}")
    return records


def contact_for_erasure(requester_id: int) -> tuple[Requester | None, Erasure | None]:
    """The contact (with its tenant) and its erasure record, if it was erased."""
    requester = Requester.objects.select_related("tenant").filter(pk=requester_id).first()
    done = Erasure.objects.select_related("erased_by").filter(requester_id=requester_id).first() if requester else None
    return requester, done
