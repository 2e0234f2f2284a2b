"""Public CAP 1.2 endpoints (`/cap/feed.xml` and each alert's XML), included at "cap/".

No login: alerts are public by nature (CAP scope "Public"), like national public-alert feeds.
"""

from django.urls import URLPattern, URLResolver, path

from renzhi.warning import views_cap

app_name = "cap"

urlpatterns: list[URLPattern | URLResolver] = [
    path("feed.xml", views_cap.feed, name="feed"),
    path("alerts/<str:identifier>.xml", views_cap.alert, name="alert"),
    path("warnings/<int:pk>/", views_cap.warning_page, name="warning"),
]
