"""The read side of the adapter: appeal categories as Open311 services, appeals as service
requests, and the mapping of every Renzhi state onto the spec's two statuses.

Only appeals of categories open to the public are published, and never a name, phone number,
email or account: a GET response carries what the spec lists and nothing private.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from renzhi.appeals.models import Appeal, AppealEvent, Category, State
from renzhi.core.privacy import redact_numbers
from renzhi.core.workdays import LOCAL_TZ
from renzhi.open311.models import ServiceAttribute

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
OPEN, CLOSED = "open", "closed"
MAX_REQUESTS = 1000
DEFAULT_SPAN = dt.timedelta(days=90)

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
    """Categories a partner may file under: active public leaves (a second-level category, or a
    first-level one without children), each under an active public parent."""
    rows = list(
        Category.objects.filter(active=True, public=True)
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
    """Appeals anyone may read through Open311, with what their entries need in one query."""
    notes = (
        AppealEvent.objects.filter(appeal=OuterRef("pk"), public=True)
        .exclude(verb="submit")
        .exclude(note="")
        .order_by("-at", "-id")
        .values("note")[:1]
    )
    return (
        Appeal.objects.filter(category__public=True)
        .select_related("category", "unit", "grid", "community", "street", "open311")
        .annotate(public_note=Subquery(notes))
    )


def request_entry(appeal: Appeal) -> dict:
    """One service request as the spec lists its fields, in the spec's order."""
    category = appeal.category
    status = STATUS_OF.get(appeal.state, OPEN)
    partner = getattr(appeal, "open311", None) if _has_partner(appeal) else None
    note = getattr(appeal, "public_note", None)
    return {
        "service_request_id": appeal.tracking_no,
        "status": status,
        "status_notes": redact_numbers(note) if note else str(State(appeal.state).label),
        "service_name": category.name if category else None,
        "service_code": category.code if category else None,
        "description": redact_numbers(appeal.description),
        "agency_responsible": appeal.unit.name if appeal.unit_id and appeal.unit else None,
        "service_notice": None,
        "requested_datetime": w3c(appeal.received_at),
        "updated_datetime": w3c(_updated(appeal, status)),
        "expected_datetime": w3c(appeal.resolve_deadline),
        "address": appeal.address or place_address(appeal) or None,
        "address_id": appeal.place_code or None,
        "zipcode": None,
        "lat": appeal.lat,
        "long": appeal.lng,
        "media_url": (partner.media_url or None) if partner is not None else None,
    }


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
