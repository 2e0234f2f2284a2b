"""The GeoReport v2 endpoints under /open311/v2/ (plain Django views, not ninja: the spec's
form-encoded POST, format suffixes and XML roots do not fit an OpenAPI router).

Every view answers in the format of its suffix; every refusal is the spec's errors document
(HTTP 400/403/404), including unknown paths and unexpected failures, so a client never sees an
HTML page here. GET endpoints are public; POST requests needs a partner api_key.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from functools import wraps

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from renzhi.appeals.models import Category
from renzhi.core.errors import ActionError
from renzhi.core.models import Place, PlaceLevel
from renzhi.core.pagination import MAX_PAGE
from renzhi.open311 import actions, jurisdictions, keys, publish
from renzhi.open311.errors import Open311Error, Problem, error_response
from renzhi.open311.formats import Doc, respond, respond_geojson
from renzhi.open311.models import PartnerKey, PartnerRequest, ServiceAttribute
from renzhi.open311.parsing import (
    BadValue,
    attribute_answers,
    check_attributes,
    parse_datetime,
    parse_float,
)

log = logging.getLogger("renzhi.open311")

REQUEST_LISTS = {"attributes": "attribute", "values": "value"}
# Field names of submit_appeal's errors → the Open311 parameter a client sent.
PARAMS = {
    "location": "lat/long",
    "place": "address_id",
    "contact_phone": "phone",
    "category": "service_code",
    "description": "description",
}


def endpoint(*methods: str) -> Callable:
    """Spec-format errors for everything that goes wrong, and the allowed methods."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            fmt = kwargs.get("fmt") or "xml"
            fmt = "json" if fmt in ("json", "geojson") else "xml"
            if request.method not in methods:
                response = error_response(
                    Open311Error.simple(
                        405,
                        _("%(method)s is not allowed here; use %(allowed)s.")
                        % {"method": request.method, "allowed": ", ".join(methods)},
                    ),
                    fmt,
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except Open311Error as error:
                return error_response(error, fmt)
            except Exception:  # never a 500 page for a client: the spec's "general error"
                log.exception("open311: unexpected failure on %s", request.path)
                return error_response(
                    Open311Error.simple(
                        400, _("General service error: the request could not be processed.")
                    ),
                    fmt,
                )

        return wrapped

    return decorator


# --- Discovery and services -------------------------------------------------------------------


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    from django.conf import settings

    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    url = base.rsplit("/", 1)[0]
    changeset = publish.w3c(_changeset())
    contact = getattr(settings, "RENZHI_OPEN311_CONTACT", "") or _(
        "Renzhi appeals office: contact the system administrator of your street."
    )
    key_service = getattr(settings, "RENZHI_OPEN311_KEY_SERVICE", "") or _(
        "Ask a Renzhi administrator for a partner key (menu “Open311 partner keys”)."
    )
    doc = Doc(
        "discovery",
        {
            "changeset": changeset,
            "contact": str(contact),
            "key_service": str(key_service),
            "endpoints": [
                {
                    "specification": publish.SPEC_URL,
                    "url": url,
                    "changeset": changeset,
                    "type": getattr(settings, "RENZHI_OPEN311_ENDPOINT_TYPE", "production"),
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
        lists={"endpoints": "endpoint", "formats": "format"},
    )
    return respond(doc, fmt)


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    jurisdictions.resolve(request.GET.get("jurisdiction_id"))
    return respond(Doc("services", publish.services(), item="service"), fmt)


@endpoint("GET")
def service_definition(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    jurisdictions.resolve(request.GET.get("jurisdiction_id"))
    category = publish.find_service(service_code)
    if category is None:
        raise _unknown_service(service_code)
    doc = Doc("service_definition", publish.definition(category), lists=REQUEST_LISTS)
    return respond(doc, fmt)


# --- Service requests -------------------------------------------------------------------------


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    prefix = jurisdictions.resolve(request.GET.get("jurisdiction_id"))
    entries = [publish.request_entry(a) for a in _query(request, prefix)]
    return respond(Doc("service_requests", entries, item="request"), fmt)


@endpoint("GET")
def requests_geojson(request: HttpRequest) -> HttpResponse:
    """Extension: the same query as GET requests.json, as a GeoJSON FeatureCollection."""
    prefix = jurisdictions.resolve(request.GET.get("jurisdiction_id"))
    features = [publish.feature(publish.request_entry(a)) for a in _query(request, prefix)]
    return respond_geojson({"type": "FeatureCollection", "features": features})


@endpoint("GET")
def request_detail(request: HttpRequest, service_request_id: str, fmt: str) -> HttpResponse:
    prefix = jurisdictions.resolve(request.GET.get("jurisdiction_id"))
    appeals = publish.published_appeals().filter(public_id=service_request_id)
    if prefix:
        appeals = appeals.filter(place_code__startswith=prefix)
    appeal = appeals.first()
    if appeal is None:
        raise Open311Error.simple(
            404,
            _("service_request_id “%(id)s” was not found.") % {"id": service_request_id[:40]},
        )
    return respond(Doc("service_requests", [publish.request_entry(appeal)], item="request"), fmt)


@endpoint("GET")
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    prefix = jurisdictions.resolve(request.GET.get("jurisdiction_id"))
    link = None
    try:
        wanted = uuid.UUID(token)
    except ValueError:
        wanted = None
    if wanted is not None:
        links = PartnerRequest.objects.select_related("appeal").filter(token=wanted)
        if prefix:
            links = links.filter(appeal__place_code__startswith=prefix)
        link = links.first()
    if link is None:
        raise Open311Error.simple(
            404, _("token “%(token)s” was not found.") % {"token": token[:40]}
        )
    entry = {"service_request_id": link.appeal.public_id, "token": str(link.token)}
    return respond(Doc("service_requests", [entry], item="request"), fmt)


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    fmt = "json" if request.path.endswith((".json", ".geojson")) else "xml"
    return error_response(
        Open311Error.simple(
            404,
            _("There is no Open311 resource at %(path)s.") % {"path": request.path[:120]},
        ),
        fmt,
    )


# --- Reading ----------------------------------------------------------------------------------


def _query(request: HttpRequest, prefix: str | None):
    params = request.GET
    appeals = publish.published_appeals()
    if prefix:
        appeals = appeals.filter(place_code__startswith=prefix)
    ids = _csv(params.get("service_request_id"))
    if ids:  # "This overrides all other arguments."
        return list(
            appeals.filter(public_id__in=ids[: publish.MAX_REQUESTS]).order_by(
                "-received_at", "-id"
            )
        )
    problems: list[Problem] = []
    codes = _csv(params.get("service_code"))
    if codes:
        known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
        problems += [
            Problem(400, _("service_code “%(code)s” is not a known service.") % {"code": c[:30]})
            for c in codes
            if c not in known
        ]
        appeals = appeals.filter(category__code__in=codes)
    statuses = [s.lower() for s in _csv(params.get("status"))]
    bad_status = [s for s in statuses if s not in (publish.OPEN, publish.CLOSED)]
    if bad_status:
        problems.append(
            Problem(
                400,
                _("status must be open or closed, not “%(value)s”.")
                % {"value": bad_status[0][:20]},
            )
        )
    elif statuses:
        appeals = appeals.filter(
            state__in=[state for s in set(statuses) for state in publish.states_with(s)]
        )
    start, end = _dates(params, problems)
    page, size = _page(params, problems)
    if problems:
        raise Open311Error(400, *problems)
    appeals = appeals.filter(received_at__gte=start, received_at__lte=end)
    offset = (page - 1) * size
    return list(appeals.order_by("-received_at", "-id")[offset : offset + size])


def _dates(params, problems: list[Problem]) -> tuple[dt.datetime, dt.datetime]:
    start = end = None
    for name in ("start_date", "end_date"):
        value = (params.get(name) or "").strip()
        if not value:
            continue
        try:
            moment = parse_datetime(value, name, end_of_day=name == "end_date")
        except BadValue as exc:
            problems.append(exc.problem)
            continue
        if name == "start_date":
            start = moment
        else:
            end = moment
    if start and end:
        if end < start:
            problems.append(Problem(400, _("end_date is before start_date.")))
        elif end - start > publish.DEFAULT_SPAN + dt.timedelta(days=1):
            problems.append(
                Problem(400, _("start_date and end_date may not span more than 90 days."))
            )
        return start, end
    if start:
        return start, start + publish.DEFAULT_SPAN
    end = end or timezone.now()
    return end - publish.DEFAULT_SPAN, end


def _page(params, problems: list[Problem]) -> tuple[int, int]:
    """The `page` / `page_size` extension (documented): page_size at most 1000, page at most
    core.pagination.MAX_PAGE (an unbounded page made an offset the database cannot hold)."""
    values = {}
    limits = {"page": MAX_PAGE, "page_size": publish.MAX_REQUESTS}
    for name, default in (("page", 1), ("page_size", publish.MAX_REQUESTS)):
        raw = (params.get(name) or "").strip()
        try:
            values[name] = int(raw) if raw else default
        except ValueError:
            values[name] = 0
        if not 1 <= values[name] <= limits[name]:
            values[name] = default
            problems.append(
                Problem(
                    400,
                    _("%(param)s must be a whole number from 1 to %(max)s.")
                    % {"param": name, "max": limits[name]},
                )
            )
    return values["page"], values["page_size"]


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _changeset() -> dt.datetime:
    latest = ServiceAttribute.objects.aggregate(at=Max("updated_at"))["at"]
    return latest or dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _unknown_service(code: str) -> Open311Error:
    return Open311Error.simple(
        404, _("service_code “%(code)s” was not found.") % {"code": code[:30]}
    )


# --- POST requests ----------------------------------------------------------------------------


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    presented = (data.get("api_key") or request.GET.get("api_key") or "").strip()
    if not presented:
        raise Open311Error.simple(403, _("api_key is missing: a partner key is needed to file."))
    key = keys.find(presented)
    try:
        if key is None or not key.active:
            raise Open311Error.simple(
                403, _("Invalid api_key received: it is unknown or has been revoked.")
            )
        allowed, retry_after = keys.take(key)
        if not allowed:
            raise Open311Error(
                400,
                Problem(
                    429,
                    _("Too many requests: this api_key may file %(n)d per minute.")
                    % {"n": key.rate_limit},
                ),
                headers={"Retry-After": str(retry_after)},
            )
        prefix = jurisdictions.resolve(data.get("jurisdiction_id"))
        filing = _filing(data, key, prefix)
        try:
            appeal, _link = actions.file_request(key, filing)
        except ActionError as error:
            raise Open311Error(
                403 if error.status == 403 else 400,
                *[
                    Problem(
                        403 if error.status == 403 else 400,
                        f"{PARAMS.get(e.field or '', e.field)}: {e.message}"
                        if e.field
                        else e.message,
                    )
                    for e in error.errors
                ],
            ) from error
    except Open311Error as error:
        actions.record_refusal(
            key,
            presented=presented,
            endpoint=request.path,
            problems=[str(p.description) for p in error.problems],
        )
        raise
    entry = {
        "service_request_id": appeal.public_id,
        "service_notice": publish.service_notice(appeal),
        "account_id": (data.get("account_id") or "").strip()[:100] or None,
    }
    return respond(Doc("service_requests", [entry], item="request"), fmt)


def _filing(data, key: PartnerKey, prefix: str | None) -> actions.Filing:
    """The POSTed fields checked; every problem reported at once (404 for an unknown service)."""
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error.simple(400, _("service_code is missing."))
    category = publish.find_service(code)
    if category is None:
        raise _unknown_service(code)
    problems: list[Problem] = []
    attributes = publish.attributes_of(category)
    cleaned, attribute_problems = check_attributes(attributes, attribute_answers(data))
    problems += attribute_problems
    text = lambda name, limit=200: (data.get(name) or "").strip()[:limit]  # noqa: E731
    lat = lng = None
    place = None
    raw_lat, raw_lng = text("lat", 40), text("long", 40)
    address_id, address_string = text("address_id", 32), text("address_string")
    if raw_lat or raw_lng:
        if not (raw_lat and raw_lng):
            problems.append(Problem(400, _("lat and long must be sent together.")))
        else:
            try:
                lat, lng = parse_float(raw_lat, "lat"), parse_float(raw_lng, "long")
            except BadValue as exc:
                problems.append(exc.problem)
    elif address_id:
        place = (
            Place.objects.select_related("parent__parent")
            .filter(code=address_id, level__in=[PlaceLevel.COMMUNITY, PlaceLevel.GRID])
            .first()
        )
        if place is None:
            problems.append(
                Problem(
                    400,
                    _("address_id “%(id)s” is not the code of a community or grid.")
                    % {"id": address_id},
                )
            )
    elif address_string:
        place = _place_named_in(address_string)
        if place is None:
            problems.append(
                Problem(
                    400,
                    _(
                        "address_string could not be located: name a community or grid in it, "
                        "or send lat and long."
                    ),
                )
            )
    else:
        problems.append(
            Problem(400, _("A location is required: lat and long, address_string or address_id."))
        )
    if not problems:
        problems += _area_problems(key, prefix, lat, lng, place)
    description = (data.get("description") or "").strip()
    media_url = text("media_url", 500)
    if media_url and not media_url.lower().startswith(("http://", "https://")):
        problems.append(Problem(400, _("media_url must be an http(s) URL.")))
    if problems:
        raise Open311Error(400, *problems)
    return actions.Filing(
        category=category,
        description=description,
        attributes=cleaned,
        attribute_lines=_attribute_lines(attributes, cleaned),
        lat=lat,
        lng=lng,
        place=place,
        address=address_string,
        address_id=place.code if place is not None else "",
        phone=_phone(text("phone", 40)),
        first_name=text("first_name", 50),
        last_name=text("last_name", 50),
        email=text("email", 254),
        device_id=text("device_id", 100),
        account_id=text("account_id", 100),
        media_url=media_url,
    )


def _area_problems(
    key: PartnerKey, prefix: str | None, lat: float | None, lng: float | None, place: Place | None
) -> list[Problem]:
    """Outside the key's service area or the jurisdiction's place: refused before filing."""
    limits = [c for c in (key.place.code if key.place else None, prefix) if c]
    if not limits:
        return []
    if lat is not None and lng is not None:
        from renzhi.core import geo

        place = geo.locate(lat, lng)
        if place is None:
            return []  # submit_appeal reports "outside the service area" itself
    if place is not None and not all(place.code.startswith(c) for c in limits):
        return [Problem(400, _("This location is outside the service area of this api_key."))]
    return []


def _place_named_in(address: str) -> Place | None:
    """The community or grid whose name the address mentions (the longest name wins)."""
    candidates = [
        p
        for p in Place.objects.filter(level__in=[PlaceLevel.COMMUNITY, PlaceLevel.GRID]).only(
            "id", "name", "code", "level"
        )
        if p.name and p.name in address
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda p: (len(p.name), p.level == PlaceLevel.GRID))
    return Place.objects.select_related("parent__parent").get(pk=best.pk)


def _attribute_lines(attributes: list[ServiceAttribute], cleaned: dict[str, object]) -> list[str]:
    lines = []
    for a in attributes:
        if a.code not in cleaned:
            continue
        value = cleaned[a.code]
        names = a.value_names()
        if isinstance(value, list):
            shown = "、".join(names.get(str(v), str(v)) for v in value)
        else:
            shown = names.get(str(value), str(value))
        lines.append(f"{a.description}：{shown}")
    return lines


def _phone(raw: str) -> str:
    """Digits only, without a +86 / 0086 country prefix (appeals keep 7–12 digits)."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    start = raw.strip()
    if start.startswith("+86"):
        return digits[2:]
    if start.startswith("0086"):
        return digits[4:]
    return digits
