"""A public reply as an e-mail: threading headers, the case key in the subject, the agent's name,
plain text with an HTML alternative, the reply's attachments. Sent through Django's mail backend by
the reply outbox (`cases.channels.outbox.relay_replies`), never inside the request.

Threading: `Message-ID` is derived from the reply's id and a keyed hash (stable across retries, not
guessable, so a stranger cannot forge a reply onto a case); `In-Reply-To` is the customer's latest
message on the case and `References` its references plus its id (RFC 5322 3.6.4); without an
inbound e-mail (a case opened in the console), our earlier replies on the case.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from ...errors import CaseError
from ...models import Interaction
from ..outbound import PermanentFailure
from . import security
from .models import EmailMessage


def support_address() -> str:
    return settings.SUPPORT_EMAIL


def message_id_for(interaction_id: int) -> str:
    """`<cs-reply-345.9f2c…@support.example>` without the brackets."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"reply:{interaction_id}".encode(), hashlib.sha256).hexdigest()
    return f"cs-reply-{interaction_id}.{digest[:20]}@{settings.EMAIL_MESSAGE_ID_DOMAIN}"


def _thread(case) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for a new message on `case`."""
    parent = (
        EmailMessage.objects.filter(case=case, direction=EmailMessage.Direction.INBOUND)
        .exclude(message_id="")
        .order_by("-created_at", "-id")
        .only("message_id", "references")
        .first()
    )
    if parent is not None:
        refs = [*parent.references.split(), parent.message_id]
        return parent.message_id, list(dict.fromkeys(refs))[-20:]
    earlier = list(
        EmailMessage.objects.filter(case=case, direction=EmailMessage.Direction.OUTBOUND)
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)[:20]
    )[::-1]
    return (earlier[-1] if earlier else ""), earlier


def _agent_name(interaction: Interaction) -> str:
    actor = interaction.actor
    if actor is None:
        return settings.SUPPORT_EMAIL_NAME
    return actor.get_full_name() or actor.get_username()


def is_security(case) -> bool:
    return case.tags.filter(name=security.SECURITY_TAG).exists()


def check_reply(interaction: Interaction) -> None:
    """The e-mail channel's reply check (inside the reply's transaction): seed 002 on security cases."""
    case = interaction.case
    if not is_security(case):
        return
    found = security.detail_requests(interaction.body)
    if found:
        raise CaseError(security.refusal(case.key, found))


def build(interaction: Interaction) -> EmailMultiAlternatives:
    case = interaction.case
    requester = case.requester
    agent = _agent_name(interaction)
    in_reply_to, references = _thread(case)
    subject = f"{'Re: ' if in_reply_to else ''}{' '.join(case.subject.split())} [{case.key}]"  # one line
    context = {
        "case": case,
        "body": interaction.body,
        "agent": agent,
        "team": settings.SUPPORT_EMAIL_NAME,
        "security_notice": security.NOTICE if is_security(case) else "",
        "requester": requester,
    }
    headers = {
        "Message-ID": f"<{message_id_for(interaction.pk)}>",
        # Ask Exchange and friends not to answer with out-of-office mail (a loop's first step).
        "X-Auto-Response-Suppress": "OOF, AutoReply",
        "X-CompanyOS-Case": case.key,
    }
    if in_reply_to:
        headers["In-Reply-To"] = f"<{in_reply_to}>"
        headers["References"] = " ".join(f"<{r}>" for r in references)
    cc = list(case.followers.exclude(email="").exclude(email__iexact=requester.email).values_list("email", flat=True))
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("cases/email/reply.email.txt", context),
        from_email=formataddr((f"{agent} ({settings.SUPPORT_EMAIL_NAME})", support_address())),
        to=[formataddr((requester.name, requester.email))],
        cc=cc,
        reply_to=[settings.SUPPORT_REPLY_TO or support_address()],
        headers=headers,
        connection=get_connection(),
    )
    message.attach_alternative(render_to_string("cases/email/reply.email.html", context), "text/html")
    for attachment in interaction.attachments.all():
        with attachment.file.open("rb") as handle:
            message.attach(attachment.download_name, handle.read(), attachment.content_type)
    return message


def send_email_reply(interaction: Interaction) -> str:
    """The sender registered for the e-mail channel. Returns the Message-ID sent."""
    message = build(interaction)
    message_id = message.extra_headers["Message-ID"].strip("<>")
    EmailMessage.objects.get_or_create(
        direction=EmailMessage.Direction.OUTBOUND,
        message_id=message_id,
        defaults={
            "state": EmailMessage.State.SENT,
            "source": "outbox",
            "case": interaction.case,
            "interaction": interaction,
            "in_reply_to": message.extra_headers.get("In-Reply-To", "").strip("<>"),
            "references": " ".join(r.strip("<>") for r in message.extra_headers.get("References", "").split()),
            "from_address": support_address(),
            "from_name": _agent_name(interaction)[:200],
            "to": ", ".join(message.to + message.cc),
            "subject": message.subject[:500],
        },
    )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentFailure(f"the mail server refused {', '.join(error.recipients)}") from error
    return message_id
