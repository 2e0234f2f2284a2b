from django.urls import path

from renzhi.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("register/confirm/", views.register_confirm, name="register_confirm"),
    path("places/", views.places, name="places"),
    path("units/", views.units, name="units"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:user_id>/", views.user_detail, name="user"),
    path("users/<int:user_id>/roles/", views.user_grant_role, name="user_grant_role"),
    path(
        "users/<int:user_id>/roles/<int:membership_id>/revoke/",
        views.user_revoke_role,
        name="user_revoke_role",
    ),
    path("users/<int:user_id>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:user_id>/password/", views.user_set_password, name="user_set_password"),
    path("users/<int:user_id>/unlock/", views.user_unlock, name="user_unlock"),
    path("calendar/", views.calendar, name="calendar"),
    path(
        "calendar/overrides/<str:date>/remove/",
        views.calendar_remove_override,
        name="calendar_remove_override",
    ),
    path("audit/", views.audit, name="audit"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
