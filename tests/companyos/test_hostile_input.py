"""The hostile-input sweep (issue 8): every form view and JSON endpoint gets NUL bytes, huge numbers,
invalid UTF-8 (raw byte bodies), 10,000-character strings and wrong types (several values for one
field; lists and objects where the API wants a scalar), as an agent, a manager and an admin, and
must never answer 5xx.

The endpoints come from the URL patterns: `test_every_url_is_in_the_sweep` walks them, POSTs to each
and fails when one that accepts a POST (anything but 405) is not in POSTS, or a URL is in neither
list — so a new view is swept, or explicitly read-only, from the day it is added. A form's fields
(and their current values) are read from the page that shows the form, so the sweep posts what the
real form posts, with some fields replaced by hostile values. (The Django admin, under /admin/, is
Django's own and not swept.)

Hypothesis runs the examples inside one pytest-django test transaction per test (the data that
earlier examples wrote stays, which is fine: only the status code is asserted), hence the
suppressed function_scoped_fixture health check. About 260 examples in all.
"""

from __future__ import annotations

import html
import json
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.channels.widget.context import thread_token
from cases.models import BusinessCalendar, SavedView, SLAPolicy
from companyos.api import tokens
from tenants import ingest
from tenants import services as tenant_services
from tenants.ingest import KINDS
from tenants.widget import sign_context
from tests.factories import AttachmentFactory, CaseFactory, RequesterFactory, ResourceFactory

SWEEP = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible, not flaky
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- the values ------------------------------------------------------------------------------------------

HUGE = st.sampled_from(
    ["1e23", "1e309", "-1e309", "99999999999999999999", "-99999999999999999999", "9" * 400, "NaN", "inf", "-0", "1_0"]
)
LONG = st.sampled_from(["x" * 10_000, "é" * 10_000, "1" * 10_000, "a," * 5_000])
NUL = st.text(max_size=8).map(lambda text: text + "\x00")
ODD = st.sampled_from(["2026-13-45", "0000-00-00", "9999-12-31T23:59", "../../etc/passwd", "%00", "' OR 1=1 --", ""])
PLAUSIBLE = st.sampled_from(
    [
        "acme",
        "on",
        "yes",
        "save",
        "preview",
        "delete",
        "tag",
        "status",
        "assign",
        "open",
        "triage",
        "in_progress",
        "resolved",
        "closed",
        "critical",
        "high",
        "hours",
        "business_days",
        "calendar_days",
        "minutes",
        "me",
        "public",
        "internal",
        "1",
        "0",
        "-1",
        "2026-03-02T10:00",
    ]
)
VALUE = st.one_of(HUGE, LONG, NUL, ODD, PLAUSIBLE, st.text(max_size=30))
FIELD_VALUE = st.one_of(VALUE, st.lists(VALUE, min_size=2, max_size=3))  # several values for one field
FILE_NAMES = st.sampled_from(
    ["x" * 300 + ".log", "ø" * 200 + ".txt", "../../etc/passwd.txt", "a.exe", "报告.pdf", ".log", "a" * 255]
)

# --- the endpoints -------------------------------------------------------------------------------------

