"""Emergency pages, included at "emergency/": incidents, plans, tasks, shelters and reviews
(`urls_incidents`), reserves, people and the vulnerable register (`urls_resources`)."""

from django.urls import URLPattern, URLResolver

from renzhi.emergency import urls_incidents, urls_resources

app_name = "emergency"

urlpatterns: list[URLPattern | URLResolver] = [
    *urls_incidents.urlpatterns,
    *urls_resources.urlpatterns,
]
