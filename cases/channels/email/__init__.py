"""The e-mail channel (issue 11, points 1–3).

Map:
- `parsing`   pure: an RFC 5322 message read into headers, body, attachments; reply/signature
              stripping; what a machine sent (auto-replies, bounces, bulk).
- `inbound`   the one service both inbound paths feed (`receive`): threading, sender matching, the
              unmatched queue (`assign_unmatched`, `discard_unmatched`), reopen or follow-up.
- `outbound`  a public reply as an e-mail (threading headers, case key, agent's name, text + HTML,
              attachments): the sender the reply outbox calls; the security reply check.
- `security`  seed 002 on security cases: no request for details over e-mail (pure).
- `models`    `EmailMessage`: every message in or out (threading, de-duplication, unmatched queue).
- `views`     the Mailgun inbound webhook (django-anymail, signature and age checked) and the
              unmatched-mail page.
- the MTA pipe is `manage.py receive_email` (cases/management/commands/).
"""

from __future__ import annotations

from tenants.choices import Channel

from . import models  # noqa: F401

__all__ = ["register"]


def register() -> None:
    from ..outbound import register_reply_check, register_reply_sender
    from .outbound import check_reply, send_email_reply

    register_reply_sender(Channel.EMAIL, send_email_reply)
    register_reply_check(Channel.EMAIL, check_reply)
