"""Emergency JSON API (reserves, people, call-ups, the vulnerable register), mounted under
/api/emergency by `renzhi.emergency.api`.

Reading goes through the scoped querysets of `reserves`, `rules_resources` and `vulnerable`:
anything outside them answers 404, so its existence does not leak. Depots and items are named
by code, people by username. Every change goes through an action; an `ActionError` becomes
{"detail": [{field, code, message}]} with 400/403/404/409.

(No `from __future__ import annotations`: ninja reads the annotations at import time.)
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from renzhi.core import read_audit
from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Place, Skill, User
from renzhi.core.pagination import Page
from renzhi.core.privacy import mask_phone
from renzhi.core.text import QueryText, Text
from renzhi.emergency import mobilisation, reserves, stock_excel, vulnerable
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.actions import people as people_actions
from renzhi.emergency.actions import reserves as stock_actions
from renzhi.emergency.actions import vulnerable as register_actions
from renzhi.emergency.models import (
    CallUp,
    Depot,
    Distribution,
    Household,
    Item,
    PersonProfile,
    StockBatch,
    StockMove,
    SupplyRequest,
    Team,
    VulnerableResident,
)

router = Router(tags=["emergency"])


class Rows:
    """A queryset seen through a serialiser, so pagination slices (and counts) in the database
    and serialises only the page."""

    def __init__(self, queryset, serialise):
        self.queryset, self.serialise = queryset, serialise

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        rows = self.queryset[index]
        return (
            [self.serialise(r) for r in rows] if isinstance(index, slice) else self.serialise(rows)
        )


# --- Schemas ----------------------------------------------------------------------------------


class DepotIn(Schema):
    code: Annotated[str, Text(40)]
    name: Annotated[str, Text(100)]
    kind: Annotated[str, Text(20)]
    place_code: Annotated[str, Text(15)]
    address: Annotated[str, Text(200)] = ""
    lat: float | None = None
    lng: float | None = None
    contact_phone: Annotated[str, Text(20)] = ""


class DepotOut(Schema):
    code: str
    name: str
    kind: str
    place_code: str
    place_name: str
    address: str
    lat: float | None
    lng: float | None
    active: bool


class ItemIn(Schema):
    code: Annotated[str, Text(40)]
    name: Annotated[str, Text(100)]
    unit: Annotated[str, Text(20)]
    category: Annotated[str, Text(20)]
    shelf_life_days: int | None = None
    one_per_household: bool = False
    daily_per_person: Decimal = Decimal("0")


class ItemOut(Schema):
    code: str
    name: str
    unit: str
    category: str
    shelf_life_days: int | None
    one_per_household: bool
    daily_per_person: Decimal


class StockRowOut(Schema):
    depot: str
    item: str
    item_name: str
    unit: str
    on_hand: int
    usable: int
    expired: int
    expiring_30: int
    expiring_7: int
    minimum: int | None
    below_minimum: bool


class BatchOut(Schema):
    id: int
    depot: str
    item: str
    batch_no: str
    expires_on: dt.date | None
    quantity: int


class MoveOut(Schema):
    id: int
    at: dt.datetime
    depot: str
    item: str
    batch_no: str
    expires_on: dt.date | None
    kind: str
    quantity: int
    balance_after: int
    reason: str
    counterpart: str | None
    incident_id: int | None
    request: str | None
    by: str | None


class ReceiveIn(Schema):
    depot: Annotated[str, Text(40)]
    item: Annotated[str, Text(40)]
    quantity: int
    batch_no: Annotated[str, Text(40)] = ""
    expires_on: dt.date | None = None
    reason: Annotated[str, Text(200, multiline=True)] = ""
    incident_id: int | None = None


class IssueIn(Schema):
    depot: Annotated[str, Text(40)]
    item: Annotated[str, Text(40)]
    quantity: int
    reason: Annotated[str, Text(200, multiline=True)] = ""
    incident_id: int | None = None


class TransferIn(Schema):
    from_depot: Annotated[str, Text(40)]
    to_depot: Annotated[str, Text(40)]
    item: Annotated[str, Text(40)]
    quantity: int
    reason: Annotated[str, Text(200, multiline=True)] = ""
    incident_id: int | None = None


class AdjustIn(Schema):
    batch_id: int
    quantity: int
    reason: Annotated[str, Text(200, multiline=True)]


class DisposeIn(Schema):
    batch_id: int
    reason: Annotated[str, Text(200, multiline=True)] = ""


class MinimumIn(Schema):
    item: Annotated[str, Text(40)]
    minimum: int


class ShortageOut(Schema):
    source: str
    item: str
    item_name: str
    unit: str
    required: int
    on_hand: int
    shortfall: int
    depot: str | None


class LineIn(Schema):
    item: Annotated[str, Text(40)]
    quantity: int


class RequestIn(Schema):
    to_depot: Annotated[str, Text(40)]
    from_depot: Annotated[str, Text(40)]
    lines: list[LineIn]
    reason: Annotated[str, Text(300, multiline=True)] = ""
    incident_id: int | None = None


class QuantitiesIn(Schema):
    quantities: dict[str, int] = {}  # item code → quantity; missing items: in full
    note: Annotated[str, Text(300, multiline=True)] = ""


class NoteIn(Schema):
    note: Annotated[str, Text(300, multiline=True)] = ""


class LineOut(Schema):
    item: str
    item_name: str
    requested: int
    approved: int
    issued: int
    received: int


class RequestOut(Schema):
    id: int
    number: str
    status: str
    to_depot: str
    from_depot: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    decision_note: str
    incident_id: int | None
    lines: list[LineOut]


class HouseholdIn(Schema):
    place_code: Annotated[str, Text(15)]
    address: Annotated[str, Text(120)]
    head_name: Annotated[str, Text(50)] = ""
    phone: Annotated[str, Text(20)] = ""
    members: int = 1


class HouseholdOut(Schema):
    id: int
    place_code: str
    address: str
    head_name: str
    phone: str
    members: int
    possible_duplicates: list[int] = Field(
        default_factory=list,
        description="Households of the community that may be the same flat (for staff review).",
    )


class DistributionIn(Schema):
    depot: Annotated[str, Text(40)]
    household_id: int
    item: Annotated[str, Text(40)]
    quantity: int = 1
    signed_by: Annotated[str, Text(50)]
    incident_id: int | None = None
    note: Annotated[str, Text(200, multiline=True)] = ""


class DistributionOut(Schema):
    id: int
    at: dt.datetime
    depot: str
    household_id: int
    household: str
    item: str
    quantity: int
    signed_by: str
    handed_out_by: str
    incident_id: int | None


class ProfileIn(Schema):
    username: Annotated[str, Text(150)]
    kind: Annotated[str, Text(20)]
    place_code: Annotated[str, Text(15)]
    qualification_level: Annotated[str, Text(20)] = ""
    certificate_no: Annotated[str, Text(64)] = ""
    lat: float | None = None
    lng: float | None = None
    insured_until: dt.date | None = None
    insurance_policy: Annotated[str, Text(64)] = ""
    note: Annotated[str, Text(200, multiline=True)] = ""
    active: bool = True


class SkillOut(Schema):
    code: str
    name: str
    valid_until: dt.date | None


class ProfileOut(Schema):
    username: str
    name: str
    kind: str
    place_code: str
    qualification_level: str
    certificate_no: str
    phone: str
    insured_until: dt.date | None
    active: bool
    skills: list[SkillOut]
    hours: Decimal


class SkillIn(Schema):
    skill: Annotated[str, Text(40)]
    certificate_no: Annotated[str, Text(64)] = ""
    valid_until: dt.date | None = None


class WindowIn(Schema):
    weekday: int
    starts: dt.time
    ends: dt.time
    place_code: Annotated[str, Text(15)] | None = None


class AvailabilityIn(Schema):
    windows: list[WindowIn]


class CandidateOut(Schema):
    username: str
    name: str
    kind: str
    distance_km: float | None
    insured: bool
    skills: list[str]


class TeamIn(Schema):
    place_code: Annotated[str, Text(15)]
    name: Annotated[str, Text(100)]
    leader: Annotated[str, Text(150)] | None = None


class TeamOut(Schema):
    id: int
    name: str
    place_code: str
    leader: str | None
    members: list[str]


class MemberIn(Schema):
    username: Annotated[str, Text(150)]


class CallUpsIn(Schema):
    incident_id: int
    usernames: list[Annotated[str, Text(150)]]
    note: Annotated[str, Text(300, multiline=True)] = ""


class CallUpOut(Schema):
    id: int
    incident_id: int
    incident: str
    username: str
    name: str
    status: str
    note: str
    sent_at: dt.datetime
    responded_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    insured: bool
    hours: Decimal | None


class DeclineIn(Schema):
    reason: Annotated[str, Text(200, multiline=True)] = ""


class CheckInPointIn(Schema):
    lat: float | None = None
    lng: float | None = None


class CheckOutIn(Schema):
    hours: Decimal | None = None


class ResidentIn(Schema):
    place_code: Annotated[str, Text(15)]
    name: Annotated[str, Text(50)]
    address: Annotated[str, Text(200)]
    categories: list[Annotated[str, Text(20)]]
    consent_method: Annotated[str, Text(100)]
    needs: list[Annotated[str, Text(20)]] = []
    needs_note: Annotated[str, Text(300, multiline=True)] = ""
    birth_year: int | None = None
    phone: Annotated[str, Text(20)] = ""
    emergency_contact_name: Annotated[str, Text(50)] = ""
    emergency_contact_phone: Annotated[str, Text(20)] = ""


class ResidentPatch(Schema):
    name: Annotated[str, Text(50)] | None = None
    address: Annotated[str, Text(200)] | None = None
    categories: list[Annotated[str, Text(20)]] | None = None
    needs: list[Annotated[str, Text(20)]] | None = None
    needs_note: Annotated[str, Text(300, multiline=True)] | None = None
    birth_year: int | None = None
    phone: Annotated[str, Text(20)] | None = None
    emergency_contact_name: Annotated[str, Text(50)] | None = None
    emergency_contact_phone: Annotated[str, Text(20)] | None = None
    active: bool | None = None


class ResidentOut(Schema):
    id: int
    place_code: str
    name: str
    address: str
    categories: list[str]
    needs: list[str]
    phone: str
    helper: str | None
    last_reached_at: dt.datetime | None
    next_check_due: dt.datetime | None
    missed_checks: int


class ResidentDetailOut(ResidentOut):
    birth_year: int | None
    needs_note: str
    emergency_contact_name: str
    emergency_contact_phone: str
    consent_method: str
    consent_at: dt.datetime | None


class PairIn(Schema):
    helper: Annotated[str, Text(150)] | None = None


class CheckInIn(Schema):
    outcome: Annotated[str, Text(20)]
    note: Annotated[str, Text(300, multiline=True)] = ""
    incident_id: int | None = None


class CheckInOut(Schema):
    id: int
    resident_id: int
    at: dt.datetime
    outcome: str
    note: str
    by: str
    incident_id: int | None
    escalated: bool


class ChecklistRowOut(Schema):
    resident_id: int
    name: str
    address: str
    phone: str
    reached: bool
    outcome: str | None
    at: dt.datetime | None


class ReachOut(Schema):
    reached: int
    total: int


class ImportOut(Schema):
    rows: int
    moves: int


# --- Depots, items, stock ---------------------------------------------------------------------


@router.get("/depots", response=list[DepotOut], summary="Depots I may see")
@paginate(Page)
def depots(request: AuthedRequest, place: QueryText | None = None, kind: QueryText | None = None):
    _require(rules.may_view_reserves(request.auth))
    rows = reserves.visible_depots(request.auth)
    if place:
        rows = rows.filter(place__code__startswith=place)
    if kind:
        rows = rows.filter(kind=kind)
    return Rows(rows.order_by("place__code", "code"), _depot)


@router.post("/depots", response={201: DepotOut}, summary="Add a depot")
def create_depot(request: AuthedRequest, payload: DepotIn):
    depot = stock_actions.create_depot(
        request.auth,
        code=payload.code,
        name=payload.name,
        kind=payload.kind,
        place=_place(payload.place_code),
        address=payload.address,
        lat=payload.lat,
        lng=payload.lng,
        contact_phone=payload.contact_phone,
    )
    return 201, _depot(depot)


@router.get("/depots/{code}", response=DepotOut, summary="One depot")
def depot(request: AuthedRequest, code: str):
    return _depot(_depot_for(request, code))


@router.get("/depots/{code}/batches", response=list[BatchOut], summary="Batches of a depot")
def depot_batches(request: AuthedRequest, code: str):
    found = _depot_for(request, code)
    rows = StockBatch.objects.filter(depot=found, quantity__gt=0).select_related("item")
    return [_batch(b) for b in rows.order_by("item__code", "expires_on", "id")]


@router.post("/depots/{code}/minimums", response=StockRowOut | None, summary="Set a minimum")
def set_minimum(request: AuthedRequest, code: str, payload: MinimumIn):
    found = _depot_for(request, code)
    item = _item(payload.item)
    stock_actions.set_minimum(request.auth, found, item, payload.minimum)
    rows = [r for r in reserves.stock_rows([found]) if r.item.pk == item.pk]
    return _stock_row(rows[0]) if rows else None


@router.get("/items", response=list[ItemOut], summary="Items")
def items(request: AuthedRequest):
    _require(rules.may_view_reserves(request.auth))
    return [_item_out(i) for i in Item.objects.filter(active=True)]


@router.post("/items", response={201: ItemOut}, summary="Add an item")
def create_item(request: AuthedRequest, payload: ItemIn):
    item = stock_actions.create_item(request.auth, **payload.dict())
    return 201, _item_out(item)


@router.get("/stock", response=list[StockRowOut], summary="Stock per depot and item")
def stock(request: AuthedRequest, depot: QueryText | None = None, below_minimum: bool = False):
    _require(rules.may_view_reserves(request.auth))
    depots_qs = reserves.visible_depots(request.auth)
    if depot:
        depots_qs = depots_qs.filter(code=depot)
    rows = reserves.stock_rows(depots_qs)
    if below_minimum:
        rows = [r for r in rows if r.below_minimum]
    return [_stock_row(r) for r in rows]


@router.get("/stock/expiring", response=list[BatchOut], summary="Batches expiring soon")
def expiring(request: AuthedRequest, days: int = 30):
    _require(rules.may_view_reserves(request.auth))
    rows = reserves.expiring_batches(reserves.visible_depots(request.auth), min(max(days, 0), 366))
    return [_batch(b) for b in rows]


@router.get("/moves", response=list[MoveOut], summary="The stock ledger")
@paginate(Page)
def moves(request: AuthedRequest, depot: QueryText | None = None, item: QueryText | None = None):
    _require(rules.may_view_reserves(request.auth))
    rows = reserves.ledger_for(request.auth)
    if depot:
        rows = rows.filter(depot__code=depot)
    if item:
        rows = rows.filter(item__code=item)
    return Rows(rows.select_related("request"), _move)


@router.post("/stock/receive", response={201: MoveOut}, summary="Receive goods")
def receive(request: AuthedRequest, payload: ReceiveIn):
    move = stock_actions.receive(
        request.auth,
        _depot_for(request, payload.depot),
        _item(payload.item),
        payload.quantity,
        batch_no=payload.batch_no,
        expires_on=payload.expires_on,
        reason=payload.reason,
        incident=_incident(request, payload.incident_id),
    )
    return 201, _move(move)


@router.post("/stock/issue", response={201: list[MoveOut]}, summary="Issue (FEFO)")
def issue(request: AuthedRequest, payload: IssueIn):
    found = _depot_for(request, payload.depot)
    item = _item(payload.item)
    done = stock_actions.issue(
        request.auth,
        found,
        item,
        payload.quantity,
        reason=payload.reason,
        incident=_incident(request, payload.incident_id),
    )
    return 201, [_move(m) for m in done]


@router.post("/stock/transfer", response={201: list[MoveOut]}, summary="Transfer between depots")
def transfer(request: AuthedRequest, payload: TransferIn):
    source = _depot_for(request, payload.from_depot, field="from_depot")
    target = _depot_for(request, payload.to_depot, field="to_depot")
    item = _item(payload.item)
    done = stock_actions.transfer(
        request.auth,
        source,
        target,
        item,
        payload.quantity,
        reason=payload.reason,
        incident=_incident(request, payload.incident_id),
    )
    return 201, [_move(m) for m in done]


@router.post("/stock/adjust", response={201: MoveOut}, summary="Adjust a batch after a count")
def adjust(request: AuthedRequest, payload: AdjustIn):
    move = stock_actions.adjust(
        request.auth, _batch_for(request, payload.batch_id), payload.quantity, payload.reason
    )
    return 201, _move(move)


@router.post("/stock/dispose", response={201: MoveOut}, summary="Dispose of an expired batch")
def dispose(request: AuthedRequest, payload: DisposeIn):
    move = stock_actions.dispose_expired(
        request.auth, _batch_for(request, payload.batch_id), reason=payload.reason
    )
    return 201, _move(move)


@router.get("/shortage", response=list[ShortageOut], summary="Shortage report of a community")
def shortage(request: AuthedRequest, community: QueryText, plan_level_id: int | None = None):
    _require(rules.may_view_reserves(request.auth))
    place = _place(community, field="community")
    if not rules.scope.covers(request.auth, place, rules.STOCK_READERS):
        raise ActionError(_("Not found."), field="community", code=ErrorCode.NOT_FOUND)
    level = None
    if plan_level_id is not None:
        from renzhi.emergency.models import PlanLevel

        level = PlanLevel.objects.filter(pk=plan_level_id).first()
        if level is None:
            raise ActionError(_("Not found."), field="plan_level_id", code=ErrorCode.NOT_FOUND)
    return [
        ShortageOut(
            source=r.source,
            item=r.item_code,
            item_name=r.item_name,
            unit=r.unit,
            required=r.required,
            on_hand=r.on_hand,
            shortfall=r.shortfall,
            depot=r.depot.code if r.depot else None,
        )
        for r in reserves.shortage_report(level, place)
    ]


@router.get("/coverage", response=dict[str, float], summary="Days of supply per community")
def coverage(request: AuthedRequest):
    _require(rules.may_view_reserves(request.auth))
    codes = rules.scope.jurisdiction_codes(request.auth, rules.STOCK_READERS)
    communities = Place.objects.filter(level="community")
    if codes is not None:
        condition = Q(pk__in=[])
        for code in codes:
            condition |= Q(code__startswith=code) | Q(code=code[:12])
        communities = communities.filter(condition)
    return reserves.coverage_by_community(communities.values_list("code", flat=True))


@router.get("/stock/export.xlsx", summary="Export a ledger to Excel", response={200: None})
def export(request: AuthedRequest, ledger: QueryText = "moves"):
    """`ledger`: moves, stock, requests, distributions or callups — what you may see."""
    _require(rules.may_view_reserves(request.auth) or rules.may_view_people(request.auth))
    stream, name = stock_excel.export(request.auth, ledger)
    return FileResponse(
        stream, as_attachment=True, filename=name, content_type=stock_excel.XLSX_CONTENT_TYPE
    )


@router.get("/stock/import/template", summary="The stock count template", response={200: None})
def import_template(request: AuthedRequest):
    _require(rules.may_keep_stock(request.auth))
    return FileResponse(
        stock_excel.template(),
        as_attachment=True,
        filename="stock-count-template.xlsx",
        content_type=stock_excel.XLSX_CONTENT_TYPE,
    )


@router.post("/stock/import", response={201: ImportOut}, summary="Import a stock count")
def import_counts(request: AuthedRequest, file: File[UploadedFile | None] = None):
    """Every row is checked first; any problem refuses the whole file (400 with `row` and
    `column` in each field name, e.g. `row 3: quantity`)."""
    if file is None:
        raise ActionError(_("Please choose a file."), field="file", code=ErrorCode.REQUIRED)
    result = stock_excel.import_counts(request.auth, file.read())
    return 201, ImportOut(rows=result.rows, moves=result.moves)


# --- Requests ---------------------------------------------------------------------------------


@router.get("/requests", response=list[RequestOut], summary="Supply requests")
@paginate(Page)
def requests_list(request: AuthedRequest, status: QueryText | None = None):
    _require(rules.may_view_reserves(request.auth))
    rows = _requests_for(request)
    if status:
        rows = rows.filter(status=status)
    return Rows(rows.order_by("-requested_at", "-id"), _request)


@router.post("/requests", response={201: RequestOut}, summary="Ask the street for supplies")
def create_request(request: AuthedRequest, payload: RequestIn):
    target = _depot_for(request, payload.to_depot, field="to_depot")
    source = _depot_for(request, payload.from_depot, field="from_depot")
    lines = [
        stock_actions.Line(_item(line.item, field=f"lines[{i}].item"), line.quantity)
        for i, line in enumerate(payload.lines)
    ]
    made = stock_actions.request_supplies(
        request.auth,
        target,
        source,
        lines,
        reason=payload.reason,
        incident=_incident(request, payload.incident_id),
    )
    return 201, _request(made)


@router.get("/requests/{int:request_id}", response=RequestOut, summary="One supply request")
def request_detail(request: AuthedRequest, request_id: int):
    return _request(_request_for(request, request_id))


@router.post("/requests/{int:request_id}/approve", response=RequestOut, summary="Approve")
def approve_request(request: AuthedRequest, request_id: int, payload: QuantitiesIn):
    found = _request_for(request, request_id)
    done = stock_actions.approve_request(
        request.auth, found, _by_item(payload.quantities, "approved"), payload.note
    )
    return _request(done)


@router.post("/requests/{int:request_id}/reject", response=RequestOut, summary="Reject")
def reject_request(request: AuthedRequest, request_id: int, payload: NoteIn):
    return _request(
        stock_actions.reject_request(request.auth, _request_for(request, request_id), payload.note)
    )


@router.post("/requests/{int:request_id}/issue", response=RequestOut, summary="Send")
def issue_request(request: AuthedRequest, request_id: int):
    return _request(stock_actions.issue_request(request.auth, _request_for(request, request_id)))


@router.post("/requests/{int:request_id}/receive", response=RequestOut, summary="Book arrival")
def receive_request(request: AuthedRequest, request_id: int, payload: QuantitiesIn):
    found = _request_for(request, request_id)
    done = stock_actions.receive_request(
        request.auth, found, _by_item(payload.quantities, "received")
    )
    return _request(done)


@router.post("/requests/{int:request_id}/cancel", response=RequestOut, summary="Withdraw")
def cancel_request(request: AuthedRequest, request_id: int):
    return _request(stock_actions.cancel_request(request.auth, _request_for(request, request_id)))


# --- Households and distributions -------------------------------------------------------------


@router.get("/households", response=list[HouseholdOut], summary="Households")
@paginate(Page)
def households(
    request: AuthedRequest, community: QueryText | None = None, q: QueryText | None = None
):
    _require(rules.may_view_reserves(request.auth))
    rows = _households_for(request)
    if community:
        rows = rows.filter(place__code=community)
    if q:
        rows = rows.filter(address__icontains=q)
    return Rows(rows.order_by("place__code", "address"), _household)


@router.post("/households", response={201: HouseholdOut}, summary="Register a household")
def create_household(request: AuthedRequest, payload: HouseholdIn):
    made = stock_actions.register_household(
        request.auth,
        _place(payload.place_code),
        payload.address,
        head_name=payload.head_name,
        phone=payload.phone,
        members=payload.members,
    )
    return 201, _household(made)


@router.get("/distributions", response=list[DistributionOut], summary="Who received what")
@paginate(Page)
def distributions(request: AuthedRequest, incident_id: int | None = None):
    _require(rules.may_view_reserves(request.auth))
    rows = Distribution.objects.filter(depot__in=_visible_depot_ids(request)).select_related(
        "depot", "item", "household", "handed_out_by"
    )
    if incident_id is not None:
        rows = rows.filter(incident_id=incident_id)
    return Rows(rows.order_by("-at", "-id"), _distribution)


@router.post("/distributions", response={201: DistributionOut}, summary="Hand out to a household")
def distribute(request: AuthedRequest, payload: DistributionIn):
    found = _depot_for(request, payload.depot)
    home = _households_for(request).filter(pk=payload.household_id).first()
    if home is None:
        raise ActionError(_("No such household."), field="household_id", code=ErrorCode.NOT_FOUND)
    done = stock_actions.distribute(
        request.auth,
        found,
        home,
        _item(payload.item),
        payload.quantity,
        signed_by=payload.signed_by,
        incident=_incident(request, payload.incident_id),
        note=payload.note,
    )
    return 201, _distribution(done)


# --- People, teams, candidates ----------------------------------------------------------------


@router.get("/people", response=list[ProfileOut], summary="Registered helpers")
@paginate(Page)
def people_list(
    request: AuthedRequest, kind: QueryText | None = None, skill: QueryText | None = None
):
    _require(rules.may_view_people(request.auth))
    rows = _profiles_for(request)
    if kind:
        rows = rows.filter(kind=kind)
    if skill:
        rows = rows.filter(user__skills__skill__code=skill).distinct()
    return Rows(rows.order_by("place__code", "user__username"), lambda p: _profile(request, p))


@router.post("/people", response={201: ProfileOut}, summary="Register or update a helper")
def save_person(request: AuthedRequest, payload: ProfileIn):
    data = payload.dict()
    user = _user(data.pop("username"))
    place = _place(data.pop("place_code"))
    profile = people_actions.save_profile(request.auth, user, place=place, **data)
    return 201, _profile(request, profile)


@router.get("/people/{username}", response=ProfileOut, summary="One helper")
def person(request: AuthedRequest, username: str):
    return _profile(request, _profile_for(request, username))


@router.post("/people/{username}/skills", response=ProfileOut, summary="Record a certificate")
def grant_skill(request: AuthedRequest, username: str, payload: SkillIn):
    profile = _profile_for(request, username)
    skill = Skill.objects.filter(code=payload.skill).first()
    if skill is None:
        raise ActionError(_("No such skill."), field="skill", code=ErrorCode.NOT_FOUND)
    people_actions.grant_person_skill(
        request.auth,
        profile,
        skill,
        certificate_no=payload.certificate_no,
        valid_until=payload.valid_until,
    )
    return _profile(request, profile)


@router.put("/people/{username}/availability", response=ProfileOut, summary="Weekly windows")
def set_availability(request: AuthedRequest, username: str, payload: AvailabilityIn):
    if username == request.auth.username:
        profile = get_object_or_404(PersonProfile, user=request.auth)
    else:
        profile = _profile_for(request, username)
    windows = [
        people_actions.Window(
            w.weekday,
            w.starts,
            w.ends,
            _place(w.place_code, field=f"windows[{i}].place_code") if w.place_code else None,
        )
        for i, w in enumerate(payload.windows)
    ]
    people_actions.set_availability(request.auth, profile, windows)
    return _profile(request, profile)


@router.get("/candidates", response=list[CandidateOut], summary="Who could come now")
def candidates(
    request: AuthedRequest,
    place: QueryText,
    skill: QueryText | None = None,
    at: dt.datetime | None = None,
    limit: int = 20,
):
    _require(rules.may_view_people(request.auth))
    where = _place(place, field="place")
    found = mobilisation.find_candidates(skill, where, at, max(1, min(limit, 200)))
    allowed = rules.people_filter(request.auth)
    visible = (
        None
        if allowed is None
        else set(PersonProfile.objects.filter(allowed).values_list("pk", flat=True))
    )
    return [
        CandidateOut(
            username=c.user.username,
            name=c.user.display_name or c.user.username,
            kind=c.profile.kind,
            distance_km=c.distance_km,
            insured=c.insured,
            skills=list(c.skills),
        )
        for c in found
        if visible is None or c.profile.pk in visible
    ]


@router.get("/teams", response=list[TeamOut], summary="Teams")
def teams(request: AuthedRequest):
    _require(rules.may_view_people(request.auth))
    return [_team(t) for t in _teams_for(request)]


@router.post("/teams", response={201: TeamOut}, summary="Form a team")
def create_team(request: AuthedRequest, payload: TeamIn):
    leader = _user(payload.leader, field="leader") if payload.leader else None
    team = people_actions.create_team(
        request.auth, _place(payload.place_code), payload.name, leader
    )
    return 201, _team(team)


@router.post("/teams/{int:team_id}/members", response=TeamOut, summary="Add a member")
def add_member(request: AuthedRequest, team_id: int, payload: MemberIn):
    team = get_object_or_404(_teams_for(request), pk=team_id)
    people_actions.add_team_member(request.auth, team, _user(payload.username))
    return _team(team)


@router.delete("/teams/{int:team_id}/members/{username}", response=TeamOut, summary="Remove")
def remove_member(request: AuthedRequest, team_id: int, username: str):
    team = get_object_or_404(_teams_for(request), pk=team_id)
    people_actions.remove_team_member(request.auth, team, _user(username))
    return _team(team)


# --- Call-ups ---------------------------------------------------------------------------------


@router.get("/callups", response=list[CallUpOut], summary="My call-ups, or those I manage")
@paginate(Page)
def callups(request: AuthedRequest, incident_id: int | None = None, mine: bool = False):
    rows = _callups_for(request, mine=mine)
    if incident_id is not None:
        rows = rows.filter(incident_id=incident_id)
    return Rows(rows.order_by("-sent_at", "-id"), _callup)


@router.post("/callups", response={201: list[CallUpOut]}, summary="Call people up")
def send_callups(request: AuthedRequest, payload: CallUpsIn):
    incident = _incident(request, payload.incident_id)
    users = [_user(name, field="usernames") for name in payload.usernames]
    made = people_actions.send_callups(request.auth, incident, users, payload.note)
    return 201, [_callup(c) for c in made]


@router.get("/callups/{int:callup_id}", response=CallUpOut, summary="One call-up")
def callup(request: AuthedRequest, callup_id: int):
    return _callup(_callup_for(request, callup_id))


@router.post("/callups/{int:callup_id}/accept", response=CallUpOut, summary="Accept")
def accept(request: AuthedRequest, callup_id: int):
    found = _callup_for(request, callup_id)
    return _callup(people_actions.respond_callup(request.auth, found, accept=True))


@router.post("/callups/{int:callup_id}/decline", response=CallUpOut, summary="Decline")
def decline(request: AuthedRequest, callup_id: int, payload: DeclineIn):
    found = _callup_for(request, callup_id)
    return _callup(
        people_actions.respond_callup(request.auth, found, accept=False, reason=payload.reason)
    )


@router.post("/callups/{int:callup_id}/check-in", response=CallUpOut, summary="Check in")
def check_in(request: AuthedRequest, callup_id: int, payload: CheckInPointIn):
    found = _callup_for(request, callup_id)
    return _callup(people_actions.check_in(request.auth, found, lat=payload.lat, lng=payload.lng))


@router.post("/callups/{int:callup_id}/check-out", response=CallUpOut, summary="Check out")
def check_out(request: AuthedRequest, callup_id: int, payload: CheckOutIn):
    found = _callup_for(request, callup_id)
    return _callup(people_actions.check_out(request.auth, found, hours=payload.hours))


@router.post("/callups/{int:callup_id}/cancel", response=CallUpOut, summary="Cancel")
def cancel(request: AuthedRequest, callup_id: int):
    return _callup(people_actions.cancel_callup(request.auth, _callup_for(request, callup_id)))


# --- The vulnerable register ------------------------------------------------------------------


@router.get("/vulnerable", response=list[ResidentOut], summary="The register (masked)")
@paginate(Page)
def residents(request: AuthedRequest, category: QueryText | None = None, overdue: bool = False):
    _require(rules.may_view_register(request.auth))
    rows = vulnerable.visible_residents(request.auth).filter(active=True)
    if overdue:
        rows = rows.filter(next_check_due__lt=timezone.now())
    result = [_resident(r, masked=True) for r in rows]
    if category:
        result = [r for r in result if category in r.categories]
    return read_audit.AuditedRows(  # names and addresses on the page: an audited read
        result,
        actor=request.auth,
        model=VulnerableResident,
        what="vulnerable",
        reason=read_audit.reason_of(request),
    )


@router.post("/vulnerable", response={201: ResidentDetailOut}, summary="Register a resident")
def register(request: AuthedRequest, payload: ResidentIn):
    data = payload.dict()
    place = _place(data.pop("place_code"))
    made = register_actions.register_resident(request.auth, place, **data)
    return 201, _resident_detail(made)


@router.get("/vulnerable/reach", response=ReachOut, summary="Reached in an incident (counts)")
def reach(request: AuthedRequest, incident_id: int):
    reached, total = vulnerable.reach_summary(_incident(request, incident_id))
    return ReachOut(reached=reached, total=total)


@router.get("/vulnerable/checklist", response=list[ChecklistRowOut], summary="Who was reached")
def checklist(request: AuthedRequest, incident_id: int):
    incident = _incident(request, incident_id)
    rows = vulnerable.checklist(request.auth, incident)
    read_audit.record_list_read(
        request.auth,
        VulnerableResident,
        [row.resident for row in rows],
        "vulnerable",
        read_audit.reason_of(request),
    )
    return [
        ChecklistRowOut(
            resident_id=row.resident.pk,
            name=row.resident.name,
            address=row.resident.address,
            phone=mask_phone(row.resident.phone),
            reached=row.reached,
            outcome=row.last.outcome if row.last else None,
            at=row.last.at if row.last else None,
        )
        for row in rows
    ]


@router.get("/vulnerable/{int:resident_id}", response=ResidentDetailOut, summary="One resident")
def resident(request: AuthedRequest, resident_id: int):
    _require(rules.may_view_register(request.auth))
    found = _resident_for(request, resident_id)
    read_audit.record_read(request.auth, found, "vulnerable", read_audit.reason_of(request))
    return _resident_detail(found)


@router.patch("/vulnerable/{int:resident_id}", response=ResidentDetailOut, summary="Change")
def update_resident(request: AuthedRequest, resident_id: int, payload: ResidentPatch):
    found = _resident_for(request, resident_id)
    changes = payload.dict(exclude_unset=True)
    return _resident_detail(register_actions.update_resident(request.auth, found, **changes))


@router.post("/vulnerable/{int:resident_id}/pair", response=ResidentDetailOut, summary="Pair")
def pair(request: AuthedRequest, resident_id: int, payload: PairIn):
    found = _resident_for(request, resident_id)
    helper = _user(payload.helper, field="helper") if payload.helper else None
    return _resident_detail(register_actions.pair(request.auth, found, helper))


@router.get(
    "/vulnerable/{int:resident_id}/checkins", response=list[CheckInOut], summary="Check-ins"
)
def checkins(request: AuthedRequest, resident_id: int):
    found = _resident_for(request, resident_id)
    read_audit.record_read(request.auth, found, "vulnerable", read_audit.reason_of(request))
    return [_checkin(c) for c in found.checkins.select_related("by")[:200]]


@router.post("/vulnerable/{int:resident_id}/checkins", response={201: CheckInOut}, summary="Record")
def record_checkin(request: AuthedRequest, resident_id: int, payload: CheckInIn):
    found = _resident_for(request, resident_id)
    done = register_actions.record_checkin(
        request.auth,
        found,
        payload.outcome,
        note=payload.note,
        incident=_incident(request, payload.incident_id),
    )
    return 201, _checkin(done)


# --- Lookups (scoped; outside the scope is "not found") ---------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionRefused(_("You may not see this."))


def _depot_for(request: AuthedRequest, code: str, field: str = "depot") -> Depot:
    found = reserves.visible_depots(request.auth).filter(code=code).first()
    if found is None:
        raise ActionError(_("No such depot."), field=field, code=ErrorCode.NOT_FOUND)
    return found


def _visible_depot_ids(request: AuthedRequest):
    return reserves.visible_depots(request.auth).values("pk")


def _item(code: str, field: str = "item") -> Item:
    found = Item.objects.filter(code=code).first()
    if found is None:
        raise ActionError(
            _("Unknown item “%(code)s”.") % {"code": code}, field=field, code=ErrorCode.NOT_FOUND
        )
    return found


def _place(code: str, field: str = "place_code") -> Place:
    found = Place.objects.filter(code=code).first()
    if found is None:
        raise ActionError(_("No such place."), field=field, code=ErrorCode.NOT_FOUND)
    return found


def _user(username: str, field: str = "username") -> User:
    found = User.objects.filter(username=username, is_active=True).first()
    if found is None:
        raise ActionError(_("No such person."), field=field, code=ErrorCode.NOT_FOUND)
    return found


def _incident(request: AuthedRequest, incident_id: int | None):
    if incident_id is None:
        return None
    from renzhi.emergency import queries_incidents

    found = queries_incidents.incidents_for(request.auth).filter(pk=incident_id).first()
    if found is None:
        raise ActionError(_("No such incident."), field="incident_id", code=ErrorCode.NOT_FOUND)
    return found


def _batch_for(request: AuthedRequest, batch_id: int) -> StockBatch:
    found = (
        StockBatch.objects.filter(pk=batch_id, depot__in=_visible_depot_ids(request))
        .select_related("depot__place", "item")
        .first()
    )
    if found is None:
        raise ActionError(_("No such batch."), field="batch_id", code=ErrorCode.NOT_FOUND)
    return found


def _requests_for(request: AuthedRequest):
    ids = _visible_depot_ids(request)
    return SupplyRequest.objects.filter(Q(to_depot__in=ids) | Q(from_depot__in=ids)).select_related(
        "to_depot", "from_depot", "requested_by"
    )


def _request_for(request: AuthedRequest, request_id: int) -> SupplyRequest:
    return get_object_or_404(_requests_for(request), pk=request_id)


def _households_for(request: AuthedRequest):
    condition = rules.depot_filter(request.auth)
    rows = Household.objects.select_related("place")
    return rows if condition is None else rows.filter(condition)


def _profiles_for(request: AuthedRequest):
    condition = rules.people_filter(request.auth)
    rows = PersonProfile.objects.select_related("user", "place")
    return rows if condition is None else rows.filter(condition)


def _profile_for(request: AuthedRequest, username: str) -> PersonProfile:
    return get_object_or_404(_profiles_for(request), user__username=username)


def _teams_for(request: AuthedRequest):
    condition = rules.people_filter(request.auth)
    rows = Team.objects.select_related("place", "leader").prefetch_related("members")
    return rows if condition is None else rows.filter(condition)


def _callups_for(request: AuthedRequest, mine: bool = False):
    rows = CallUp.objects.select_related("incident", "user")
    own = rows.filter(user=request.auth)
    if mine or not rules.may_view_people(request.auth):
        return own
    condition = rules.people_filter(request.auth, place_field="incident__place")
    managed = rows if condition is None else rows.filter(condition)
    return (own | managed).distinct()


def _callup_for(request: AuthedRequest, callup_id: int) -> CallUp:
    return get_object_or_404(_callups_for(request), pk=callup_id)


def _resident_for(request: AuthedRequest, resident_id: int) -> VulnerableResident:
    return get_object_or_404(vulnerable.visible_residents(request.auth), pk=resident_id)


# --- Serialisers ------------------------------------------------------------------------------


def _depot(d: Depot) -> DepotOut:
    return DepotOut(
        code=d.code,
        name=d.name,
        kind=d.kind,
        place_code=d.place.code,
        place_name=d.place.name,
        address=d.address,
        lat=d.lat,
        lng=d.lng,
        active=d.active,
    )


def _item_out(i: Item) -> ItemOut:
    return ItemOut(
        code=i.code,
        name=i.name,
        unit=i.unit,
        category=i.category,
        shelf_life_days=i.shelf_life_days,
        one_per_household=i.one_per_household,
        daily_per_person=i.daily_per_person,
    )


def _stock_row(r: reserves.StockRow) -> StockRowOut:
    return StockRowOut(
        depot=r.depot.code,
        item=r.item.code,
        item_name=r.item.name,
        unit=r.item.unit,
        on_hand=r.on_hand,
        usable=r.usable,
        expired=r.expired,
        expiring_30=r.expiring_30,
        expiring_7=r.expiring_7,
        minimum=r.minimum,
        below_minimum=r.below_minimum,
    )


def _batch(b: StockBatch) -> BatchOut:
    return BatchOut(
        id=b.pk,
        depot=b.depot.code,
        item=b.item.code,
        batch_no=b.batch_no,
        expires_on=b.expires_on,
        quantity=b.quantity,
    )


def _move(m: StockMove) -> MoveOut:
    return MoveOut(
        id=m.pk,
        at=m.at,
        depot=m.depot.code,
        item=m.item.code,
        batch_no=m.batch.batch_no,
        expires_on=m.batch.expires_on,
        kind=m.kind,
        quantity=m.quantity,
        balance_after=m.balance_after,
        reason=m.reason,
        counterpart=m.counterpart.code if m.counterpart else None,
        incident_id=m.incident_id,
        request=m.request.number if m.request_id and m.request else None,
        by=m.actor.username if m.actor else None,
    )


def _request(r: SupplyRequest) -> RequestOut:
    return RequestOut(
        id=r.pk,
        number=r.number,
        status=r.status,
        to_depot=r.to_depot.code,
        from_depot=r.from_depot.code,
        reason=r.reason,
        requested_by=r.requested_by.username,
        requested_at=r.requested_at,
        decision_note=r.decision_note,
        incident_id=r.incident_id,
        lines=[
            LineOut(
                item=line.item.code,
                item_name=line.item.name,
                requested=line.requested,
                approved=line.approved,
                issued=line.issued,
                received=line.received,
            )
            for line in r.lines.select_related("item")
        ],
    )


def _by_item(quantities: dict[str, int], field: str) -> dict[int, int]:
    return {_item(code, field=f"{field}.{code}").pk: qty for code, qty in quantities.items()}


def _household(h: Household) -> HouseholdOut:
    return HouseholdOut(
        id=h.pk,
        place_code=h.place.code,
        address=h.address,
        head_name=h.head_name,
        phone=mask_phone(h.phone),
        members=h.members,
        possible_duplicates=[d.pk for d in stock_actions.near_duplicates(h)],
    )


def _distribution(d: Distribution) -> DistributionOut:
    return DistributionOut(
        id=d.pk,
        at=d.at,
        depot=d.depot.code,
        household_id=d.household_id,
        household=d.household.address,
        item=d.item.code,
        quantity=d.quantity,
        signed_by=d.signed_by,
        handed_out_by=d.handed_out_by.username,
        incident_id=d.incident_id,
    )


def _profile(request: AuthedRequest, p: PersonProfile) -> ProfileOut:
    from renzhi.core.skills import total_hours

    manager = rules.may_manage_person(request.auth, p)
    return ProfileOut(
        username=p.user.username,
        name=p.user.display_name or p.user.username,
        kind=p.kind,
        place_code=p.place.code,
        qualification_level=p.qualification_level,
        certificate_no=p.certificate_no,
        phone=(p.user.phone or "") if manager else mask_phone(p.user.phone),
        insured_until=p.insured_until,
        active=p.active,
        skills=[
            SkillOut(code=s.skill.code, name=s.skill.name, valid_until=s.valid_until)
            for s in p.user.skills.select_related("skill")
        ],
        hours=total_hours(p.user),
    )


def _team(t: Team) -> TeamOut:
    return TeamOut(
        id=t.pk,
        name=t.name,
        place_code=t.place.code,
        leader=t.leader.username if t.leader else None,
        members=sorted(u.username for u in t.members.all()),
    )


def _callup(c: CallUp) -> CallUpOut:
    return CallUpOut(
        id=c.pk,
        incident_id=c.incident_id,
        incident=c.incident.title,
        username=c.user.username,
        name=c.user.display_name or c.user.username,
        status=c.status,
        note=c.note,
        sent_at=c.sent_at,
        responded_at=c.responded_at,
        checked_in_at=c.checked_in_at,
        checked_out_at=c.checked_out_at,
        insured=c.insured,
        hours=c.hours,
    )


def _resident(r: VulnerableResident, masked: bool) -> ResidentOut:
    return ResidentOut(
        id=r.pk,
        place_code=r.place_code,
        name=r.name,
        address=r.address,
        categories=list(r.categories),
        needs=list(r.needs),
        phone=mask_phone(r.phone) if masked else r.phone,
        helper=r.helper.username if r.helper else None,
        last_reached_at=r.last_reached_at,
        next_check_due=r.next_check_due,
        missed_checks=r.missed_checks,
    )


def _resident_detail(r: VulnerableResident) -> ResidentDetailOut:
    base = _resident(r, masked=False).dict()
    return ResidentDetailOut(
        **base,
        birth_year=r.birth_year,
        needs_note=r.needs_note,
        emergency_contact_name=r.emergency_contact_name,
        emergency_contact_phone=r.emergency_contact_phone,
        consent_method=r.consent_method,
        consent_at=r.consent_at,
    )


def _checkin(c) -> CheckInOut:
    return CheckInOut(
        id=c.pk,
        resident_id=c.resident_id,
        at=c.at,
        outcome=c.outcome,
        note=c.note,
        by=c.by.username,
        incident_id=c.incident_id,
        escalated=c.escalated,
    )
