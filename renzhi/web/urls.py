from django.urls import path

from renzhi.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("places/", views.places, name="places"),
    path("units/", views.units, name="units"),
    path("users/", views.users, name="users"),
    path("calendar/", views.calendar, name="calendar"),
    path("audit/", views.audit, name="audit"),
    path("tokens/", views.tokens, name="tokens"),
]
