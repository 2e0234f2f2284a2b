"""Emergency pages (incidents), merged into `renzhi.emergency.urls` (namespace "emergency")."""

from django.urls import URLPattern, URLResolver, path

from renzhi.emergency import views_incidents as v

urlpatterns: list[URLPattern | URLResolver] = [
    path("", v.dashboard_page, name="dashboard"),
    path("incidents/", v.incident_list, name="incidents"),
    path("incidents/new/", v.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", v.incident_detail, name="incident"),
    path("incidents/<int:pk>/board/", v.incident_board, name="board"),
    path("incidents/<int:pk>/review/", v.review_page, name="review"),
    path("incidents/<int:pk>/live-log/", v.incident_log, name="incident_log"),
    path("incidents/<int:pk>/<str:step>/", v.incident_step, name="incident_step"),
    path("warnings/<int:warning_id>/activate/", v.warning_activate, name="warning_activate"),
    path("tasks/", v.my_tasks, name="tasks"),
    path("tasks/<int:pk>/", v.task_detail, name="task"),
    path("tasks/<int:pk>/reports/<int:report_id>/photo/", v.task_report_photo, name="report_photo"),
    path("plans/", v.plan_list, name="plans"),
    path("plans/new/", v.plan_new, name="plan_new"),
    path("plans/<int:pk>/", v.plan_detail, name="plan"),
    path("plans/<int:pk>/edit/", v.plan_edit, name="plan_edit"),
    path("shelters/", v.shelter_list, name="shelters"),
    path("shelters/<int:pk>/", v.shelter_detail, name="shelter"),
]
