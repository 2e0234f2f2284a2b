"""triage pages, included in renzhi/urls.py."""

from django.urls import URLPattern, URLResolver

app_name = "triage"

urlpatterns: list[URLPattern | URLResolver] = []