# url name → (the POST path, the page that shows its form), from the world fixture's objects.
POSTS = {
    "": lambda w: ("/", None),
    "login": lambda w: ("/accounts/login/", "/accounts/login/"),
    "logout": lambda w: ("/accounts/logout/", None),
    "preferences": lambda w: ("/accounts/preferences/", "/accounts/preferences/"),
    "retention": lambda w: ("/retention/", "/retention/"),
    "cases:create": lambda w: ("/cases/new/", "/cases/new/?tenant=acme"),
    "cases:bulk": lambda w: ("/cases/bulk/", "/cases/"),
    "cases:view_create": lambda w: ("/cases/views/", "/cases/"),
    "cases:view_delete": lambda w: (f"/cases/views/{w['view'].pk}/delete/", None),
    "cases:reply": lambda w: (f"/cases/{w['case'].key}/reply/", f"/cases/{w['case'].key}/"),
    "cases:transition": lambda w: (f"/cases/{w['case'].key}/transition/", f"/cases/{w['case'].key}/"),
    "cases:assign": lambda w: (f"/cases/{w['case'].key}/assign/", f"/cases/{w['case'].key}/"),
    "cases:classify": lambda w: (f"/cases/{w['case'].key}/classify/", f"/cases/{w['case'].key}/"),
    "cases:tags": lambda w: (f"/cases/{w['case'].key}/tags/", f"/cases/{w['case'].key}/"),
    "cases:attach": lambda w: (f"/cases/{w['case'].key}/attachments/", f"/cases/{w['case'].key}/"),
    "cases:context_refresh": lambda w: (f"/cases/{w['case'].key}/context/refresh/", None),
    "cases:context_decide": lambda w: (f"/cases/{w['case'].key}/context/decide/", f"/cases/{w['case'].key}/"),
    "sla:policy_create": lambda w: ("/sla/policies/new/", "/sla/policies/new/"),
    "sla:policy_preset": lambda w: ("/sla/policies/preset/", "/sla/policies/"),
    "sla:policy_preview": lambda w: ("/sla/policies/preview/", f"/sla/policies/{w['policy'].pk}/"),
    "sla:policy_edit": lambda w: (f"/sla/policies/{w['policy'].pk}/", f"/sla/policies/{w['policy'].pk}/"),
    "sla:policy_reapply": lambda w: (f"/sla/policies/{w['policy'].pk}/reapply/", None),
    "sla:rules": lambda w: ("/sla/rules/", "/sla/rules/"),
    "sla:calendar_create": lambda w: ("/sla/calendars/new/", "/sla/calendars/new/"),
    "sla:calendar_edit": lambda w: (f"/sla/calendars/{w['calendar'].pk}/", f"/sla/calendars/{w['calendar'].pk}/"),
    "integrations:list": lambda w: ("/tenants/integrations/", "/tenants/integrations/"),
    "integrations:edit": lambda w: (
        f"/tenants/integrations/{w['integration'].pk}/",
        f"/tenants/integrations/{w['integration'].pk}/",
    ),
    "integrations:revoke": lambda w: (f"/tenants/integrations/{w['integration'].pk}/revoke/", None),
    "integrations:widget": lambda w: (
        f"/tenants/integrations/{w['integration'].pk}/widget/",
        f"/tenants/integrations/{w['integration'].pk}/",
    ),
    # The in-app widget (issue 12): the panel's form read from the panel a signed context opens.
    "widget:panel": lambda w: ("/widget/panel/", f"/widget/panel/?ctx={w['widget_ctx']}"),
    "widget:thread": lambda w: (f"/widget/t/{w['widget_thread']}/", f"/widget/t/{w['widget_thread']}/"),
    "cases:merge": lambda w: (f"/cases/{w['case'].key}/merge/", f"/cases/{w['case'].key}/"),
    "cases:presence": lambda w: (f"/cases/{w['case'].key}/presence/", None),
    "cases:resources": lambda w: (f"/cases/{w['case'].key}/resources/", f"/cases/{w['case'].key}/"),
    "cases:display": lambda w: ("/cases/display/", "/cases/"),
    "timeline_order": lambda w: ("/accounts/preferences/timeline-order/", None),
    "api_token_create": lambda w: ("/accounts/preferences/api-tokens/", "/accounts/preferences/"),
    "api_token_revoke": lambda w: (f"/accounts/preferences/api-tokens/{w['api_token'].pk}/revoke/", None),
    "zendesk:mapping": lambda w: ("/zendesk/mapping/", "/zendesk/mapping/"),
    "zendesk:change_action": lambda w: ("/zendesk/changes/1/retry/", None),
    "zendesk:link": lambda w: (f"/zendesk/cases/{w['case'].key}/link/", None),
    "zendesk_webhook:receive": lambda w: ("/api/zendesk/webhook/", None),
    # Phone calls and callbacks (issue 11).
    "cases:phone": lambda w: (f"/cases/{w['case'].key}/phone/", f"/cases/{w['case'].key}/phone/"),
    "cases:phone_callback_done": lambda w: (f"/cases/{w['case'].key}/phone/callbacks/1/done/", None),
    "cases:phone_create": lambda w: ("/cases/new/call/", "/cases/new/call/?tenant=acme"),
    # Slack's signed requests (issue 11): unsigned posts are refused with 401.
    "slack:commands": lambda w: ("/api/slack/commands/", None),
    "slack:interactivity": lambda w: ("/api/slack/interactivity/", None),
    "cases:email_assign": lambda w: (f"/cases/email/unmatched/{w['email'].pk}/assign/", "/cases/email/unmatched/"),
    "cases:email_discard": lambda w: (f"/cases/email/unmatched/{w['email'].pk}/discard/", None),
    # The ESP webhook: unsigned posts, so every one is refused (400) or, without a key, 404.
    "email_inbound:mailgun": lambda w: ("/inbound/email/mailgun/", None),
    "email_inbound:mailgun_mime": lambda w: ("/inbound/email/mailgun/mime/", None),
    # The customers' signed closure links (cases.closure): no sign-in, the token is the credential.
    "closure:confirm": lambda w: (_closure_link(w, "confirm"), _closure_link(w, "confirm")),
    "closure:survey": lambda w: (_closure_link(w, "survey"), _closure_link(w, "survey")),
    "cases:root_cause": lambda w: (f"/cases/{w['case'].key}/root-cause/", f"/cases/{w['case'].key}/closure/"),
    "reports:credit_decide": lambda w: (f"/reports/credits/{_credit(w)}/decide/", "/reports/credits/"),
    # Incidents (issue 13).
    "incidents:declare": lambda w: ("/incidents/declare/", "/incidents/"),
    "incidents:status": lambda w: (f"/incidents/{w['incident'].key}/status/", f"/incidents/{w['incident'].key}/"),
    "incidents:severity": lambda w: (f"/incidents/{w['incident'].key}/severity/", f"/incidents/{w['incident'].key}/"),
    "incidents:role": lambda w: (f"/incidents/{w['incident'].key}/role/", f"/incidents/{w['incident'].key}/"),
    "incidents:update": lambda w: (f"/incidents/{w['incident'].key}/update/", f"/incidents/{w['incident'].key}/"),
    "incidents:edit": lambda w: (f"/incidents/{w['incident'].key}/edit/", f"/incidents/{w['incident'].key}/"),
    "incidents:postmortem": lambda w: (
        f"/incidents/{w['incident'].key}/postmortem/",
        f"/incidents/{w['incident'].key}/",
    ),
    "incidents:link": lambda w: (f"/incidents/{w['incident'].key}/link/", f"/incidents/{w['incident'].key}/"),
    "incidents:unlink": lambda w: (f"/incidents/{w['incident'].key}/unlink/", f"/incidents/{w['incident'].key}/"),
    "incidents:action_add": lambda w: (f"/incidents/{w['incident'].key}/actions/", f"/incidents/{w['incident'].key}/"),
    "incidents:action_status": lambda w: (f"/incidents/{w['incident'].key}/actions/1/", None),
    "incidents:customers": lambda w: (
        f"/incidents/{w['incident'].key}/customers/",
        f"/incidents/{w['incident'].key}/",
    ),
    "incidents:resolve": lambda w: (f"/incidents/{w['incident'].key}/resolve/", f"/incidents/{w['incident'].key}/"),
    "incidents:case_link": lambda w: (
        f"/incidents/case/{w['case'].key}/link/",
        f"/incidents/case/{w['case'].key}/panel/",
    ),
    "incidents:declare_from_case": lambda w: (
        f"/incidents/case/{w['case'].key}/declare/",
        f"/incidents/case/{w['case'].key}/declare/",
    ),
    # Escalations (incidents/escalations).
    "incidents:escalate": lambda w: (_esc(w, "case/{case}/escalate/"), _esc(w, "case/{case}/escalate/")),
    "incidents:feedback": lambda w: (_esc(w, "case/{case}/product/"), _esc(w, "case/{case}/product/")),
    "incidents:sre": lambda w: (_esc(w, "case/{case}/sre/"), _esc(w, "case/{case}/sre/")),
    "incidents:task_decide": lambda w: (_esc(w, "{task}/decide/"), _esc(w, "{task}/")),
    "incidents:task_update": lambda w: (_esc(w, "{task}/update/"), _esc(w, "{task}/")),
    "incidents:task_answer": lambda w: (_esc(w, "{task}/answer/"), _esc(w, "{task}/")),
    "incidents:component_schedule": lambda w: (
        _esc(w, "components/{component}/schedule/"),
        "/incidents/escalations/components/",
    ),
    "incidents:action_link_task": lambda w: (
        _esc(w, "action/{incident}/{action}/link/"),
        f"/incidents/{w['incident'].key}/",
    ),
    "runbooks:create": lambda w: ("/runbooks/new/", "/runbooks/new/"),
    "runbooks:edit": lambda w: ("/runbooks/auth-401-403-triage/edit/", "/runbooks/auth-401-403-triage/edit/"),
    "runbooks:restore": lambda w: ("/runbooks/auth-401-403-triage/restore/", None),
    "runbooks:error_code_import": lambda w: ("/runbooks/errors/import/", "/runbooks/errors/"),
    "runbooks:known_issue": lambda w: (f"/runbooks/known-issues/{w['known_issue'].pk}/", None),
    "runbooks:macro_bulk": lambda w: ("/runbooks/macros/bulk/", "/runbooks/macros/bulk/"),
    "runbooks:macros": lambda w: ("/runbooks/macros/", "/runbooks/macros/new/"),
    "runbooks:macro_create": lambda w: ("/runbooks/macros/new/", "/runbooks/macros/new/"),
    "runbooks:macro_edit": lambda w: (
        f"/runbooks/macros/{w['macro'].pk}/edit/",
        f"/runbooks/macros/{w['macro'].pk}/edit/",
    ),
    "runbooks:article_create": lambda w: ("/runbooks/kb/new/", "/runbooks/kb/new/"),
    "runbooks:article_edit": lambda w: (
        "/runbooks/kb/how-to-generate-api-keys/edit/",
        "/runbooks/kb/how-to-generate-api-keys/edit/",
    ),
    "runbooks:article_restore": lambda w: ("/runbooks/kb/how-to-generate-api-keys/restore/", None),
    "runbooks:article_delete": lambda w: (
        "/runbooks/kb/how-to-generate-api-keys/delete/",
        "/runbooks/kb/how-to-generate-api-keys/delete/",
    ),
    "runbooks:markdown_preview": lambda w: ("/runbooks/preview/", None),
    "runbooks:known_issue_create": lambda w: ("/runbooks/known-issues/new/", "/runbooks/known-issues/new/"),
    "runbooks:known_issue_edit": lambda w: (
        f"/runbooks/known-issues/{w['known_issue'].pk}/edit/",
        f"/runbooks/known-issues/{w['known_issue'].pk}/edit/",
    ),
    "runbooks:known_issue_delete": lambda w: (
        f"/runbooks/known-issues/{w['known_issue'].pk}/delete/",
        f"/runbooks/known-issues/{w['known_issue'].pk}/delete/",
    ),
    "runbooks:case_macro": lambda w: (
        f"/runbooks/case/{w['case'].key}/macros/{w['macro'].pk}/",
        f"/runbooks/case/{w['case'].key}/macros/{w['macro'].pk}/",
    ),
    "runbooks:case_step": lambda w: (f"/runbooks/case/{w['case'].key}/steps/{w['step'].pk}/", None),
    "runbooks:case_link_runbook": lambda w: (f"/runbooks/case/{w['case'].key}/runbooks/", None),
    "runbooks:case_reply_check": lambda w: (f"/runbooks/case/{w['case'].key}/reply-check/", None),
    "runbooks:case_bundle_upload": lambda w: (f"/runbooks/case/{w['case'].key}/diagnostics/upload/", None),
    "runbooks:case_record_consent": lambda w: (f"/runbooks/case/{w['case'].key}/diagnostics/consent/", None),
    "runbooks:case_collect": lambda w: (f"/runbooks/case/{w['case'].key}/diagnostics/collect/sli_snapshot/", None),
    "runbooks:bundle_retry": lambda w: ("/runbooks/bundles/999999/retry/", None),
    "runbooks:bundle_share": lambda w: ("/runbooks/bundles/999999/share/", None),
    # Erasure (issue 18), the case's "Mark mitigated…", the queue's incident hints (issue 13).
    "cases:erasure_confirm": lambda w: ("/cases/erasure/999999/", None),
    "cases:mitigate": lambda w: (f"/cases/{w['case'].key}/mitigate/", f"/cases/{w['case'].key}/"),
    "incidents:declare_from_hint": lambda w: ("/incidents/hints/declare/", None),
    # On-call and paging (issue 14): schedules, overrides, pages, the one-time acknowledge link.
    "oncall:schedules": lambda w: ("/oncall/", "/oncall/"),
    "oncall:layer_add": lambda w: ("/oncall/schedules/999999/layers/", None),
    "oncall:override_add": lambda w: ("/oncall/schedules/999999/overrides/", None),
    "oncall:override_remove": lambda w: ("/oncall/schedules/999999/overrides/999999/remove/", None),
    "oncall:handoff_mine": lambda w: ("/oncall/handoff/mine/", None),
    "oncall:pages": lambda w: ("/oncall/pages/", "/oncall/pages/"),
    "oncall:page_ack": lambda w: ("/oncall/pages/999999/ack/", None),
    "oncall:page_resolve": lambda w: ("/oncall/pages/999999/resolve/", None),
    "oncall:page_case": lambda w: (f"/oncall/case/{w['case'].key}/page/", None),
    "oncall:escalate_tier": lambda w: (f"/oncall/case/{w['case'].key}/tier/", None),
    "oncall:page_incident": lambda w: (f"/oncall/incident/{w['incident'].key}/page/", None),
    "oncall:ack": lambda w: ("/oncall/link/ack/not-a-token/", None),
    # The triage copilot (issue 19).
    "runbooks:copilot_settings": lambda w: ("/runbooks/copilot/settings/", None),
    "runbooks:copilot_decide": lambda w: (f"/runbooks/copilot/case/{w['case'].key}/decide/", None),
    "runbooks:copilot_refresh": lambda w: (f"/runbooks/copilot/case/{w['case'].key}/refresh/", None),
}


