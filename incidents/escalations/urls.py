from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.task_list, name="escalation_list"),
    path("components/", views.component_map, name="components"),
    path("components/<id:pk>/schedule/", views.component_schedule, name="component_schedule"),
    path("case/<str:key>/panel/", views.case_panel, name="escalation_case_panel"),
    path("case/<str:key>/escalate/", views.escalate, name="escalate"),
    path("case/<str:key>/product/", views.feedback, name="feedback"),
    path("case/<str:key>/sre/", views.sre, name="sre"),
    path("product/", views.product_backlog, name="product_backlog"),
    path("backlogs/", views.backlog_page, name="backlogs"),
    path("backlogs/<str:name>/", views.backlog_page, name="backlog"),
    re_path(r"^backlogs/(?P<name>[a-z]{1,20})\.(?P<fmt>csv|json)$", views.backlog_export, name="backlog_export"),
    path("review/", views.ops_review, name="ops_review"),  # → /reports/weekly/
    path("handoff/", views.shift_handoff, name="shift_handoff"),
    re_path(
        r"^review/(?P<week>\d{4}-\d{2}-\d{2})\.(?P<fmt>csv|json)$",  # → /reports/weekly/exports/
        views.ops_review_download,
        name="ops_review_download",
    ),
    path("action/<str:key>/<id:pk>/link/", views.action_link, name="action_link_task"),
    path("<str:key>/", views.task_detail, name="task"),
    path("<str:key>/decide/", views.task_decide, name="task_decide"),
    path("<str:key>/update/", views.task_update, name="task_update"),
    path("<str:key>/answer/", views.task_answer, name="task_answer"),
]
