"""open311 routes, included at /open311/ in renzhi/urls.py: the GeoReport v2 API under v2/
(every endpoint with a .json or .xml suffix; requests.geojson is our extension) and the admin
pages for partner keys and service attributes."""

from django.urls import URLPattern, URLResolver, path, re_path

from renzhi.open311 import api, views

app_name = "open311"

FMT = r"(?P<fmt>json|xml)"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(rf"^v2/discovery\.{FMT}$", api.discovery, name="discovery"),
    re_path(rf"^v2/services\.{FMT}$", api.services, name="services"),
    re_path(
        rf"^v2/services/(?P<service_code>[^/]+?)\.{FMT}$",
        api.service_definition,
        name="service_definition",
    ),
    re_path(r"^v2/requests\.geojson$", api.requests_geojson, name="requests_geojson"),
    re_path(rf"^v2/requests\.{FMT}$", api.requests, name="requests"),
    re_path(
        rf"^v2/requests/(?P<service_request_id>[^/]+?)\.{FMT}$",
        api.request_detail,
        name="request",
    ),
    re_path(rf"^v2/tokens/(?P<token>[^/]+?)\.{FMT}$", api.token, name="token"),
    re_path(r"^v2(?P<rest>/.*)?$", api.not_found, name="not_found"),
    path("keys/", views.keys, name="keys"),
    path("keys/<int:key_id>/", views.key_detail, name="key"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("attributes/", views.attributes, name="attributes"),
    path("attributes/<str:code>/", views.category_attributes, name="category_attributes"),
    path(
        "attributes/<str:code>/<int:attribute_id>/",
        views.attribute_edit,
        name="attribute_edit",
    ),
    path(
        "attributes/<str:code>/<int:attribute_id>/delete/",
        views.attribute_delete,
        name="attribute_delete",
    ),
]