def _credit(w) -> int:
    """A closing of the world's case flagged for an SLA credit decision."""
    from cases.closure.models import Closure

    _closure_link(w, "survey")
    closure = Closure.objects.filter(case=w["case"]).first()
    Closure.objects.filter(pk=closure.pk).update(credit="pending")
    return closure.pk


def _closure_link(w, kind: str) -> str:
    """A valid "is this solved?" or survey path for the world's case (its timer / closing made once)."""
    from django.utils import timezone

    from cases.closure import links
    from cases.closure.models import AutoClose, Closure

    case, at = w["case"], timezone.now().replace(microsecond=0)
    if kind == "confirm":
        row = AutoClose.objects.filter(case=case).first()
        row = row or AutoClose.objects.create(case=case, resolved_at=at, due_at=at)
        return f"/c/solved/{links.confirm_token(row.pk, row.resolved_at)}/"
    row = Closure.objects.filter(case=case).first() or Closure.objects.create(
        case=case, tenant_id=case.tenant_id, closed_at=at, how="unconfirmed"
    )
    return f"/c/survey/{links.survey_token(row.pk, row.closed_at)}/"


JSON_POSTS = {
    "api:telemetry_kind": lambda w: "/api/v1/telemetry/slis/",
    "api:alertmanager": lambda w: "/api/v1/alertmanager/",
    # The REST API (its own sweep is schemathesis, tests/companyos/test_api_schema.py).
    "api_cases:list": lambda w: "/api/v1/cases/",
    "api_cases:transition": lambda w: f"/api/v1/cases/{w['case'].key}/transition/",
    "api_cases:replies": lambda w: f"/api/v1/cases/{w['case'].key}/replies/",
    "api_cases:attachments": lambda w: f"/api/v1/cases/{w['case'].key}/attachments/",
    "api_runbooks:trace_bundles": lambda w: f"/api/v1/cases/{w['case'].key}/trace-bundles/",
}
# Read-only: a POST answers 405.
READ_ONLY = {
    "cases:erasure": lambda w: "/cases/erasure/",
    "incidents:queue_hints": lambda w: "/incidents/hints/",
    "oncall:schedule": lambda w: "/oncall/schedules/999999/",
    "oncall:page": lambda w: "/oncall/pages/999999/",
    "oncall:ical_person": lambda w: "/oncall/link/ical/person/not-a-token.ics",
    "oncall:ical_schedule": lambda w: "/oncall/link/ical/not-a-token.ics",
    "runbooks:copilot_report": lambda w: "/runbooks/copilot/report/",
    "runbooks:copilot_panel": lambda w: f"/runbooks/copilot/case/{w['case'].key}/panel/",
    "runbooks:case_diagnostics": lambda w: f"/runbooks/case/{w['case'].key}/diagnostics/",
    "runbooks:bundle_report": lambda w: "/runbooks/bundles/999999/",
    "runbooks:bundle_download": lambda w: "/runbooks/bundles/999999/download/",
    "api_runbooks:trace_bundle": lambda w: "/api/v1/trace-bundles/999999/",
    "shared:bundle_report": lambda w: "/shared/bundles/not-a-token/",
    "healthz": lambda w: "/healthz",
    "readyz": lambda w: "/readyz",
    "metrics": lambda w: "/metrics",
    "search": lambda w: "/search/",
    "cases:list": lambda w: "/cases/",
    "cases:requester_options": lambda w: "/cases/new/requesters/",
    "cases:resource_options": lambda w: "/cases/new/resources/",
    "cases:audit_export": lambda w: f"/cases/{w['case'].key}/audit/export.csv",
    "cases:intake_entitlements": lambda w: "/cases/new/entitlements/",
    "cases:view_counts": lambda w: "/cases/views/counts/",
    "cases:attachment": lambda w: f"/cases/attachments/{w['attachment'].pk}/",
    "cases:detail": lambda w: f"/cases/{w['case'].key}/",
    "cases:audit": lambda w: f"/cases/{w['case'].key}/audit/",
    "cases:context": lambda w: f"/cases/{w['case'].key}/context/",
    "sla:dashboard": lambda w: "/sla/",
    "sla:dashboard_csv": lambda w: "/sla/export.csv",
    "sla:policy_list": lambda w: "/sla/policies/",
    "sla:calendar_list": lambda w: "/sla/calendars/",
    "api:telemetry": lambda w: "/api/v1/telemetry/",
    "api:tenant_list": lambda w: "/api/v1/tenants/",
    "api:tenant_detail": lambda w: "/api/v1/tenants/acme/",
    "api:requester_list": lambda w: "/api/v1/tenants/acme/requesters/",
    "api:requester_detail": lambda w: f"/api/v1/tenants/acme/requesters/{w['case'].requester_id}/",
    "api_cases:detail": lambda w: f"/api/v1/cases/{w['case'].key}/",  # PATCH, not POST
    "api_schema": lambda w: "/api/schema/",
    "api_docs": lambda w: "/api/docs/",
    "tenants:list": lambda w: "/tenants/",
    "tenants:console": lambda w: "/tenants/acme/",
    "tenants:panel": lambda w: "/tenants/acme/panels/health/",
    "zendesk:changes": lambda w: "/zendesk/changes/",
    "cases:email_unmatched": lambda w: "/cases/email/unmatched/",
    "cases:closure": lambda w: f"/cases/{w['case'].key}/closure/",
    "reports:dashboard": lambda w: "/reports/",
    "reports:export": lambda w: "/reports/export.csv",
    "reports:credits": lambda w: "/reports/credits/",
    "reports:weekly": lambda w: "/reports/weekly/",
    "reports:weekly_export": lambda w: "/reports/weekly/exports/2026-W48.csv",
    "reports:credits_csv": lambda w: "/reports/credits.csv",
    "incidents:list": lambda w: "/incidents/",
    "incidents:detail": lambda w: f"/incidents/{w['incident'].key}/",
    "incidents:timeline": lambda w: f"/incidents/{w['incident'].key}/timeline/?before=x",
    "incidents:picker": lambda w: "/incidents/picker/?q=INC",
    "incidents:case_panel": lambda w: f"/incidents/case/{w['case'].key}/panel/",
    "incidents:escalation_list": lambda w: "/incidents/escalations/?status=open&team=x&overdue=1",
    "incidents:components": lambda w: "/incidents/escalations/components/",
    "incidents:escalation_case_panel": lambda w: _esc(w, "case/{case}/panel/"),
    "incidents:task": lambda w: _esc(w, "{task}/"),
    "incidents:product_backlog": lambda w: "/incidents/escalations/product/?theme=x",
    "incidents:backlogs": lambda w: "/incidents/escalations/backlogs/",
    "incidents:backlog": lambda w: "/incidents/escalations/backlogs/docs/",
    "incidents:backlog_export": lambda w: "/incidents/escalations/backlogs/docs.csv?week=2026-W48",
    "incidents:ops_review": lambda w: "/incidents/escalations/review/?week=2026-11-23",
    "incidents:ops_review_download": lambda w: "/incidents/escalations/review/2026-11-23.csv",
    "incidents:shift_handoff": lambda w: "/incidents/escalations/handoff/?team=x",
    "status:page": lambda w: "/status/",
    "status:feed": lambda w: "/status/feed.atom",
    "status:tenant": lambda w: f"/status/t/{w['status_token']}/",
    "status:tenant_feed": lambda w: f"/status/t/{w['status_token']}/feed.atom",
    "runbooks:list": lambda w: "/runbooks/",
    "runbooks:detail": lambda w: "/runbooks/auth-401-403-triage/",
    "runbooks:articles": lambda w: "/runbooks/kb/",
    "runbooks:article": lambda w: "/runbooks/kb/how-to-generate-api-keys/",
    "runbooks:error_codes": lambda w: "/runbooks/errors/",
    "runbooks:known_issues": lambda w: "/runbooks/known-issues/",
    "runbooks:macro_report": lambda w: "/runbooks/macros/report/",
    "runbooks:case_panel": lambda w: f"/runbooks/case/{w['case'].key}/",
    "runbooks:case_macros": lambda w: f"/runbooks/case/{w['case'].key}/macros/",
    "runbooks:case_articles": lambda w: f"/runbooks/case/{w['case'].key}/articles/",
}
ROLES = ["agent", "manager", "admin"]


