"""emergency pages, included in renzhi/urls.py."""

from django.urls import URLPattern, URLResolver

app_name = "emergency"

urlpatterns: list[URLPattern | URLResolver] = []
