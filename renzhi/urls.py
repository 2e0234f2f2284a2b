from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from renzhi.api import api

# A busy database raised outside a view still answers 503 (see renzhi.core.overload).
handler500 = "renzhi.core.overload.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
    path("appeals/dashboard/", include("renzhi.appeals.urls_dashboard")),
    path("appeals/", include("renzhi.appeals.urls")),
    path("triage/", include("renzhi.triage.urls")),
    path("warnings/", include("renzhi.warning.urls")),
    path("emergency/", include("renzhi.emergency.urls")),
    path("commons/", include("renzhi.commons.urls")),
    path("open311/", include("renzhi.open311.urls")),
    path("cap/", include("renzhi.warning.urls_cap")),
    path("", include("renzhi.web.urls")),
]
# Nothing under MEDIA_ROOT is served as such, not even with DEBUG: every stored file goes
# through its app's view, which checks the viewer's scope (see renzhi/core/uploads.py).
