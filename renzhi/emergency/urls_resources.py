"""Emergency pages (resources), merged into `renzhi.emergency.urls` (namespace "emergency")."""

from django.urls import URLPattern, URLResolver, path

from renzhi.emergency import views_resources as v

urlpatterns: list[URLPattern | URLResolver] = [
    path("reserves/", v.stock_overview, name="stock"),
    path("reserves/move/", v.stock_move, name="stock_move"),
    path("reserves/ledger/", v.stock_ledger, name="stock_ledger"),
    path("reserves/export/", v.stock_export, name="stock_export"),
    path("reserves/import/", v.stock_import, name="stock_import"),
    path("reserves/import/template/", v.stock_template, name="stock_template"),
    path("reserves/depots/new/", v.depot_new, name="depot_new"),
    path("reserves/items/", v.item_list, name="items"),
    path("reserves/items/new/", v.item_new, name="item_new"),
    path("reserves/items/<slug:code>/edit/", v.item_edit, name="item_edit"),
    path("depots/<slug:code>/", v.depot_detail, name="depot"),
    path("depots/<slug:code>/edit/", v.depot_edit, name="depot_edit"),
    path("depots/<slug:code>/minimums/", v.depot_minimums, name="depot_minimums"),
    path("requests/", v.request_list, name="requests"),
    path("requests/<int:pk>/", v.request_detail, name="request"),
    path("distributions/", v.distribution_list, name="distributions"),
    path("people/", v.people_list, name="people"),
    path("people/me/", v.volunteer_me, name="volunteer_me"),
    path("teams/", v.team_list, name="teams"),
    path("callups/", v.callup_list, name="callups"),
    path("callups/send/", v.callup_send, name="callup_send"),
    path("callups/<int:pk>/<str:step>/", v.callup_step, name="callup_step"),
    path("vulnerable/", v.vulnerable_list, name="vulnerable"),
    path("vulnerable/new/", v.vulnerable_new, name="vulnerable_new"),
    path("vulnerable/<int:pk>/", v.vulnerable_detail, name="vulnerable_detail"),
]
