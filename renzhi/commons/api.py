"""JSON API of the commons app, mounted at /api/commons (OpenAPI tag "commons").

Every object is looked up through `queries` (the read scope): outside it the answer is 404,
never 403, so existence does not leak. Inside it, the action decides (403 for a missing right,
400/409 for a refused step, always with the field named). One sub-router per concept.
"""

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from ninja import Router

from renzhi.commons import api_activities, api_deliberation, api_organisations
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Place, User

router = Router(tags=["commons"])


def get_visible(qs: QuerySet, pk: int, field: str = "id") -> Model:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise ActionError(_("Not found."), field=field, code=ErrorCode.NOT_FOUND)
    return obj


def place_by_code(code: str, field: str = "community_code") -> Place:
    place = Place.objects.filter(code=(code or "").strip()).first()
    if place is None:
        raise ActionError(_("No place has this code."), field=field)
    return place


def user_by_name(username: str | None, field: str) -> User:
    user = User.objects.filter(username=(username or "").strip(), is_active=True).first()
    if user is None:
        raise ActionError(_("No account has this user name."), field=field)
    return user


router.add_router("", api_organisations.router)
router.add_router("", api_deliberation.router)
router.add_router("", api_activities.router)
