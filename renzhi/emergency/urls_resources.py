"""Emergency pages (resources), merged into `renzhi.emergency.urls` (namespace "emergency")."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
