"""Writes of the closure rows, and the two messages the system sends by itself. The case row and its
timeline are written only through cases.services; each function here locks the case first, then its
closure row (the order the case services' transactions take), re-checks, and is idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone

from companyos import roles

from .. import services
from ..choices import Status
from ..errors import CaseConflict, CaseError
from ..models import Case, Notification
from ..reports import rollup
from . import links, texts
from .models import AutoClose, Closure
from .rules import CSAT_RANGE, NPS_RANGE, is_low_score, survey_editable


def _lock_case(case_id: int) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("requester", "tenant", "team__manager")
        .get(pk=case_id)
    )


def _day(at) -> str:
    return formats.date_format(timezone.localtime(at), "l j F Y")


def ask_if_solved(*, auto_close_id: int) -> bool:
    """Send "is this solved?" for one resolution through the case's channel (a public, automated
    reply: the reply outbox delivers it). At most once; nothing when the timer already ended."""
    with transaction.atomic():
        row = AutoClose.objects.filter(pk=auto_close_id).values("case_id").first()
        if row is None:
            return False
        case = _lock_case(row["case_id"])
        timer = AutoClose.objects.select_for_update().get(pk=auto_close_id)
        if timer.asked_at is not None or timer.state != AutoClose.State.PENDING or case.status != Status.RESOLVED:
            return False
        entry = case.interactions.filter(kind="status", created_at=timer.resolved_at).values("data").first()
        summary = ((entry or {}).get("data") or {}).get("resolution", {}).get("summary", "")
        body = texts.solved_question(
            {
                "name": case.requester.name,
                "key": case.key,
                "subject": case.subject,
                "summary": summary,
                "yes_url": links.confirm_url(timer.pk, timer.resolved_at) + "?answer=yes",
                "no_url": links.confirm_url(timer.pk, timer.resolved_at) + "?answer=no",
                "closes_on": _day(timer.due_at),
            }
        )
        services.case_reply(
            case_id=case.pk, actor=roles.system_user(), body=body, public=True, automated="solved_question"
        )
        timer.asked_at = timezone.now()
        timer.save(update_fields=["asked_at"])
    return True


def send_survey(*, closure_id: int) -> bool:
    """Send the satisfaction survey of one closure through the case's channel, at most once."""
    with transaction.atomic():
        row = Closure.objects.filter(pk=closure_id).values("case_id").first()
        if row is None:
            return False
        case = _lock_case(row["case_id"])
        closure = Closure.objects.select_for_update().get(pk=closure_id)
        if closure.survey_sent_at is not None:
            return False
        body = texts.survey(
            {
                "name": case.requester.name,
                "key": case.key,
                "subject": case.subject,
                "survey_url": links.survey_url(closure.pk, closure.closed_at),
                "days": settings.CLOSURE_SURVEY_LINK_DAYS,
            }
        )
        services.case_reply(case_id=case.pk, actor=roles.system_user(), body=body, public=True, automated="survey")
        closure.survey_sent_at = timezone.now()
        closure.save(update_fields=["survey_sent_at"])
    return True


def confirm(*, auto_close_id: int, stamp: str, solved: bool, comment: str = "") -> Case:
    """The customer's answer from the "is this solved?" link."""
    timer = AutoClose.objects.select_related("case__requester").filter(pk=auto_close_id).first()
    if timer is None or not links.same_instant(stamp, timer.resolved_at):
        raise CaseError("This link is not valid.")
    if timer.state != AutoClose.State.PENDING:
        raise CaseConflict("This question has already been answered, or the case has changed since.")
    return services.case_customer_confirmation(
        case_id=timer.case_id,
        requester=timer.case.requester,
        solved=solved,
        resolved_at=timer.resolved_at,
        comment=comment,
    )


@dataclass(frozen=True)
class Answer:
    csat: int
    nps: int | None
    comment: str


