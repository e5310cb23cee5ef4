"""Signed, expiring links a customer opens without signing in (django.core.signing, salted per use):
"is this solved?" for one resolution, and the satisfaction survey of one closure. A token names its
row and the instant that identifies it (the resolution, the closure), so a link to an earlier
resolution cannot close a later one; a changed character fails the signature, an old one expires."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

CONFIRM_SALT = "cases.closure.confirm"
SURVEY_SALT = "cases.closure.survey"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def _stamp(at: datetime) -> str:
    return f"{at.timestamp():.6f}"


def _make(salt: str, row_id: int, at: datetime) -> str:
    return signing.dumps({"id": row_id, "at": _stamp(at)}, salt=salt, compress=False)


def _read(salt: str, token: str, max_age: timedelta) -> tuple[int, str]:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) or not isinstance(data.get("at"), str):
        raise LinkInvalid
    return data["id"], data["at"]


def same_instant(stamp: str, at: datetime) -> bool:
    return stamp == _stamp(at)


def confirm_token(auto_close_id: int, resolved_at: datetime) -> str:
    return _make(CONFIRM_SALT, auto_close_id, resolved_at)


def read_confirm(token: str) -> tuple[int, str]:
    return _read(CONFIRM_SALT, token, timedelta(days=settings.CLOSURE_CONFIRM_LINK_DAYS))


def survey_token(closure_id: int, closed_at: datetime) -> str:
    return _make(SURVEY_SALT, closure_id, closed_at)


def read_survey(token: str) -> tuple[int, str]:
    return _read(SURVEY_SALT, token, timedelta(days=settings.CLOSURE_SURVEY_LINK_DAYS))


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def confirm_url(auto_close_id: int, resolved_at: datetime) -> str:
    return absolute(reverse("closure:confirm", args=[confirm_token(auto_close_id, resolved_at)]))


def survey_url(closure_id: int, closed_at: datetime) -> str:
    return absolute(reverse("closure:survey", args=[survey_token(closure_id, closed_at)]))
