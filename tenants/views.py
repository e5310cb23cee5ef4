"""Thin views for the tenant list and the tenant console: scope to the user, read through
tenants.selectors, lay the panels out from tenants.panels, audit the view, render. The same URL
answers a full page or, for an HTMX request, the page's partial."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from companyos import audit
from companyos.access import audited_read
from companyos.htmx import htmx_partial, partial

from . import panels, selectors
from .filtersets import SORTS, TenantFilterSet
from .models import Tenant

PAGE_SIZE = 50
TEMPLATE = "tenants/tenant_console.html"


@audited_read(Tenant, view="tenant list")
@require_GET
@vary_on_headers("HX-Request")
def tenant_list(request):
    filterset = TenantFilterSet(request.GET, queryset=selectors.tenant_list(request.user), request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_health_state(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    audit.log_list_access(Tenant, [t.pk for t in page.object_list], view="tenant list", query=query.urlencode())
    context = {
        "filterset": filterset,
        "page": page,
        "query": query.urlencode(),
        "sort": filterset.sort_key,
        "sorts": [(key, label) for key, (_, label) in SORTS.items()],
    }
    return render(request, partial(request, "tenants/tenant_list.html", "results"), context)


@audited_read(Tenant, view="console")
@require_GET
def tenant_console(request, slug: str):
    """The header and a placeholder per panel; each panel loads itself (hx-get on load). Without
    JavaScript, `?panels=inline` renders every panel into the page (the page links to it in a
    <noscript>), and each placeholder links to its panel's own page."""
    tenant = selectors.tenant_get_for_user(request.user, slug, path=request.path)
    audit.log_access(tenant, view="console")
    inline = request.GET.get("panels") == "inline"
    shown = []
    for name, spec in panels.PANELS.items():
        if inline:
            audit.log_access(tenant, view=f"console:{name}")
            shown.append(panels.build_panel(name, tenant=tenant, user=request.user, params=request.GET))
        else:
            shown.append(panels.Panel(name=name, title=spec.title, wide=spec.wide))
    context = {"tenant": tenant, "header": panels.tenant_header(tenant), "panels": shown, "inline": inline}
    return render(request, TEMPLATE, context)


@audited_read(Tenant, view="console panel")
@require_GET
@vary_on_headers("HX-Request")
def tenant_panel(request, slug: str, name: str):
    """One panel: its partial for HTMX (lazy load, refresh), else a page with the header and it."""
    tenant = selectors.tenant_get_for_user(request.user, slug, path=request.path)
    if name not in panels.PANELS:
        audit.log_denied(Tenant, tenant.pk, path=request.path, reason=f"no such panel: {name}")
        raise Http404("No such panel")
    audit.log_access(tenant, view=f"console:{name}")
    panel = panels.build_panel(name, tenant=tenant, user=request.user, params=request.GET)
    if htmx_partial(request):
        return render(request, f"{TEMPLATE}#panel", {"tenant": tenant, "panel": panel})
    context = {"tenant": tenant, "header": panels.tenant_header(tenant), "panels": [panel], "single": panel}
    return render(request, TEMPLATE, context)
