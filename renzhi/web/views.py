"""Server-rendered pages. Thin: read through queries, change through actions."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view()


@login_required
def home(request):
    return render(request, "web/home.html")


def register(request):
    return render(request, "web/home.html")


places = units = users = calendar = audit = tokens = home
