"""Every read of cases a user sees. Permission scoping comes first, from one place."""
from __future__ import annotations

import re

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from companyos import audit
from tenants.selectors import visible_tenant_ids

from .models import Attachment, Case, Interaction, SavedView, Tag

KEY_RE = re.compile(rf"^\s*{re.escape(settings.CASE_KEY_PREFIX)}-(\d{{1,12}})\s*$", re.IGNORECASE)


def case_visible_to(user) -> QuerySet[Case]:
    """The cases `user` may see: all for managers/admins/SRE, else those of their granted tenants."""
    ids = visible_tenant_ids(user)
    qs = Case.objects.all()
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(tenant_id__in=ids)


def case_queue(user) -> QuerySet[Case]:
    return case_visible_to(user).select_related("tenant", "requester", "owner", "team").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="tag_list")
    )


def parse_case_key(key: str) -> int | None:
    match = KEY_RE.match(key or "")
    return int(match.group(1)) if match else None


def case_get_for_user(user, key: str, *, path: str = "", for_update: bool = False) -> Case:
    """The case behind `key` if `user` may see it. Otherwise 404, and the attempt is audited."""
    pk = parse_case_key(key)
    if pk is None:
        raise Http404("No such case")
    qs = case_visible_to(user).select_related("tenant", "requester", "owner", "team", "duplicate_of")
    case = qs.filter(pk=pk).first()
    if case is None:
        audit.log_denied(Case, pk, path=path, reason="not visible or does not exist")
        raise Http404("No such case")
    return case


def case_timeline(case: Case, *, only: str = "all") -> QuerySet[Interaction]:
    qs = case.interactions.select_related("actor", "requester").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if only == "public":
        qs = qs.filter(public=True)
    elif only == "notes":
        qs = qs.filter(kind=Interaction.Kind.NOTE)
    return qs.order_by("created_at", "id")


def attachment_get_for_user(user, pk: int, *, path: str = "") -> Attachment:
    ids = visible_tenant_ids(user)
    qs = Attachment.objects.select_related("case")
    if ids is not None:
        qs = qs.filter(case__tenant_id__in=ids)
    attachment = qs.filter(pk=pk).first()
    if attachment is None:
        audit.log_denied(Attachment, pk, path=path)
        raise Http404("No such attachment")
    return attachment


def saved_views_for(user) -> QuerySet[SavedView]:
    return SavedView.objects.filter(Q(builtin=True) | Q(shared=True) | Q(owner=user)).order_by(
        "-builtin", "-shared", "position", "name"
    )


def capped_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """Count up to `cap` rows (then say "cap+"): exact counts of 1M rows cost a full scan."""
    cap = cap or settings.QUEUE_COUNT_CAP
    n = qs.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)
