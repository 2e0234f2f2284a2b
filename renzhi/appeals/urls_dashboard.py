"""The leader dashboard's routes; included at "appeals/dashboard/" in renzhi/urls.py."""

from django.urls import path

from renzhi.appeals import dashboard

app_name = "appeals_dashboard"

urlpatterns = [
    path("", dashboard.page, name="page"),
    path("data/", dashboard.data, name="data"),
]
