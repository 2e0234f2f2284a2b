"""Template context: the navigation a role may see and who is signed in."""

from django.conf import settings

from renzhi.web.navigation import menu_for
from renzhi.web.presenters import role_summary


def navigation(request):
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "nav_items": menu_for(user, request.path) if signed_in else [],
        "current_roles": role_summary(user) if signed_in else [],
        "product_name": settings.RENZHI_SITE_NAME,
    }
