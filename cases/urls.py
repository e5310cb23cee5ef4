from django.urls import path, re_path

from . import views, views_erasure, views_merge, views_phone, views_presence
from .channels.email import views as email_views
from .closure import views as closure_views

app_name = "cases"

KEY = r"(?P<key>[A-Za-z]+-\d{1,12})"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("new/requesters/", views.requester_options, name="requester_options"),
    path("new/resources/", views.resource_options, name="resource_options"),
    path("new/entitlements/", views.intake_entitlements, name="intake_entitlements"),
    path("new/call/", views_phone.phone_case_create, name="phone_create"),
    path("bulk/", views.case_bulk, name="bulk"),
    path("display/", views.queue_display, name="display"),
    path("views/", views.saved_view_create, name="view_create"),
    path("views/counts/", views.saved_view_counts, name="view_counts"),
    path("views/<id:pk>/delete/", views.saved_view_delete, name="view_delete"),
    path("attachments/<id:pk>/", views.attachment_download, name="attachment"),
    path("erasure/", views_erasure.erasure_list, name="erasure"),  # admins: erase a contact (issue 18)
    path("erasure/<id:pk>/", views_erasure.erasure_confirm, name="erasure_confirm"),
    path("email/unmatched/", email_views.unmatched_list, name="email_unmatched"),
    path("email/unmatched/<id:pk>/assign/", email_views.unmatched_assign, name="email_assign"),
    path("email/unmatched/<id:pk>/discard/", email_views.unmatched_discard, name="email_discard"),
    re_path(rf"^{KEY}/$", views.case_detail, name="detail"),
    re_path(rf"^{KEY}/audit/$", views.case_audit, name="audit"),
    re_path(rf"^{KEY}/audit/export\.csv$", views.case_audit_export, name="audit_export"),
    re_path(rf"^{KEY}/reply/$", views.case_reply, name="reply"),
    re_path(rf"^{KEY}/transition/$", views.case_transition, name="transition"),
    re_path(rf"^{KEY}/assign/$", views.case_assign, name="assign"),
    re_path(rf"^{KEY}/mitigate/$", views.case_mitigate, name="mitigate"),
    re_path(rf"^{KEY}/classify/$", views.case_classify, name="classify"),
    re_path(rf"^{KEY}/tags/$", views.case_tags, name="tags"),
    re_path(rf"^{KEY}/merge/$", views_merge.case_merge, name="merge"),
    re_path(rf"^{KEY}/presence/$", views_presence.case_presence, name="presence"),
    re_path(rf"^{KEY}/resources/$", views.case_resources, name="resources"),
    re_path(rf"^{KEY}/attachments/$", views.case_attach, name="attach"),
    re_path(rf"^{KEY}/context/$", views.case_context, name="context"),
    re_path(rf"^{KEY}/context/refresh/$", views.case_context_refresh, name="context_refresh"),
    re_path(rf"^{KEY}/context/decide/$", views.case_context_decide, name="context_decide"),
    re_path(rf"^{KEY}/phone/$", views_phone.case_phone, name="phone"),
    re_path(rf"^{KEY}/closure/$", closure_views.closure_panel, name="closure"),
    re_path(rf"^{KEY}/root-cause/$", closure_views.root_cause, name="root_cause"),
    re_path(
        rf"^{KEY}/phone/callbacks/(?P<pk>\d{{1,12}})/done/$", views_phone.callback_done, name="phone_callback_done"
    ),
]
