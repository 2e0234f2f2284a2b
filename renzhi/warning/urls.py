"""warning pages, included in renzhi/urls.py at "warnings/"."""

from django.urls import URLPattern, URLResolver, path

from renzhi.warning import views

app_name = "warning"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.warning_list, name="list"),
    path("new/", views.warning_new, name="new"),
    path("<int:pk>/", views.warning_detail, name="detail"),
    path("<int:pk>/edit/", views.warning_edit, name="edit"),
    path("<int:pk>/<str:step>/", views.warning_step, name="step"),
    path("signals/", views.signal_list, name="signals"),
    path("signals/<int:pk>/<str:step>/", views.signal_step, name="signal_step"),
    path("series/<int:pk>/", views.series_chart, name="series"),
    path("map/", views.warning_map, name="map"),
    path("map.json", views.map_json, name="map_json"),
    path("mine/", views.my_warnings, name="mine"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("import/", views.cap_import, name="import"),
    path("webhooks/", views.webhooks, name="webhooks"),
]
