"""commons pages, included at "commons/" in renzhi/urls.py."""

from django.urls import URLPattern, URLResolver, path

from renzhi.commons import views, views_deliberation, views_files, views_life

app_name = "commons"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.hub, name="hub"),
    path("organisations/", views.organisation_list, name="organisations"),
    path("organisations/new/", views.organisation_new, name="organisation_new"),
    path("organisations/<int:org_id>/", views.organisation_detail, name="organisation"),
    path(
        "organisations/<int:org_id>/act/<str:verb>/",
        views.organisation_act,
        name="organisation_act",
    ),
    path("organisations/<int:org_id>/charter/", views_files.charter, name="charter"),
    path("residences/", views.residences, name="residences"),
    path("residences/<int:residence_id>/verify/", views.residence_verify, name="residence_verify"),
    path("metrics/", views.metrics_page, name="metrics"),
    path("proposals/", views_deliberation.proposal_list, name="proposals"),
    path("proposals/new/", views_deliberation.proposal_new, name="proposal_new"),
    path("proposals/<int:proposal_id>/", views_deliberation.proposal_detail, name="proposal"),
    path(
        "proposals/<int:proposal_id>/act/<str:verb>/",
        views_deliberation.proposal_act,
        name="proposal_act",
    ),
    path(
        "proposals/<int:proposal_id>/progress/<int:update_id>/photo/",
        views_files.progress_photo,
        name="progress_photo",
    ),
    path("activities/", views_life.activity_list, name="activities"),
    path("activities/new/", views_life.activity_new, name="activity_new"),
    path("activities/<int:activity_id>/", views_life.activity_detail, name="activity"),
    path(
        "activities/<int:activity_id>/checkin", views_life.activity_checkin, name="activity_checkin"
    ),
    path(
        "activities/<int:activity_id>/act/<str:verb>/", views_life.activity_act, name="activity_act"
    ),
    path(
        "activities/<int:activity_id>/photos/<int:photo_id>/",
        views_files.activity_photo,
        name="activity_photo",
    ),
    path("training/", views_life.training_page, name="training"),
    path("training/new/", views_life.course_new, name="course_new"),
    path("training/<int:course_id>/act/<str:verb>/", views_life.course_act, name="course_act"),
    path("timebank/", views_life.timebank_page, name="timebank"),
    path("timebank/<int:post_id>/act/<str:verb>/", views_life.help_act, name="help_act"),
]
