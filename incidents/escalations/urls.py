from django.urls import path

from . import views

urlpatterns = [
    path("", views.task_list, name="escalation_list"),
    path("components/", views.component_map, name="components"),
    path("case/<str:key>/panel/", views.case_panel, name="escalation_case_panel"),
    path("case/<str:key>/escalate/", views.escalate, name="escalate"),
    path("action/<str:key>/<id:pk>/link/", views.action_link, name="action_link_task"),
    path("<str:key>/", views.task_detail, name="task"),
    path("<str:key>/decide/", views.task_decide, name="task_decide"),
    path("<str:key>/update/", views.task_update, name="task_update"),
    path("<str:key>/answer/", views.task_answer, name="task_answer"),
]