def parse_answer(data) -> Answer:
    """The survey form's fields, or a CaseError saying what is wrong (fit to show the customer)."""

    def number(name: str, allowed: range, required: bool) -> int | None:
        raw = str(data.get(name) or "").strip()
        if not raw:
            if required:
                raise CaseError("Choose how satisfied you are, from 1 to 5.")
            return None
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 2) or int(raw) not in allowed:
            raise CaseError(f"Choose a value from {allowed.start} to {allowed.stop - 1}.")
        return int(raw)

    csat = number("csat", CSAT_RANGE, True)
    nps = number("nps", NPS_RANGE, False)
    comment = (data.get("comment") or "").strip()
    if len(comment) > 4000:
        raise CaseError("The comment is too long (at most 4,000 characters).")
    return Answer(csat=csat, nps=nps, comment=comment)


def survey_answer(*, closure_id: int, stamp: str, answer: Answer, now=None) -> Closure:
    """Store the one answer of a closure's survey; a second answer within 24 h of the first replaces
    it, later ones are refused. A low score (cases.closure.rules.is_low_score) notifies the manager
    of the case's team once, through the Notification outbox, in this transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        closure = (
            Closure.objects.select_for_update(of=("self",))
            .select_related("case__team__manager")
            .filter(pk=closure_id)
            .first()
        )
        if closure is None or not links.same_instant(stamp, closure.closed_at):
            raise CaseError("This link is not valid.")
        if not survey_editable(closure.first_answered_at, now):
            raise CaseConflict("This survey was answered more than 24 hours ago and can no longer be changed.")
        closure.csat, closure.nps, closure.comment = answer.csat, answer.nps, answer.comment
        closure.first_answered_at = closure.first_answered_at or now
        closure.answered_at = now
        fields = ["csat", "nps", "comment", "first_answered_at", "answered_at"]
        manager = closure.case.team.manager if closure.case.team_id else None
        if (
            is_low_score(answer.csat, answer.nps)
            and closure.low_score_notified_at is None
            and manager
            and manager.email
        ):
            case = closure.case
            Notification.objects.create(
                case_id=case.pk,
                channel=Notification.Channel.EMAIL,
                recipient=manager.email,
                subject=f"Low satisfaction on {case.key}: CSAT {answer.csat}/5"
                + (f", NPS {answer.nps}/10" if answer.nps is not None else ""),
                body=f"{case.key} {case.subject}\nCSAT {answer.csat}/5"
                + (f", NPS {answer.nps}/10" if answer.nps is not None else "")
                + (f"\n\nComment: {answer.comment}" if answer.comment else "")
                + f"\n\n{links.absolute(case.get_absolute_url())}",
                send_after=now,
            )
            closure.low_score_notified_at = now
            fields.append("low_score_notified_at")
        closure.save(update_fields=fields)
        rollup.mark_dirty(closure.case_created_at)  # the answer moves the reports' numbers (no timeline entry)
    return closure


def credit_decide(*, closure_id: int, actor, approve: bool, note: str = "") -> Closure:
    """A manager's decision on the SLA credit of a closing flagged for one: approved or declined, once
    (a second decision is refused as a conflict: the first one is what billing was told)."""
    if not roles.sees_sla_dashboard(actor):
        raise CaseError("Only managers and admins decide SLA credits.")
    note = " ".join((note or "").split())[:500]
    with transaction.atomic():
        closure = Closure.objects.select_for_update().filter(pk=closure_id).first()
        if closure is None or closure.credit == Closure.Credit.NONE:
            raise CaseError("That closing has no SLA credit to decide.")
        if closure.credit != Closure.Credit.PENDING:
            raise CaseConflict(f"The credit was already {closure.get_credit_display().lower()}; nothing was changed.")
        if not approve and not note:
            raise CaseError("Say why the credit is declined.")
        closure.credit = Closure.Credit.APPROVED if approve else Closure.Credit.DECLINED
        closure.credit_decided_by, closure.credit_decided_at, closure.credit_note = actor, timezone.now(), note
        closure.save(update_fields=["credit", "credit_decided_by", "credit_decided_at", "credit_note"])
    return closure
