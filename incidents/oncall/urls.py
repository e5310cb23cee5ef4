from django.urls import path

from . import views

app_name = "oncall"

urlpatterns = [
    path("", views.schedule_list, name="schedules"),
    path("schedules/<int:pk>/", views.schedule_detail, name="schedule"),
    path("schedules/<int:pk>/layers/", views.layer_add, name="layer_add"),
    path("schedules/<int:pk>/overrides/", views.override_add, name="override_add"),
    path("schedules/<int:pk>/overrides/<int:override_pk>/remove/", views.override_remove, name="override_remove"),
    path("handoff/mine/", views.handoff_mine, name="handoff_mine"),
    path("pages/", views.page_list, name="pages"),
    path("pages/<int:pk>/", views.page_detail, name="page"),
    path("pages/<int:pk>/ack/", views.page_ack, name="page_ack"),
    path("pages/<int:pk>/resolve/", views.page_resolve, name="page_resolve"),
    path("case/<str:key>/page/", views.page_case, name="page_case"),
    path("case/<str:key>/tier/", views.escalate_tier, name="escalate_tier"),
    path("incident/<str:key>/page/", views.page_incident, name="page_incident"),
    # signed, no sign-in (LoginRequiredMiddleware's open prefix /oncall/link/)
    path("link/ack/<str:token>/", views.ack_link, name="ack"),
    path("link/ical/person/<str:token>.ics", views.ical_person, name="ical_person"),
    path("link/ical/<str:token>.ics", views.ical_schedule, name="ical_schedule"),
]
