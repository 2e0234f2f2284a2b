"""commons pages, included in renzhi/urls.py."""

from django.urls import URLPattern, URLResolver

app_name = "commons"

urlpatterns: list[URLPattern | URLResolver] = []
