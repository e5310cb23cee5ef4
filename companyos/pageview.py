"""One "viewed" entry per page load. A page that loads some of its regions in later requests (a
lazy panel, a poll, a filter swap) writes its access entry once, for the page, and gives those
requests a signed token naming the viewer, the object and the page's correlation id. A request that
brings a valid, fresh token for the same viewer and object is part of that page view and writes no
second entry; one without (the panel's URL fetched on its own) is audited as usual.

The token cannot be forged (Django's signing, SECRET_KEY) and names one user and one object, so it
lets nobody read anything unaudited: it only says "this is the page already recorded under <cid>".
"""

from __future__ import annotations

from auditlog.cid import get_cid
from django.core import signing
from django.db import models

SALT = "companyos.pageview"
MAX_AGE = 12 * 3600  # a page left open all day keeps polling its SLA panel under its first entry


def _subject(user, instance: models.Model) -> str:
    return f"{user.pk}:{instance._meta.label_lower}:{instance.pk}"


def token(user, instance: models.Model) -> str:
    """The token a page hands to its own follow-up requests."""
    return signing.dumps({"s": _subject(user, instance), "cid": get_cid() or ""}, salt=SALT, compress=True)


def page_cid(request, instance: models.Model, param: str = "pv") -> str | None:
    """The correlation id of the page view `request` belongs to (its token is valid, fresh and for
    this user and object), else None: then the request is a view of its own and must be audited."""
    value = request.GET.get(param, "")
    if not value:
        return None
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("s") != _subject(request.user, instance):
        return None
    return data.get("cid") or ""
