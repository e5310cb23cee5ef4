"""Inbound e-mail: one service for both ways mail arrives (the MTA pipe, `manage.py receive_email`,
and the ESP webhook, `cases.channels.email.views.mailgun_inbound`).

`receive(raw, source=…)` reads the message (`parsing`), and in one transaction:

1. records it (`EmailMessage`, unique by Message-ID: a redelivery is recognised and changes nothing);
2. drops what a machine sent (auto-replies, bounces, bulk, our own mail come back): recorded as
   ignored, never a case, never a reply, so no loop;
3. finds its case: by `In-Reply-To` / `References` against the Message-IDs on record (ours and the
   customer's), then by the case key in the subject (`[CS-1042]`), never by subject text alone; a
   case merged into another is followed to the survivor. The sender must be a contact of that
   case's tenant, else the message waits in the unmatched queue;
4. without a case, matches the sender to a requester by address: one match opens a new case; none,
   or several tenants' contacts with that address, go to the unmatched queue an agent assigns;
5. writes it through the case services: a new case (`case_create`), or a customer message on the
   case (`case_customer_message`: a case waiting on the customer goes back to in progress; a
   resolved or closed one is reopened within `EMAIL_REOPEN_WINDOW_DAYS`, after that a follow-up case
   is opened and both timelines name each other).

The stored message is the newest reply (quoted history and signature cut); attachments go through
`cases.services.validate_upload` (a refused one is named on the message); the original is kept as
an `.eml` attachment (if it is over the attachment limit, a copy with the attachments' contents
removed, since each kept attachment is stored on its own).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.parser import BytesParser

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import Requester
from tenants.selectors import can_see_tenant

from ... import services
from ...choices import Status
from ...errors import CaseConflict, CaseError, NotPermitted
from ...models import Case
from . import parsing
from .models import EmailMessage

log = logging.getLogger(__name__)
State = EmailMessage.State
PREVIEW = 600  # characters of an unmatched message shown on its queue page


@dataclass
class Outcome:
    state: str
    reason: str = ""
    case_key: str = ""
    email_id: int | None = None
    duplicate: bool = False
    created: bool = False  # a new case was opened

    def __str__(self):
        what = f"{self.state}{' (duplicate)' if self.duplicate else ''}"
        return f"{what}: {self.case_key + ' ' if self.case_key else ''}{self.reason}".strip()


def own_addresses() -> frozenset[str]:
    own = {settings.SUPPORT_EMAIL, settings.SUPPORT_REPLY_TO, settings.DEFAULT_FROM_EMAIL}
    return frozenset(a.lower() for a in own if a)


def receive(raw: bytes, *, source: str) -> Outcome:
    """Take one raw RFC 5322 message. Raises only for a failure worth a retry by the MTA or ESP
    (the database is down); anything wrong with the message itself is recorded and answered."""
    parsed = parsing.parse(raw, own_addresses=own_addresses())
    if not parsed.message_id:  # no id: one derived from the bytes, so a redelivery is still recognised
        parsed.message_id = f"sha256-{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid"
    existing = _existing(parsed.message_id)
    if existing is not None:
        return _outcome(existing, duplicate=True)
    try:
        with transaction.atomic():
            return _receive(raw, parsed, source)
    except IntegrityError:
        existing = _existing(parsed.message_id)
        if existing is None:
            raise
        return _outcome(existing, duplicate=True)  # the same message, delivered twice at once


def _existing(message_id: str) -> EmailMessage | None:
    return (
        EmailMessage.objects.filter(direction=EmailMessage.Direction.INBOUND, message_id=message_id)
        .select_related("case")
        .first()
    )


def _outcome(email: EmailMessage, *, duplicate: bool = False, created: bool = False) -> Outcome:
    return Outcome(
        state=email.state,
        reason=email.reason,
        case_key=email.case.key if email.case_id else "",
        email_id=email.pk,
        duplicate=duplicate,
        created=created,
    )


def _record(raw: bytes, parsed: parsing.ParsedEmail, source: str, state: str, reason: str, **fields) -> EmailMessage:
    return EmailMessage.objects.create(
        direction=EmailMessage.Direction.INBOUND,
        state=state,
        reason=reason[:300],
        source=source,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references),
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to=", ".join(parsed.to)[:5000],
        subject=parsed.subject,
        size=len(raw),
        **fields,
    )


def _receive(raw: bytes, parsed: parsing.ParsedEmail, source: str) -> Outcome:
    if not parsed.from_address:
        defects = f" ({', '.join(parsed.defects[:3])})" if parsed.defects else ""
        email = _record(raw, parsed, source, State.REJECTED, f"no readable sender address{defects}")
        return _outcome(email)
    if parsed.auto:
        reason, case = f"sent by a machine: {parsed.auto}", _bounced_reply(parsed)
        if case is not None:
            reason = f"bounce of our reply on {case.key}: {parsed.bounce.status or 'failed'}"
        email = _record(raw, parsed, source, State.IGNORED, reason, case=case)
        return _outcome(email)
    case, requester, reason = route(parsed)
    if requester is None:
        text = parsing.message_text(parsed)
        email = _record(
            raw,
            parsed,
            source,
            State.UNMATCHED,
            reason,
            case=case,
            preview=text[:PREVIEW] + ("…" if len(text) > PREVIEW else ""),
            attachment_names=[a.filename[:200] for a in parsed.attachments[:50]],
        )
        email.raw.save(f"{email.pk}.eml", ContentFile(raw), save=True)
        return _outcome(email)
    email = _record(raw, parsed, source, State.ACCEPTED, reason)
    return deliver(email, raw, parsed, requester=requester, case=case)


def _bounced_reply(parsed: parsing.ParsedEmail) -> Case | None:
    """A delivery report on one of our replies: the case's timeline says the reply did not arrive
    (a system entry; the report itself never becomes a customer message). None for other mail."""
    bounce = parsed.bounce
    if bounce is None or not bounce.original_message_id or bounce.action.lower() in ("delayed", "delivered", "relayed"):
        return None
    sent = (
        EmailMessage.objects.filter(direction=EmailMessage.Direction.OUTBOUND, message_id=bounce.original_message_id)
        .select_related("case")
        .first()
    )
    if sent is None or sent.case is None:
        return None
    who = bounce.recipient or "the recipient"
    services.record_system_entries(
        [
            {
                "case_id": sent.case_id,
                "created_at": timezone.now(),
                "body": f"The e-mail reply did not reach {who}: {bounce.status or 'failed'} "
                f"{bounce.diagnostic}".strip(),
                "data": {
                    "bounce": {
                        "interaction": sent.interaction_id,
                        "recipient": bounce.recipient,
                        "status": bounce.status,
                        "diagnostic": bounce.diagnostic,
                    }
                },
            }
        ]
    )
    return sent.case


def route(parsed: parsing.ParsedEmail) -> tuple[Case | None, Requester | None, str]:
    """(case, requester, why): the case the message answers (or None for a new case) and the
    requester who wrote it; requester None means the unmatched queue (case then is the case it
    named, if any, as a hint for the agent)."""
    contacts = list(Requester.objects.filter(email__iexact=parsed.from_address).select_related("tenant"))
    case, how = threaded_case(parsed)
    if case is not None:
        requester = next((r for r in contacts if r.tenant_id == case.tenant_id), None)
        if requester is None:
            return case, None, f"{parsed.from_address} wrote on {case.key} ({how}) but is not a contact of its tenant"
        return case, requester, f"on {case.key} by {how}"
    if len(contacts) == 1:
        return None, contacts[0], f"new case for {contacts[0].tenant.name}"
    if not contacts:
        return None, None, f"unknown sender {parsed.from_address}"
    return None, None, f"{parsed.from_address} is a contact of {len(contacts)} tenants"


def threaded_case(parsed: parsing.ParsedEmail) -> tuple[Case | None, str]:
    ids = parsed.thread_ids
    if ids:
        known = {
            message_id: case_id
            for message_id, case_id in EmailMessage.objects.filter(message_id__in=ids, case__isnull=False).values_list(
                "message_id", "case_id"
            )
        }
        for message_id in ids:  # nearest first
            if message_id in known:
                header = "In-Reply-To" if message_id == parsed.in_reply_to else "References"
                return _survivor(known[message_id]), header
    pk = parsing.case_key_in(parsed.subject, settings.CASE_KEY_PREFIX)
    if pk is not None:
        case = _survivor(pk)
        if case is not None:
            return case, "the case key in the subject"
    return None, ""


def _survivor(case_id: int) -> Case | None:
    """The case itself, or the case it was merged into (a merge closes the duplicate)."""
    case = Case.objects.filter(pk=case_id).first()
    for _ in range(10):
        if case is None or case.duplicate_of_id is None:
            return case
        case = Case.objects.filter(pk=case.duplicate_of_id).first()
    return case


# --- writing it onto a case --------------------------------------------------------------------------


def _uploads(raw: bytes, parsed: parsing.ParsedEmail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The attachments that pass the upload rules, the original as .eml, and the refusals."""
    kept, refused = [], []
    for attachment in parsed.attachments:
        upload = SimpleUploadedFile(attachment.filename, attachment.content, attachment.content_type)
        try:
            services.validate_upload(upload)
        except CaseError as error:
            refused.append(str(error))
        else:
            kept.append(upload)
    original = raw if len(raw) <= settings.ATTACHMENT_MAX_BYTES else _without_attachments(raw)
    if len(original) <= settings.ATTACHMENT_MAX_BYTES:
        kept.append(SimpleUploadedFile("original-message.eml", original, "message/rfc822"))
    else:
        refused.append(f"The original message ({len(raw) / 1048576:.1f} MB) is too large to keep, even trimmed.")
    return kept, refused


