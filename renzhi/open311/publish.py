"""The read side of the adapter: appeal categories as Open311 services, appeals as service
requests, and the mapping of every Renzhi state onto the spec's two statuses.

What is published (docs/open311.md, "What is published"):

- services: active leaf categories an administrator marked `open311_public` (and open to
  residents); nothing else can be read or filed under;
- requests: only appeals of those services that came in through Open311 or whose resident
  ticked "publish" at intake (`Appeal.public`); web, hotline, patrol and imported appeals stay
  private otherwise;
- each under its random `public_id` (never the tracking number, which tells the date and the
  count of the day), with the location snapped to a 0.001° grid (about 111 m north–south,
  85 m east–west here), the address given only as grid, community and street names, phone and
  ID numbers masked and the contact's name taken out of the text. Never a name, phone number,
  email or account.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from renzhi.appeals.models import Appeal, AppealEvent, Category, Channel, State
from renzhi.core.privacy import redact_numbers
from renzhi.core.workdays import LOCAL_TZ
from renzhi.open311.models import ServiceAttribute

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
OPEN, CLOSED = "open", "closed"
MAX_REQUESTS = 1000
DEFAULT_SPAN = dt.timedelta(days=90)
# Published coordinates are snapped to this grid (degrees): 0.001° is about 111 m north–south
# and 85 m east–west at Beijing's latitude, enough to find the street, not the door.
GRID_DEGREES = 0.001
NAME_PLACEHOLDER = "**"

# Every Renzhi state on the spec's open/closed. "Resolved" (办结, waiting for the resident's
# rating) is closed: the work is done; a reopened case becomes open again.
STATUS_OF: dict[str, str] = {
    State.RECEIVED: OPEN,
    State.ACCEPTED: OPEN,
    State.DISPATCHED: OPEN,
    State.SIGNED: OPEN,
    State.HANDLING: OPEN,
    State.SUSPENDED: OPEN,
    State.RESOLVED: CLOSED,
    State.CLOSED: CLOSED,
    State.REJECTED: CLOSED,
    State.WITHDRAWN: CLOSED,
    State.MERGED: CLOSED,
}


def states_with(status: str) -> list[str]:
    return [state for state, s in STATUS_OF.items() if s == status]


# --- Services ---------------------------------------------------------------------------------


def service_categories() -> list[Category]:
    """Categories a partner may file under: active public leaves an administrator published on
    Open311 (a second-level category, or a first-level one without children), each under an
    active public parent."""
    rows = list(
        Category.objects.filter(active=True, public=True, open311_public=True)
        .select_related("parent")
        .order_by("sort", "code")
    )
    with_children = {c.parent_id for c in rows if c.parent_id is not None}
    return [
        c
        for c in rows
        if c.pk not in with_children and (c.parent is None or (c.parent.active and c.parent.public))
    ]


def find_service(code: str) -> Category | None:
    return next((c for c in service_categories() if c.code == code), None)


def attributes_of(category: Category) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(category=category).order_by("order", "code"))


def service_entry(category: Category, has_attributes: bool) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.name,
        "metadata": has_attributes,
        "type": "realtime",
        "keywords": ", ".join(_keywords(category)),
        "group": category.top.name,
    }


def services() -> list[dict]:
    categories = service_categories()
    with_attributes = set(
        ServiceAttribute.objects.filter(category__in=categories, variable=True).values_list(
            "category_id", flat=True
        )
    )
    return [service_entry(c, c.pk in with_attributes) for c in categories]


def definition(category: Category) -> dict:
    return {
        "service_code": category.code,
        "attributes": [attribute_entry(a) for a in attributes_of(category)],
    }


def attribute_entry(a: ServiceAttribute) -> dict:
    return {
        "variable": a.variable,
        "code": a.code,
        "datatype": a.datatype,
        "required": a.required,
        "datatype_description": a.datatype_description or None,
        "order": a.order,
        "description": a.description,
        "values": [{"key": str(v["key"]), "name": str(v["name"])} for v in a.values or []],
    }


def _keywords(category: Category) -> list[str]:
    words = [w.strip() for w in category.keywords.replace("，", ",").split(",") if w.strip()]
    return list(dict.fromkeys(words))


# --- Service requests -------------------------------------------------------------------------


def published_appeals() -> QuerySet[Appeal]:
    """Appeals anyone may read through Open311 (see the module's docstring), with what their
    entries need in one query."""
    notes = (
        AppealEvent.objects.filter(appeal=OuterRef("pk"), public=True)
        .exclude(verb="submit")
        .exclude(note="")
        .order_by("-at", "-id")
        .values("note")[:1]
    )
    return (
        Appeal.objects.filter(category__public=True, category__open311_public=True)
        .filter(Q(channel=Channel.OPEN311) | Q(public=True))
        .exclude(public_id__isnull=True)
        .select_related("category", "unit", "grid", "community", "street", "open311", "resident")
        .annotate(public_note=Subquery(notes))
    )


def request_entry(appeal: Appeal) -> dict:
    """One service request as the spec lists its fields, in the spec's order."""
    category = appeal.category
    status = STATUS_OF.get(appeal.state, OPEN)
    partner = getattr(appeal, "open311", None) if _has_partner(appeal) else None
    note = getattr(appeal, "public_note", None)
    return {
        "service_request_id": appeal.public_id,
        "status": status,
        "status_notes": public_text(appeal, note) if note else str(State(appeal.state).label),
        "service_name": category.name if category else None,
        "service_code": category.code if category else None,
        "description": public_text(appeal, appeal.description),
        "agency_responsible": appeal.unit.name if appeal.unit_id and appeal.unit else None,
        "service_notice": None,
        "requested_datetime": w3c(appeal.received_at),
        "updated_datetime": w3c(_updated(appeal, status)),
        "expected_datetime": w3c(appeal.resolve_deadline),
        "address": place_address(appeal) or None,
        "address_id": appeal.place_code or None,
        "zipcode": None,
        "lat": coarse(appeal.lat),
        "long": coarse(appeal.lng),
        "media_url": (partner.media_url or None) if partner is not None else None,
    }


def coarse(degrees: float | None) -> float | None:
    """A coordinate snapped to the nearest point of the GRID_DEGREES grid."""
    if degrees is None:
        return None
    return round(round(degrees / GRID_DEGREES) * GRID_DEGREES, 6)


def public_text(appeal: Appeal, text: str) -> str:
    """Free text fit for anyone: phone and ID numbers masked, and the names and street address
    the appeal carries (contact, resident) taken out wherever the text repeats them."""
    resident = appeal.resident if appeal.resident_id else None
    private = [
        appeal.address,
        appeal.contact_name,
        getattr(resident, "display_name", ""),
        getattr(resident, "username", ""),
    ]
    for value in sorted({v.strip() for v in private if v and len(v.strip()) >= 2}, key=len)[::-1]:
        text = text.replace(value, NAME_PLACEHOLDER)
    return redact_numbers(text)


def place_address(appeal: Appeal) -> str:
    """Most specific to most general, as the spec asks: grid, community, street."""
    names = [p.name for p in (appeal.grid, appeal.community, appeal.street) if p is not None]
    return ", ".join(names)


def feature(entry: dict) -> dict:
    """One request as a GeoJSON Feature (our extension): a Point at [long, lat], or no
    geometry when the appeal has no coordinates."""
    geometry = None
    if entry["lat"] is not None and entry["long"] is not None:
        geometry = {"type": "Point", "coordinates": [entry["long"], entry["lat"]]}
    return {
        "type": "Feature",
        "id": entry["service_request_id"],
        "geometry": geometry,
        "properties": entry,
    }


def w3c(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def service_notice(appeal: Appeal) -> str:
    """What happens next, for the POST response."""
    if appeal.unit_id and appeal.unit and appeal.resolve_deadline:
        return _(
            "Received as appeal %(no)s and sent to %(unit)s; "
            "expected to be resolved by %(deadline)s."
        ) % {
            "no": appeal.tracking_no,
            "unit": appeal.unit.name,
            "deadline": appeal.resolve_deadline.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
        }
    return _("Received as appeal %(no)s; a dispatcher will assign it to a unit.") % {
        "no": appeal.tracking_no
    }


def _updated(appeal: Appeal, status: str) -> dt.datetime:
    if status == CLOSED:
        return appeal.closed_at or appeal.resolved_at or appeal.updated_at
    return appeal.updated_at


def _has_partner(appeal: Appeal) -> bool:
    try:
        appeal.open311  # noqa: B018 (prefetched reverse one-to-one)
    except Appeal.open311.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return False
    return True