@pytest.fixture
def world(tenant_a, agent, manager, admin_user):
    requester = RequesterFactory(tenant=tenant_a)
    case = CaseFactory(tenant=tenant_a, requester=requester, subject="Checkout fails")
    ResourceFactory(tenant=tenant_a, external_id="api-gateway")
    integration, token = ingest.integration_create(name="Sweep", actor=admin_user, tenant_ids=[tenant_a.pk])
    widget, _ = tenant_services.widget_configure(
        integration_id=integration.pk, actor=admin_user, enabled=True, allowed_origins=["https://app.acme.example"]
    )
    widget_ctx = sign_context(
        key_id=widget.key_id,
        secret=widget.secret,
        tenant="acme",
        email="jane@acme.example",
        expires_at=int(time.time()) + 3000,
    )
    from incidents import services as incident_services
    from incidents.models import TenantStatusPage

    incident = incident_services.incident_declare(actor=agent, title="Sweep", severity="SEV2", tenants=[tenant_a])
    incident_services.incident_link_cases(incident_id=incident.pk, actor=agent, case_ids=[case.pk])
    return {
        "widget_ctx": widget_ctx,
        "widget_thread": thread_token(case_id=case.pk, requester_id=requester.pk, integration_id=integration.pk),
        "case": case,
        "incident": incident,
        "status_token": TenantStatusPage.objects.create(tenant=tenant_a).token,
        "attachment": AttachmentFactory(case=case),
        "view": SavedView.objects.create(name="Mine", query="status=open", owner=agent),
        "policy": SLAPolicy.objects.order_by("pk").first(),
        "calendar": BusinessCalendar.objects.order_by("pk").first(),
        "integration": integration,
        "token": token,
        "api_token": tokens.token_create(user=agent, name="sweep", scope="write", expires_in_days=30)[0],
        "users": {"agent": agent, "manager": manager, "admin": admin_user},
        "email": _unmatched_email(),
        **_knowledge(),
    }


