"""`{% warning_banner %}`: the live warnings for the signed-in resident's home, on any page.

Base template include (one line, for the lead): `{% load warning_tags %}{% warning_banner %}`
just inside <main>.
"""

from __future__ import annotations

from django import template

from renzhi.warning import queries

register = template.Library()


@register.inclusion_tag("warning/_banner.html", takes_context=True)
def warning_banner(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"warnings": []}
    return {"warnings": list(queries.warnings_near_home(user))}