def _without_attachments(raw: bytes) -> bytes:
    """The original with each attachment's content replaced by a line naming it (headers, text and
    HTML bodies kept): the copy kept when the whole is over the attachment limit."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    for part in msg.walk():
        if part.is_multipart():
            continue
        body = part.get_content_disposition() != "attachment" and part.get_content_type() in ("text/plain", "text/html")
        if body:
            continue
        name = part.get_filename() or part.get_content_type()
        size = len(part.get_payload(decode=True) or b"")
        for header in ("Content-Transfer-Encoding", "Content-Type", "Content-Disposition"):
            del part[header]
        part.set_content(f"[{name}, {size:,} bytes: removed from this copy of the message]\n", disposition="inline")
    return msg.as_bytes()


def _body(parsed: parsing.ParsedEmail, refused: list[str]) -> str:
    body = parsing.message_text(parsed)
    if not body:
        body = "(no text)"
    if refused:
        body += "\n\n" + "\n".join(f"[Attachment not kept: {r}]" for r in refused)
    return body


def _facts(email: EmailMessage, parsed: parsing.ParsedEmail, refused: list[str]) -> dict:
    return {
        "email": {
            "id": email.pk,
            "message_id": parsed.message_id,
            "from": parsed.from_address,
            "subject": parsed.subject,
            "source": email.source,
            **({"refused": refused} if refused else {}),
        }
    }


def deliver(
    email: EmailMessage, raw: bytes, parsed: parsing.ParsedEmail, *, requester: Requester, case: Case | None
) -> Outcome:
    """Write the message onto `case` (None: a new case) as `requester`'s, and point `email` at it.
    Runs inside the caller's transaction."""
    files, refused = _uploads(raw, parsed)
    body, data = _body(parsed, refused), _facts(email, parsed, refused)
    created = False
    if case is not None and case.status in (Status.RESOLVED, Status.CLOSED) and not _within_window(case):
        previous = case
        case = _open(parsed, requester, body, files, {**data, "follow_up_of": previous.key})
        created = True
        services.record_system_entries(
            [
                {
                    "case_id": previous.pk,
                    "created_at": timezone.now(),
                    "body": f"{requester.name} wrote again by e-mail after the reopen window "
                    f"({settings.EMAIL_REOPEN_WINDOW_DAYS} days): follow-up {case.key} opened.",
                    "data": {"follow_up": case.key, "follow_up_id": case.pk},
                }
            ]
        )
        email.reason = f"follow-up {case.key} of {previous.key} (closed past the reopen window)"
    elif case is not None:
        interaction = services.case_customer_message(
            case_id=case.pk, requester=requester, body=body, channel="email", data=data, files=files, reopen=True
        )
        email.interaction = interaction
    else:
        case = _open(parsed, requester, body, files, data)
        created = True
    if created:
        email.interaction = case.interactions.order_by("id").first()
    email.case = case
    email.save(update_fields=["case", "interaction", "reason"])
    return _outcome(email, created=created)


