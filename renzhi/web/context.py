"""Template context: the navigation a role may see (filled in by renzhi.web.navigation)."""

from renzhi.web.navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    return {"nav_items": menu_for(user, request.path) if user is not None else []}
