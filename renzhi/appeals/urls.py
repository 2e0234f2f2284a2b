"""Appeals pages, included at "appeals/" in renzhi/urls.py (after the dashboard's
"appeals/dashboard/", before the catch-all web routes). Static paths come before the
tracking-number patterns."""

from django.urls import path

from renzhi.appeals import views

app_name = "appeals"

urlpatterns = [
    path("", views.appeal_list, name="list"),
    path("new/", views.new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("hotline/", views.hotline, name="hotline"),
    path("patrol/", views.patrol, name="patrol"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:notification_id>/", views.inbox_open, name="inbox_open"),
    path("boundaries.geojson", views.boundaries, name="boundaries"),
    path("<str:tracking_no>/", views.detail, name="detail"),
    path("<str:tracking_no>/submitted/", views.submitted, name="submitted"),
    path("<str:tracking_no>/photos/<int:number>/", views.photo, name="photo"),
    path(
        "<str:tracking_no>/photos/<int:number>/thumb/",
        views.photo,
        {"thumbnail": True},
        name="photo_thumb",
    ),
    path("<str:tracking_no>/act/<str:verb>/", views.act, name="act"),
]
