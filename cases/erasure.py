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
