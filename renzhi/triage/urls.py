"""triage pages, included in renzhi/urls.py."""

from django.urls import URLPattern, URLResolver, path

from renzhi.triage import views

app_name = "triage"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.queue, name="queue"),
    path("queue/<str:tracking_no>/decide/", views.decide, name="decide"),
    path("hot/", views.hot, name="hot"),
    path("models/", views.models_page, name="models"),
    path("models/<int:version_id>/activate/", views.activate, name="activate"),
    path("models/<str:head>/rollback/", views.rollback, name="rollback"),
    path("models/<str:head>/retrain/", views.retrain, name="retrain"),
    path("urgency-rules/", views.urgency_rule, name="urgency_rule"),
]
