from django.urls import path, re_path

from . import views
from .copilot import views as copilot
from .diagnostics import views as diagnostics

app_name = "runbooks"

KEY = r"(?P<key>[A-Za-z]+-\d{1,12})"

urlpatterns = [
    path("", views.runbook_list, name="list"),
    path("new/", views.runbook_edit, name="create"),
    path("kb/", views.article_list, name="articles"),
    path("kb/new/", views.article_edit, name="article_create"),
    path("kb/<slug:slug>/", views.article_detail, name="article"),
    path("kb/<slug:slug>/edit/", views.article_edit, name="article_edit"),
    path("kb/<slug:slug>/restore/", views.article_restore, name="article_restore"),
    path("kb/<slug:slug>/delete/", views.article_delete, name="article_delete"),
    path("preview/", views.markdown_preview, name="markdown_preview"),
    path("errors/", views.error_code_list, name="error_codes"),
    path("errors/import/", views.error_code_import, name="error_code_import"),
    path("known-issues/", views.known_issue_list, name="known_issues"),
    path("known-issues/new/", views.known_issue_edit, name="known_issue_create"),
    path("known-issues/<id:pk>/", views.known_issue_detail, name="known_issue"),
    path("known-issues/<id:pk>/edit/", views.known_issue_edit, name="known_issue_edit"),
    path("known-issues/<id:pk>/delete/", views.known_issue_delete, name="known_issue_delete"),
    path("macros/", views.macro_list, name="macros"),
    path("macros/new/", views.macro_edit, name="macro_create"),
    path("macros/<id:pk>/edit/", views.macro_edit, name="macro_edit"),
    path("macros/report/", views.macro_report, name="macro_report"),
    path("macros/bulk/", views.macro_bulk, name="macro_bulk"),
    path("copilot/report/", copilot.report, name="copilot_report"),
    path("copilot/settings/", copilot.settings_save, name="copilot_settings"),
    re_path(rf"^copilot/case/{KEY}/panel/$", copilot.case_panel, name="copilot_panel"),
    re_path(rf"^copilot/case/{KEY}/decide/$", copilot.case_decide, name="copilot_decide"),
    re_path(rf"^copilot/case/{KEY}/refresh/$", copilot.case_refresh, name="copilot_refresh"),
    re_path(rf"^case/{KEY}/$", views.case_panel, name="case_panel"),
    re_path(rf"^case/{KEY}/macros/$", views.case_macros, name="case_macros"),
    re_path(rf"^case/{KEY}/macros/(?P<pk>\d{{1,12}})/$", views.case_macro, name="case_macro"),
    re_path(rf"^case/{KEY}/steps/(?P<step>\d{{1,12}})/$", views.case_step, name="case_step"),
    re_path(rf"^case/{KEY}/runbooks/$", views.case_link_runbook, name="case_link_runbook"),
    re_path(rf"^case/{KEY}/articles/$", views.case_articles, name="case_articles"),
    re_path(rf"^case/{KEY}/reply-check/$", views.case_reply_check, name="case_reply_check"),
    re_path(rf"^case/{KEY}/diagnostics/$", diagnostics.case_diagnostics, name="case_diagnostics"),
    re_path(rf"^case/{KEY}/diagnostics/upload/$", diagnostics.case_bundle_upload, name="case_bundle_upload"),
    re_path(rf"^case/{KEY}/diagnostics/consent/$", diagnostics.case_record_consent, name="case_record_consent"),
    re_path(
        rf"^case/{KEY}/diagnostics/collect/(?P<name>[a-z0-9_]{{1,40}})/$", diagnostics.case_collect, name="case_collect"
    ),
    path("bundles/<id:pk>/", diagnostics.bundle_report, name="bundle_report"),
    path("bundles/<id:pk>/retry/", diagnostics.bundle_retry, name="bundle_retry"),
    path("bundles/<id:pk>/download/", diagnostics.bundle_download, name="bundle_download"),
    path("bundles/<id:pk>/share/", diagnostics.bundle_share, name="bundle_share"),
    path("<slug:slug>/", views.runbook_detail, name="detail"),
    path("<slug:slug>/edit/", views.runbook_edit, name="edit"),
    path("<slug:slug>/restore/", views.runbook_restore, name="restore"),
]
