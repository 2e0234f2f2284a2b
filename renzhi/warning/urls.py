"""warning pages, included in renzhi/urls.py."""

from django.urls import URLPattern, URLResolver

app_name = "warning"

urlpatterns: list[URLPattern | URLResolver] = []
