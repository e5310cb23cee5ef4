"""Raw messages for the e-mail tests, as mail clients and servers write them (bytes, CRLF)."""

from __future__ import annotations


def crlf(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode("ascii") + b"\r\n"


def plain(
    *,
    sender="Jane Doe <jane@acme.example>",
    subject="Webhooks stopped firing",
    body="Since 10:40 UTC no webhooks arrive at our endpoint.",
    message_id="<m1.jane@mail.acme.example>",
    headers="",
) -> bytes:
    extra = f"{headers.strip()}\n" if headers.strip() else ""
    return crlf(
        f"""Return-Path: <jane@acme.example>
From: {sender}
To: CompanyOS Support <support@companyos.example>
Subject: {subject}
Date: Tue, 01 Dec 2026 10:45:00 +0100
Message-ID: {message_id}
MIME-Version: 1.0
{extra}Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 7bit

{body}
"""
    )


def reply(*, in_reply_to: str, references: str = "", subject: str, body: str, message_id: str, sender=None) -> bytes:
    headers = f"In-Reply-To: <{in_reply_to}>\nReferences: {references or f'<{in_reply_to}>'}"
    return plain(
        sender=sender or "Jane Doe <jane@acme.example>",
        subject=subject,
        body=body,
        message_id=message_id,
        headers=headers,
    )