def _esc(w, path: str) -> str:
    """An escalations URL over the world's case, incident, an engineering task and a corrective
    action (made once per world)."""
    if "eng_task" not in w:
        from incidents import services as incident_services
        from incidents.escalations import services as esc_services
        from incidents.escalations.models import Component

        component = Component.objects.create(name="Sweep API", categories=["other"])
        w["eng_task"] = esc_services.task_escalate(
            case_id=w["case"].pk,
            actor=w["users"]["admin"],
            component_id=component.pk,
            title="t",
            ticket="t",
            account="a",
        )
        w["component"] = component
        w["action"] = incident_services.corrective_action_add(
            incident_id=w["incident"].pk, actor=w["users"]["admin"], title="Fix"
        )
    keys = {
        "case": w["case"].key,
        "task": w["eng_task"].key,
        "incident": w["incident"].key,
        "action": w["action"].pk,
        "component": w["component"].pk,
    }
    return "/incidents/escalations/" + path.format(**keys)


def _knowledge():
    from runbooks.models import KnownIssue, Macro, RunbookStep

    return {
        "known_issue": KnownIssue.objects.create(title="Webhooks drop", message_patterns="webhook timeout"),
        "macro": Macro.objects.get(builtin="initial-response"),
        "step": RunbookStep.objects.order_by("pk").first(),
    }


