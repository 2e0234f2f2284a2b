"""Public CAP 1.2 endpoints (`/cap/feed.xml` and each alert's XML), included at "cap/"."""

from django.urls import URLPattern, URLResolver

app_name = "cap"

urlpatterns: list[URLPattern | URLResolver] = []