def _within_window(case: Case) -> bool:
    ended = case.closed_at or case.resolved_at or case.updated_at
    return ended >= timezone.now() - timedelta(days=settings.EMAIL_REOPEN_WINDOW_DAYS)


def _open(parsed, requester: Requester, body: str, files, data: dict) -> Case:
    subject = parsing.clean_subject(parsed.subject, settings.CASE_KEY_PREFIX)[:250] or "(no subject)"
    return services.case_create(
        actor=None,
        tenant=requester.tenant,
        requester=requester,
        subject=subject,
        description=body,
        channel="email",
        files=files,
        data=data,
        unclassified=["category", "issue_type", "environment"],
    )


# --- the unmatched queue -------------------------------------------------------------------------------


def _lock_unmatched(email_id: int, actor) -> EmailMessage:
    email = EmailMessage.objects.select_for_update().filter(pk=email_id, direction="in").first()
    if email is None:
        raise NotPermitted("That message does not exist.")
    if email.state != State.UNMATCHED:
        who = email.handled_by.get_username() if email.handled_by_id else "someone"
        raise CaseConflict(f"That message was already handled by {who} ({email.get_state_display().lower()}).")
    return email


@transaction.atomic
def assign_unmatched(*, email_id: int, actor, requester: Requester) -> Outcome:
    """An agent says whose an unmatched message is: it goes onto the case it names if that case is
    the requester's tenant's, else opens a new case; the stored raw copy is then dropped (the case
    has the .eml)."""
    if not can_see_tenant(actor, requester.tenant_id):
        raise NotPermitted("You cannot assign mail to that tenant.")
    email = _lock_unmatched(email_id, actor)
    with email.raw.open("rb") as handle:
        raw = handle.read()
    parsed = parsing.parse(raw, own_addresses=own_addresses())
    parsed.message_id = email.message_id
    case, _ = threaded_case(parsed)
    if case is not None and case.tenant_id != requester.tenant_id:
        case = None
    email.state, email.handled_by, email.handled_at = State.ASSIGNED, actor, timezone.now()
    email.reason = f"assigned to {requester.name} ({requester.tenant.name}) by {actor.get_username()}"
    email.save(update_fields=["state", "handled_by", "handled_at", "reason"])
    outcome = deliver(email, raw, parsed, requester=requester, case=case)
    name = email.raw.name
    transaction.on_commit(lambda: email.raw.storage.delete(name))
    return outcome


@transaction.atomic
def discard_unmatched(*, email_id: int, actor) -> EmailMessage:
    """Spam or not for us: recorded as discarded, the raw copy dropped."""
    email = _lock_unmatched(email_id, actor)
    email.state, email.handled_by, email.handled_at = State.DISCARDED, actor, timezone.now()
    email.reason = f"discarded by {actor.get_username()}"
    email.save(update_fields=["state", "handled_by", "handled_at", "reason"])
    name = email.raw.name
    transaction.on_commit(lambda: email.raw.storage.delete(name))
    return email