def _unmatched_email():
    from cases.channels.email import inbound
    from cases.models import EmailMessage

    raw = b"From: Stranger <who@nowhere.example>\r\nTo: support@companyos.example\r\nSubject: Hello\r\n"
    raw += b"Message-ID: <sweep@nowhere.example>\r\n\r\nWho handles this?\r\n"
    return EmailMessage.objects.get(pk=inbound.receive(raw, source="mta").email_id)


def client_for(user) -> Client:
    client = Client(raise_request_exception=True)  # a server error fails with its traceback
    client.force_login(user)
    return client


FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*>", re.S)


def form_fields(page: str) -> dict[str, str]:
    """Every field the page's forms post, with the value it shows (inputs) or "" (selects, textareas)."""
    fields: dict[str, str] = {}
    for tag in FIELD.findall(page):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name or name.group(1) == "csrfmiddlewaretoken":
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        fields.setdefault(html.unescape(name.group(1)), html.unescape(value.group(1)) if value else "")
    return fields


@pytest.fixture
def form_of(world):
    """The fields of a swept form, read (once per test, as the admin sees them) from its page."""
    admin, cache = client_for(world["users"]["admin"]), {}

    def read(name: str) -> dict[str, str]:
        if name not in cache:
            page = POSTS[name](world)[1]
            cache[name] = form_fields(admin.get(page).content.decode()) if page else {}
        return cache[name]

    return read


