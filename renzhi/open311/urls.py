"""open311 pages, included in renzhi/urls.py."""

from django.urls import URLPattern, URLResolver

app_name = "open311"

urlpatterns: list[URLPattern | URLResolver] = []
