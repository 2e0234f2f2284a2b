"""Page guards: anonymous visitors go to the login page; users without the right get a 403."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from renzhi.web.navigation import Rule, allowed


def requires(rule: Rule):
    """Guard a view with the same rule its navigation entry uses (see navigation.ENTRIES)."""

    def decorator(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user, rule):
                raise PermissionDenied(_("Your role does not give access to this page."))
            return view(request, *args, **kwargs)

        return guarded

    return decorator