# --- the registry ------------------------------------------------------------------------------------


def url_names(patterns=None, namespace: str | None = None) -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            names |= url_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            names.add(f"{namespace}:{pattern.name}" if namespace else (pattern.name or ""))
    return names


@pytest.mark.django_db
def test_every_url_is_in_the_sweep(world):
    known = set(POSTS) | set(JSON_POSTS) | set(READ_ONLY)
    assert url_names() - known == set(), "add the new URL to POSTS (it takes a POST) or READ_ONLY"
    assert known - url_names() == set(), "a swept URL is gone: take it out of the lists"
    admin = world["users"]["admin"]

    def status(name: str, where) -> int:
        path = where(world) if isinstance(where(world), str) else where(world)[0]
        if name.startswith(("api:", "api_cases:", "api_")):  # the machine APIs: with the integration's token
            return api(world["token"], path, b"{}").status_code
        return client_for(admin).post(path).status_code

    accepts_post = {name for name, where in {**POSTS, **JSON_POSTS, **READ_ONLY}.items() if status(name, where) != 405}
    assert accepts_post == set(POSTS) | set(JSON_POSTS)


# --- forms ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POSTS))
@SWEEP
@given(data=st.data())
def test_hostile_form_posts_never_5xx(world, form_of, name, data):
    path, _ = POSTS[name](world)
    role = data.draw(st.sampled_from(ROLES), label="role")
    fields = dict(form_of(name))
    names = sorted(fields) + ["id", "ids", "q", "next"]
    for field in data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True), label="hostile fields"):
        fields[field] = data.draw(FIELD_VALUE, label=field)
    if name in ("cases:attach", "cases:reply") and data.draw(st.booleans(), label="with a file"):
        fields["file" if name == "cases:attach" else "attachment"] = SimpleUploadedFile(
            data.draw(FILE_NAMES, label="file name"), b"line\n"
        )
    headers = {"HX-Request": "true"} if data.draw(st.booleans(), label="htmx") else {}
    response = client_for(world["users"][role]).post(path, fields, headers=headers)
    assert response.status_code < 500, (name, role, response.status_code)


