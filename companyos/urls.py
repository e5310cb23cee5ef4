from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .access import audit_exempt

admin.site.site_header = admin.site.site_title = "CompanyOS Support Console admin"
admin.site.index_title = "Configuration and records"

urlpatterns = [
    path(
        "",
        audit_exempt(reason="a redirect to the queue")(
            RedirectView.as_view(pattern_name="cases:list", permanent=False)
        ),
    ),
    path(
        "accounts/login/",
        audit_exempt(reason="the sign-in form")(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", audit_exempt(reason="signing out")(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/preferences/", views.preferences, name="preferences"),
    path("accounts/preferences/timeline-order/", views.timeline_order, name="timeline_order"),
    path("accounts/preferences/api-tokens/", views.api_token_create, name="api_token_create"),
    path("accounts/preferences/api-tokens/<id:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("retention/", views.retention_page, name="retention"),
    path("search/", include("cases.search")),  # the top bar's search: cases.search.global_search
    path("cases/", include("cases.urls")),
    path("c/", include("cases.closure.urls")),
    path(
        "shared/", include("runbooks.share_urls")
    ),  # expiring signed links to bundle reports (no sign-in)  # customers' signed links: "is this solved?", the survey
    path("incidents/", include("incidents.urls")),
    path("oncall/", include("incidents.oncall.urls")),  # schedules, pages; /oncall/link/ is signed, no sign-in
    path("status/", include("incidents.status_urls")),  # public, no sign-in (LoginRequiredMiddleware)
    path("sla/", include("cases.sla.urls")),
    path("runbooks/", include("runbooks.urls")),  # runbooks, knowledge base, macros (issue 15)
    path("reports/", include("cases.reports.urls")),  # the manager reports (cases.reports)
    path("api/slack/", include("cases.channels.slack.urls")),  # Slack's signed requests (issue 11)
    path("inbound/email/", include("cases.channels.email.webhook_urls")),  # the ESP inbound webhook
    path("widget/", include("cases.channels.widget.urls")),  # the in-app help panel: signed context, no login
    path("api/v1/", include("tenants.api_urls")),
    path("api/v1/", include("cases.api.urls")),
    path("api/v1/", include("runbooks.api_urls")),  # trace bundles (runbooks.diagnostics.api)
    # The REST API's OpenAPI 3.1 schema and its docs (Swagger UI from our static files: no CDN).
    path(
        "api/schema/",
        audit_exempt(reason="the API's OpenAPI schema: no case or tenant data")(
            SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[])
        ),
        name="api_schema",
    ),
    path(
        "api/docs/",
        audit_exempt(reason="the API's docs page: no case or tenant data")(
            SpectacularSwaggerSplitView.as_view(
                url_name="api_schema",
                template_name="companyos/api_docs.html",  # drf-spectacular's, without its inline <style> (CSP)
                authentication_classes=[],
                permission_classes=[],
            )
        ),
        name="api_docs",
    ),
    path("api/zendesk/webhook/", include("cases.channels.zendesk.urls_webhook")),  # signed, no session
    path("zendesk/", include("cases.channels.zendesk.urls")),
    path("tenants/integrations/", include("tenants.integration_urls")),
    path("tenants/", include("tenants.urls")),
    path("admin/", admin.site.urls),
]
