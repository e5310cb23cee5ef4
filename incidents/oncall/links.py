"""Signed one-time acknowledge links (django.core.signing, salted, expiring): a token names one
PageNotice's nonce; the notice's `used_at` makes it work once. No sign-in: the link is the credential."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

ACK_SALT = "incidents.oncall.ack"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def ack_token(nonce: str) -> str:
    return signing.dumps({"n": nonce}, salt=ACK_SALT, compress=False)


def read_ack(token: str) -> str:
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=timedelta(hours=settings.ONCALL_ACK_LINK_HOURS))
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        raise LinkInvalid
    return data["n"]


def ack_url(nonce: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("oncall:ack", args=[ack_token(nonce)])