RAW_BODIES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"to=\xff\xfe&reason=\xc3\x28",
            b"\xed\xa0\x80=\xed\xa0\x80",  # an encoded lone surrogate
            b"name=" + b"\xe9" * 5000,
            b"%ff%fe=%c3%28&tenant=%c0%af",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n--x--',
            b"a=1&" * 2000,
        ]
    ),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=bogus",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "application/json",
        "text/plain",
    ]
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POSTS))
@settings(SWEEP, max_examples=2)
@given(body=RAW_BODIES, content_type=CONTENT_TYPES, role=st.sampled_from(ROLES))
def test_raw_byte_bodies_never_5xx(world, name, body, content_type, role):
    path, _ = POSTS[name](world)
    response = client_for(world["users"][role]).generic("POST", path, body, content_type=content_type)
    assert response.status_code < 500, (name, role, content_type, response.status_code)


# --- the JSON API --------------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),  # past any float
    st.floats(allow_nan=False, allow_infinity=False),
    VALUE,
)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(VALUE, inner, max_size=3))
SLI = {
    "tenant": "acme",
    "source_id": "s1",
    "name": "availability",
    "objective": 99.9,
    "value": 99.5,
    "error_budget_remaining": 40,
    "observed_at": "2026-03-02T10:00:00Z",
}


def api(token: str, path: str, body: bytes, content_type: str = "application/json"):
    return Client(raise_request_exception=True).generic(
        "POST", path, body, content_type=content_type, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.django_db
@settings(SWEEP, max_examples=25)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_hostile_telemetry_items_never_5xx(world, kind, data):
    item = dict(SLI)
    for field in data.draw(st.lists(st.sampled_from([*SLI, "resource", "data", "labels", "x"]), max_size=3)):
        item[field] = data.draw(JSON, label=field)  # lists and objects for scalars, huge numbers, NUL…
    body = data.draw(st.sampled_from(["items", "bare", "any"]), label="shape")
    payload = {"items": [item]} if body == "items" else [item] if body == "bare" else data.draw(JSON)
    response = api(world["token"], f"/api/v1/telemetry/{kind}/", json.dumps(payload).encode())
    assert response.status_code < 500, (kind, payload, response.status_code)


@pytest.mark.django_db
@settings(SWEEP, max_examples=25)
@given(data=st.data())
def test_hostile_alertmanager_notifications_never_5xx(world, data):
    alert = {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "tenant": "acme", "service": "api-gateway"},
        "annotations": {"summary": "x"},
        "startsAt": "2026-03-02T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "abc",
    }
    for field in data.draw(st.lists(st.sampled_from([*alert, "generatorURL"]), max_size=3)):
        alert[field] = data.draw(JSON, label=field)
    payload = {"version": data.draw(st.sampled_from(["4", 4, None])), "alerts": [alert]}
    if data.draw(st.booleans(), label="whole payload hostile"):
        payload = data.draw(JSON)
    response = api(world["token"], "/api/v1/alertmanager/", json.dumps(payload).encode())
    assert response.status_code < 500, (payload, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/telemetry/slis/", "/api/v1/alertmanager/", "/api/v1/telemetry/"])
@settings(SWEEP, max_examples=6)
@given(body=RAW_BODIES, content_type=CONTENT_TYPES)
def test_raw_byte_api_bodies_never_5xx(world, path, body, content_type):
    response = api(world["token"], path, body, content_type)
    assert response.status_code < 500, (path, body[:80], content_type, response.status_code)
