"""The public status page (no sign-in): /status/ lists the services with their state and the
active incidents' published updates, with 90 days of history, and an Atom feed; a tenant's own
status page lives at an unguessable URL (/status/t/<token>/). Only published (public) entries are
read: internal notes never reach these pages. The public page shows no case or tenant data; the
per-tenant variants are audited (their token names a tenant)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from companyos import audit
from companyos.access import audit_exempt, audited_read
from tenants.models import Tenant

from . import selectors


@audit_exempt(reason="the public status page: published incident updates and service states, no case or tenant data")
@require_GET
def status_page(request):
    return render(request, "incidents/status.html", {**selectors.status_page(), "feed_url": "/status/feed.atom"})


@audit_exempt(reason="the public status page's Atom feed: published updates only")
@require_GET
def status_feed(request):
    return _feed(request, selectors.status_feed_entries(), title="CompanyOS status", home="/status/")


def _tenant(request, token: str) -> Tenant:
    tenant = selectors.tenant_status_by_token(token)
    if tenant is None:
        audit.log_denied(Tenant, "status-token", path="/status/t/…/", reason="unknown status page token")
        raise Http404("No such status page")
    return tenant


@audited_read(Tenant, view="tenant status page")
@require_GET
def tenant_status_page(request, token: str):
    tenant = _tenant(request, token)
    audit.log_access(tenant, view="tenant status page")
    context = {**selectors.status_page(tenant=tenant), "feed_url": f"/status/t/{token}/feed.atom"}
    return render(request, "incidents/status.html", context)


@audited_read(Tenant, view="tenant status feed")
@require_GET
def tenant_status_feed(request, token: str):
    tenant = _tenant(request, token)
    audit.log_access(tenant, view="tenant status feed")
    return _feed(
        request, selectors.status_feed_entries(tenant=tenant), title=f"{tenant.name} status", home=f"/status/t/{token}/"
    )


def _feed(request, entries, *, title: str, home: str):
    response = render(
        request,
        "incidents/status_feed.atom",
        {
            "entries": entries,
            "title": title,
            "home": request.build_absolute_uri(home),
            "updated": entries[0].created_at if entries else None,
        },
        content_type="application/atom+xml; charset=utf-8",
    )
    return response
