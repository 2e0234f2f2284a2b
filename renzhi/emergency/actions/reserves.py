"""Every change to reserves: one function per verb, each one transaction.

Stock changes go through `_apply`, the one place that writes a `StockMove` and moves the batch
quantity with an `F()` update, always on batch rows this transaction has locked. Locks are
taken by `_lock_batches` in one fixed order (ascending id, all batches of the item in every
depot involved, in one statement) so two transfers in opposite directions cannot deadlock. The
quantity check happens after the lock; the database check constraint
`stock_batch_quantity_not_negative` refuses anything that slips past it. The audit event is
written last, after all row locks are held, so the chain lock never waits behind a batch lock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, notify
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Place, PlaceLevel, User
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.household_key import address_key
from renzhi.emergency.models import (
    Depot,
    DepotKind,
    Distribution,
    Household,
    Item,
    ItemCategory,
    MinimumLevel,
    MoveKind,
    RequestStatus,
    StockBatch,
    StockMove,
    SupplyRequest,
    SupplyRequestLine,
)

__all__ = [
    "CountResult",
    "adjust",
    "apply_counts",
    "approve_request",
    "cancel_request",
    "create_depot",
    "create_item",
    "dispose_expired",
    "distribute",
    "issue",
    "issue_request",
    "near_duplicates",
    "receive",
    "receive_request",
    "register_household",
    "reject_request",
    "request_supplies",
    "set_minimum",
    "set_minimums",
    "transfer",
    "update_depot",
    "update_item",
]

MAX_QUANTITY = 10_000_000


@dataclass(frozen=True)
class Line:
    """One item and quantity of a request or an approval."""

    item: Item
    quantity: int


# --- Master data -------------------------------------------------------------------------------


def create_depot(
    actor: User,
    *,
    code: str,
    name: str,
    kind: str,
    place: Place,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    contact_phone: str = "",
) -> Depot:
    if not rules.may_keep_stock(actor) or not _covers(actor, place):
        raise PermissionRefused(_("You may not add a depot here."), field="place")
    code = (code or "").strip()
    errors = _depot_errors(name=name, kind=kind, place=place, lat=lat, lng=lng)
    if not code:
        errors.insert(0, FieldError("code", ErrorCode.REQUIRED, _("Enter a code.")))
    elif Depot.objects.filter(code=code).exists():
        errors.insert(0, _code_used())
    if errors:
        raise ActionError(errors=errors)
    try:
        with transaction.atomic():
            depot = Depot.objects.create(
                code=code,
                name=name.strip(),
                kind=kind,
                place=place,
                address=(address or "").strip(),
                lat=lat,
                lng=lng,
                contact_phone=(contact_phone or "").strip(),
            )
            audit.record(actor, "emergency.depot.create", depot, after={"place": place.code})
    except IntegrityError as exc:  # the same code saved at the same moment
        raise ActionError(errors=[_code_used()]) from exc
    return depot


def update_depot(
    actor: User,
    depot: Depot,
    *,
    name: str,
    kind: str,
    place: Place,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
) -> Depot:
    """Change a depot's name, kind, owning place and location. The code stays: it is in links
    and in stock-count spreadsheets. Moving it to another place needs both places in scope."""
    if not rules.may_keep_depot(actor, depot):
        raise PermissionRefused(_("You may not change this depot."))
    if not _covers(actor, place):
        raise PermissionRefused(_("You may not add a depot here."), field="place")
    errors = _depot_errors(name=name, kind=kind, place=place, lat=lat, lng=lng)
    if errors:
        raise ActionError(errors=errors)
    fields = {
        "name": name.strip(),
        "kind": kind,
        "place_id": place.pk,
        "address": (address or "").strip(),
        "lat": lat,
        "lng": lng,
    }
    with transaction.atomic():
        locked = Depot.objects.select_for_update().select_related("place").get(pk=depot.pk)
        before = {k: getattr(locked, k) for k in fields}
        changed = {k: v for k, v in fields.items() if before[k] != v}
        if changed:
            for key, value in changed.items():
                setattr(locked, key, value)
            locked.save(update_fields=[k.removesuffix("_id") for k in changed])
            audit.record(
                actor,
                "emergency.depot.update",
                locked,
                before={k: before[k] for k in changed},
                after=changed,
            )
    locked.place = place
    return locked


def create_item(
    actor: User,
    *,
    code: str,
    name: str,
    unit: str,
    category: str,
    shelf_life_days: int | None = None,
    one_per_household: bool = False,
    daily_per_person=0,
) -> Item:
    if not rules.may_manage_items(actor):
        raise PermissionRefused(_("You may not add items."))
    code = (code or "").strip()
    errors = _item_errors(
        name=name,
        unit=unit,
        category=category,
        shelf_life_days=shelf_life_days,
        daily_per_person=daily_per_person,
    )
    if not code:
        errors.insert(0, FieldError("code", ErrorCode.REQUIRED, _("Enter a code.")))
    elif Item.objects.filter(code=code).exists():
        errors.insert(0, _code_used())
    if errors:
        raise ActionError(errors=errors)
    try:
        with transaction.atomic():
            item = Item.objects.create(
                code=code,
                name=name.strip(),
                unit=unit.strip(),
                category=category,
                shelf_life_days=shelf_life_days,
                one_per_household=one_per_household,
                daily_per_person=daily_per_person or 0,
            )
            audit.record(actor, "emergency.item.create", item)
    except IntegrityError as exc:
        raise ActionError(errors=[_code_used()]) from exc
    return item


def update_item(
    actor: User,
    item: Item,
    *,
    name: str,
    unit: str,
    category: str,
    shelf_life_days: int | None = None,
    one_per_household: bool = False,
    daily_per_person=0,
) -> Item:
    """Change an item of the catalogue. Past distributions keep their own copy of the
    one-per-household flag, and existing batches keep their expiry: only what is received or
    handed out from now on follows the new values."""
    if not rules.may_manage_items(actor):
        raise PermissionRefused(_("You may not change items."))
    errors = _item_errors(
        name=name,
        unit=unit,
        category=category,
        shelf_life_days=shelf_life_days,
        daily_per_person=daily_per_person,
    )
    if errors:
        raise ActionError(errors=errors)
    fields = {
        "name": name.strip(),
        "unit": unit.strip(),
        "category": category,
        "shelf_life_days": shelf_life_days,
        "one_per_household": bool(one_per_household),
        "daily_per_person": Decimal(str(daily_per_person or 0)),
    }
    with transaction.atomic():
        locked = Item.objects.select_for_update().get(pk=item.pk)
        before = {k: getattr(locked, k) for k in fields}
        changed = {k: v for k, v in fields.items() if before[k] != v}
        if changed:
            for key, value in changed.items():
                setattr(locked, key, value)
            locked.save(update_fields=list(changed))
            audit.record(
                actor,
                "emergency.item.update",
                locked,
                before={k: str(before[k]) for k in changed},
                after={k: str(v) for k, v in changed.items()},
            )
    return locked


def set_minimum(actor: User, depot: Depot, item: Item, minimum: int) -> MinimumLevel | None:
    """Set the minimum level of an item in a depot; 0 removes it."""
    _require_keeper(actor, depot)
    _check_quantity(minimum, allow_zero=True, field="minimum")
    with transaction.atomic():
        if minimum == 0:
            MinimumLevel.objects.filter(depot=depot, item=item).delete()
            level = None
        else:
            level, _created = MinimumLevel.objects.update_or_create(
                depot=depot, item=item, defaults={"minimum": minimum}
            )
        audit.record(
            actor,
            "emergency.stock.minimum",
            depot,
            after={"item": item.code, "minimum": minimum},
        )
    return level


def set_minimums(actor: User, depot: Depot, minimums: dict[Item, int | None]) -> int:
    """Set the minimum levels of many items of one depot at once (the depot × item grid):
    `None` or 0 removes a level. Every value is checked first, each error named
    `minimum_<item code>`; then all are written in one transaction with one audit event.
    Returns how many levels changed."""
    _require_keeper(actor, depot)
    errors = []
    for item, minimum in minimums.items():
        try:
            _check_quantity(minimum or 0, allow_zero=True, field=f"minimum_{item.code}")
        except ActionError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ActionError(errors=errors)
    changes: dict[str, int] = {}
    with transaction.atomic():
        Depot.objects.select_for_update().filter(pk=depot.pk).get()
        current = {m.item_id: m for m in MinimumLevel.objects.filter(depot=depot)}
        for item, minimum in minimums.items():
            wanted = minimum or 0
            level = current.get(item.pk)
            if level is None and wanted == 0:
                continue
            if level is not None and level.minimum == wanted:
                continue
            if wanted == 0 and level is not None:
                level.delete()
            elif level is not None:
                level.minimum = wanted
                level.save(update_fields=["minimum"])
            else:
                MinimumLevel.objects.create(depot=depot, item=item, minimum=wanted)
            changes[item.code] = wanted
        if changes:
            audit.record(actor, "emergency.stock.minimums", depot, after={"minimums": changes})
    return len(changes)


def _depot_errors(*, name: str, kind: str, place: Place, lat, lng) -> list[FieldError]:
    errors = []
    if not (name or "").strip():
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Enter a name.")))
    if kind not in DepotKind.values:
        errors.append(FieldError("kind", ErrorCode.INVALID, _("Choose a kind of depot.")))
    if place.level not in (PlaceLevel.STREET, PlaceLevel.COMMUNITY):
        errors.append(
            FieldError("place", ErrorCode.INVALID, _("A depot belongs to a street or community."))
        )
    if (lat is None) != (lng is None):
        field = "lng" if lng is None else "lat"
        errors.append(
            FieldError(field, ErrorCode.REQUIRED, _("Enter both latitude and longitude, or none."))
        )
    if lat is not None and not -90 <= lat <= 90:
        errors.append(FieldError("lat", ErrorCode.INVALID, _("Latitude lies between -90 and 90.")))
    if lng is not None and not -180 <= lng <= 180:
        errors.append(
            FieldError("lng", ErrorCode.INVALID, _("Longitude lies between -180 and 180."))
        )
    return errors


def _item_errors(
    *, name: str, unit: str, category: str, shelf_life_days, daily_per_person
) -> list[FieldError]:
    errors = []
    if not (name or "").strip():
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Enter a name.")))
    if not (unit or "").strip():
        errors.append(FieldError("unit", ErrorCode.REQUIRED, _("Enter a unit.")))
    if category not in ItemCategory.values:
        errors.append(FieldError("category", ErrorCode.INVALID, _("Choose a category.")))
    if shelf_life_days is not None and shelf_life_days <= 0:
        errors.append(
            FieldError("shelf_life_days", ErrorCode.INVALID, _("Shelf life must be positive."))
        )
    if daily_per_person is not None and float(daily_per_person) < 0:
        errors.append(
            FieldError("daily_per_person", ErrorCode.INVALID, _("A need cannot be negative."))
        )
    return errors


def _code_used() -> FieldError:
    return FieldError("code", ErrorCode.DUPLICATE, _("This code is already used."))


# --- The ledger --------------------------------------------------------------------------------


def receive(
    actor: User | None,
    depot: Depot,
    item: Item,
    quantity: int,
    *,
    batch_no: str = "",
    expires_on: dt.date | None = None,
    reason: str = "",
    incident=None,
    at: dt.datetime | None = None,
) -> StockMove:
    """Take goods into a depot, into the batch named by `batch_no` (created when new)."""
    _require_keeper(actor, depot)
    _check_quantity(quantity)
    _check_active(depot, item)
    batch_no = (batch_no or "").strip()
    if expires_on is None and item.shelf_life_days and not batch_no:
        expires_on = timezone.localdate() + dt.timedelta(days=item.shelf_life_days)
    if expires_on is not None and expires_on < timezone.localdate():
        raise ActionError(
            _("This batch has already expired; do not take it in."), field="expires_on"
        )
    if not batch_no and expires_on is not None:
        batch_no = expires_on.isoformat()  # unnamed goods of one expiry share a batch
    with transaction.atomic():
        batch = _batch_for(depot, item, batch_no, expires_on)
        if batch.expires_on != expires_on and expires_on is not None:
            raise ActionError(
                _("This batch number already exists with another expiry date."),
                field="batch_no",
                code=ErrorCode.CONFLICT,
            )
        move = _apply(
            batch, MoveKind.RECEIVE, quantity, actor, reason=reason, incident=incident, at=at
        )
        audit.record(actor, "emergency.stock.receive", move, after=_move_after(move))
    return move


def issue(
    actor: User | None,
    depot: Depot,
    item: Item,
    quantity: int,
    *,
    reason: str = "",
    incident=None,
    today: dt.date | None = None,
) -> list[StockMove]:
    """Issue first-expiry-first-out from unexpired batches. Refused when the unexpired stock
    is short: nothing is issued then."""
    _require_keeper(actor, depot)
    _check_quantity(quantity)
    with transaction.atomic():
        moves = _take(
            depot,
            item,
            quantity,
            MoveKind.ISSUE,
            actor,
            reason=reason,
            incident=incident,
            today=today,
        )
        audit.record(
            actor,
            "emergency.stock.issue",
            depot,
            after={"item": item.code, "quantity": quantity, "moves": [m.pk for m in moves]},
        )
    return moves


def transfer(
    actor: User | None,
    from_depot: Depot,
    to_depot: Depot,
    item: Item,
    quantity: int,
    *,
    reason: str = "",
    incident=None,
    today: dt.date | None = None,
) -> list[StockMove]:
    """Move stock between depots in one transaction: each batch taken FEFO at the source
    lands in the batch of the same number (and expiry) at the destination."""
    if from_depot.pk == to_depot.pk:
        raise ActionError(
            _("Choose a different depot to transfer to."), field="to_depot", code=ErrorCode.INVALID
        )
    _require_keeper(actor, from_depot)
    if not (rules.may_see_depot(actor, to_depot) if actor is not None else True):
        raise PermissionRefused(_("You may not transfer to this depot."), field="to_depot")
    _check_quantity(quantity)
    _check_active(to_depot, item)
    with transaction.atomic():
        moves = _move_between(
            from_depot,
            to_depot,
            item,
            quantity,
            actor,
            reason=reason,
            incident=incident,
            today=today,
        )
        audit.record(
            actor,
            "emergency.stock.transfer",
            from_depot,
            after={
                "to": to_depot.code,
                "item": item.code,
                "quantity": quantity,
                "ref": moves[0].transfer_ref,
            },
        )
    return moves


def adjust(actor: User, batch: StockBatch, delta: int, reason: str) -> StockMove:
    """Correct a batch after a count (盘点): the reason is required and kept on the move."""
    _require_keeper(actor, batch.depot)
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise ActionError(_("Enter a change other than zero."), field="quantity")
    if abs(delta) > MAX_QUANTITY:
        raise ActionError(_("This quantity is too large."), field="quantity")
    if not (reason or "").strip():
        raise ActionError(
            _("Say why the stock is adjusted."), field="reason", code=ErrorCode.REQUIRED
        )
    with transaction.atomic():
        locked = _lock_batches([batch.pk])[batch.pk]
        if locked.quantity + delta < 0:
            raise _short(locked.quantity)
        move = _apply(locked, MoveKind.ADJUST, delta, actor, reason=reason.strip())
        audit.record(actor, "emergency.stock.adjust", move, after=_move_after(move))
    return move


def dispose_expired(
    actor: User | None, batch: StockBatch, *, reason: str = "", today: dt.date | None = None
) -> StockMove:
    """Write off what is left of an expired batch."""
    if actor is not None:
        _require_keeper(actor, batch.depot)
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = _lock_batches([batch.pk])[batch.pk]
        if locked.expires_on is None or locked.expires_on >= today:
            raise ActionError(
                _("Only expired stock can be disposed of; adjust it instead."),
                field="batch",
                code=ErrorCode.INVALID_STATE,
            )
        if locked.quantity == 0:
            raise ActionError(
                _("This batch is already empty."), field="batch", code=ErrorCode.INVALID_STATE
            )
        move = _apply(
            locked, MoveKind.DISPOSE, -locked.quantity, actor, reason=reason or _("Expired")
        )
        audit.record(actor, "emergency.stock.dispose", move, after=_move_after(move))
    return move


@dataclass(frozen=True)
class CountResult:
    rows: int
    moves: int


def apply_counts(actor: User, rows: Sequence) -> CountResult:
    """Book a checked stock count (`stock_excel.read_counts`): each counted batch is brought
    to the counted quantity by one adjustment (a new batch by one receipt), all in one
    transaction, locking every batch concerned in id order first."""
    for row in rows:
        _require_keeper(actor, row.depot, field=f"row {row.row}: depot")
    moves = 0
    with transaction.atomic():
        _lock_item_batches(sorted({r.item.pk for r in rows}), sorted({r.depot.pk for r in rows}))
        for row in rows:
            batch = _batch_for(row.depot, row.item, row.batch_no, row.expires_on)
            locked = _lock_batches([batch.pk])[batch.pk]
            delta = row.quantity - locked.quantity
            if delta == 0:
                continue
            kind = MoveKind.RECEIVE if locked.quantity == 0 and delta > 0 else MoveKind.ADJUST
            reason = _("Stock count, row %(row)s") % {"row": row.row}
            if row.note:
                reason = f"{reason}: {row.note}"
            _apply(locked, kind, delta, actor, reason=reason)
            moves += 1
        audit.record(
            actor,
            "emergency.stock.count_import",
            object_type="emergency.stockbatch",
            object_id="",
            after={"rows": len(rows), "moves": moves},
        )
    return CountResult(rows=len(rows), moves=moves)


# --- Requests from a community to its street ---------------------------------------------------


def request_supplies(
    actor: User,
    to_depot: Depot,
    from_depot: Depot,
    lines: Sequence[Line],
    *,
    reason: str = "",
    incident=None,
) -> SupplyRequest:
    if not rules.may_keep_depot(actor, to_depot):
        raise PermissionRefused(_("You may not ask for supplies for this depot."), field="to_depot")
    if from_depot.pk == to_depot.pk:
        raise ActionError(_("Ask another depot than your own."), field="from_depot")
    if not to_depot.place.code.startswith(from_depot.place.code):
        raise ActionError(
            _("Ask a depot of the street or district your community belongs to."),
            field="from_depot",
        )
    if not lines:
        raise ActionError(_("Add at least one item."), field="lines", code=ErrorCode.REQUIRED)
    seen: set[int] = set()
    for i, line in enumerate(lines):
        _check_quantity(line.quantity, field=f"lines[{i}].quantity")
        if line.item.pk in seen:
            raise ActionError(_("Each item once, please."), field=f"lines[{i}].item")
        seen.add(line.item.pk)
    with transaction.atomic():
        now = timezone.now()
        request = SupplyRequest.objects.create(
            number=_request_number(now),
            to_depot=to_depot,
            from_depot=from_depot,
            incident=incident,
            reason=reason.strip(),
            requested_by=actor,
            requested_at=now,
        )
        SupplyRequestLine.objects.bulk_create(
            [
                SupplyRequestLine(request=request, item=line.item, requested=line.quantity)
                for line in lines
            ]
        )
        audit.record(
            actor,
            "emergency.request.create",
            request,
            after={"lines": [(line.item.code, line.quantity) for line in lines]},
        )
        notify.notify(
            _keepers_of(from_depot),
            notify.Message(
                kind="emergency.request",
                title=_("Supplies requested: %(number)s") % {"number": request.number},
                body=str(to_depot),
                link=f"/emergency/requests/{request.pk}/",
                object_type="emergency.supplyrequest",
                object_id=str(request.pk),
            ),
        )
    return request


def approve_request(
    actor: User, request: SupplyRequest, approved: dict[int, int] | None = None, note: str = ""
) -> SupplyRequest:
    """Approve all or part of each line (`approved` maps item id → quantity; missing items are
    approved in full)."""
    with transaction.atomic():
        request = _lock_request(request, RequestStatus.REQUESTED)
        _require_keeper(actor, request.from_depot, field="from_depot")
        lines = list(request.lines.select_for_update().order_by("id"))
        approved = approved or {}
        for line in lines:
            quantity = approved.get(line.item_id, line.requested)
            _check_quantity(quantity, allow_zero=True, field=f"approved.{line.item.code}")
            if quantity > line.requested:
                raise ActionError(
                    _("Approve no more than was requested."), field=f"approved.{line.item.code}"
                )
            line.approved = quantity
        if not any(line.approved for line in lines):
            raise ActionError(_("Approve at least one unit, or reject."), field="approved")
        SupplyRequestLine.objects.bulk_update(lines, ["approved"])
        request.status = RequestStatus.APPROVED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_note = note.strip()
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(
            actor,
            "emergency.request.approve",
            request,
            after={"approved": {line.item.code: line.approved for line in lines}},
        )
        _tell_requester(request, _("Supplies approved: %(number)s"))
    return request


def reject_request(actor: User, request: SupplyRequest, note: str) -> SupplyRequest:
    if not (note or "").strip():
        raise ActionError(_("Say why."), field="note", code=ErrorCode.REQUIRED)
    with transaction.atomic():
        request = _lock_request(request, RequestStatus.REQUESTED)
        _require_keeper(actor, request.from_depot, field="from_depot")
        request.status = RequestStatus.REJECTED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_note = note.strip()
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(actor, "emergency.request.reject", request, after={"note": note})
        _tell_requester(request, _("Supplies refused: %(number)s"))
    return request


def cancel_request(actor: User, request: SupplyRequest) -> SupplyRequest:
    with transaction.atomic():
        request = _lock_request(request, RequestStatus.REQUESTED)
        _require_keeper(actor, request.to_depot, field="to_depot")
        request.status = RequestStatus.CANCELLED
        request.save(update_fields=["status"])
        audit.record(actor, "emergency.request.cancel", request)
    return request


def issue_request(
    actor: User, request: SupplyRequest, *, today: dt.date | None = None
) -> SupplyRequest:
    """Send what was approved, as far as unexpired stock allows (partial fulfilment): the
    supplying depot's stock leaves with TRANSFER_OUT moves; it arrives when received."""
    with transaction.atomic():
        request = _lock_request(request, RequestStatus.APPROVED)
        _require_keeper(actor, request.from_depot, field="from_depot")
        lines = list(request.lines.select_for_update().select_related("item").order_by("id"))
        item_ids = sorted(line.item_id for line in lines)
        batches = _lock_item_batches(item_ids, [request.from_depot.pk])
        ref = str(uuid.uuid4())
        sent_any = False
        for line in lines:
            wanted = line.approved - line.issued
            usable = _usable(batches, request.from_depot.pk, line.item_id, today)
            for batch in usable:
                if wanted <= 0:
                    break
                take = min(wanted, batch.quantity)
                if take <= 0:
                    continue
                _apply(
                    batch,
                    MoveKind.TRANSFER_OUT,
                    -take,
                    actor,
                    counterpart=request.to_depot,
                    transfer_ref=ref,
                    request=request,
                    incident=request.incident,
                    reason=request.number,
                )
                batch.quantity -= take
                line.issued += take
                wanted -= take
                sent_any = True
        if not sent_any:
            raise ActionError(
                _("The supplying depot has no usable stock of these items."),
                field="lines",
                code=ErrorCode.CONFLICT,
            )
        SupplyRequestLine.objects.bulk_update(lines, ["issued"])
        request.status = RequestStatus.ISSUED
        request.issued_at = timezone.now()
        request.save(update_fields=["status", "issued_at"])
        audit.record(
            actor,
            "emergency.request.issue",
            request,
            after={"issued": {line.item.code: line.issued for line in lines}},
        )
        _tell_requester(request, _("Supplies on their way: %(number)s"))
    return request


def receive_request(
    actor: User, request: SupplyRequest, received: dict[int, int] | None = None
) -> SupplyRequest:
    """Book what arrived into the receiving depot, batch by batch as it was sent. Less than
    was issued may arrive (damage, loss): the difference stays visible on the line."""
    with transaction.atomic():
        request = _lock_request(request, RequestStatus.ISSUED)
        _require_keeper(actor, request.to_depot, field="to_depot")
        lines = list(request.lines.select_for_update().select_related("item").order_by("id"))
        received = received or {}
        for line in lines:
            quantity = received.get(line.item_id, line.issued)
            _check_quantity(quantity, allow_zero=True, field=f"received.{line.item.code}")
            if quantity > line.issued:
                raise ActionError(
                    _("More cannot arrive than was sent."), field=f"received.{line.item.code}"
                )
            line.received = quantity
        sent = list(
            StockMove.objects.filter(request=request, kind=MoveKind.TRANSFER_OUT)
            .select_related("batch")
            .order_by("batch__expires_on", "id")
        )
        ref = sent[0].transfer_ref if sent else str(uuid.uuid4())
        item_ids = sorted(line.item_id for line in lines)
        _lock_item_batches(item_ids, [request.to_depot.pk])
        for line in lines:
            left = line.received
            for out in sent:
                if left <= 0:
                    break
                if out.item_id != line.item_id:
                    continue
                take = min(left, -out.quantity)
                target = _batch_for(
                    request.to_depot, line.item, out.batch.batch_no, out.batch.expires_on
                )
                target = _lock_batches([target.pk])[target.pk]
                _apply(
                    target,
                    MoveKind.TRANSFER_IN,
                    take,
                    actor,
                    counterpart=request.from_depot,
                    transfer_ref=ref,
                    request=request,
                    incident=request.incident,
                    reason=request.number,
                )
                left -= take
        SupplyRequestLine.objects.bulk_update(lines, ["received"])
        request.status = RequestStatus.RECEIVED
        request.received_at = timezone.now()
        request.save(update_fields=["status", "received_at"])
        audit.record(
            actor,
            "emergency.request.receive",
            request,
            after={"received": {line.item.code: line.received for line in lines}},
        )
    return request


# --- Distribution to households ----------------------------------------------------------------


def register_household(
    actor: User,
    place: Place,
    address: str,
    *,
    head_name: str = "",
    phone: str = "",
    members: int = 1,
) -> Household:
    if not rules.scope.covers(actor, place, rules.DISTRIBUTORS) and not any(
        m.place is not None and m.place.code.startswith(place.code)
        for m in rules.scope.memberships(actor)
        if m.role in rules.DISTRIBUTORS
    ):
        raise PermissionRefused(_("You may not register households here."), field="place")
    if place.level != PlaceLevel.COMMUNITY:
        raise ActionError(_("A household belongs to a community."), field="place")
    if not (address or "").strip():
        raise ActionError(_("Enter the address."), field="address", code=ErrorCode.REQUIRED)
    key = address_key(address)
    if not key:
        raise ActionError(_("Enter the address."), field="address", code=ErrorCode.REQUIRED)
    with transaction.atomic():
        # One flat written another way is the same household (issue 23 #7).
        household, created = Household.objects.get_or_create(
            place=place,
            address_key=key,
            defaults={
                "address": address.strip(),
                "head_name": head_name,
                "phone": phone,
                "members": max(members, 1),
            },
        )
        if created:
            audit.record(actor, "emergency.household.create", household)
    return household


def distribute(
    actor: User,
    depot: Depot,
    household: Household,
    item: Item,
    quantity: int,
    *,
    signed_by: str,
    incident=None,
    note: str = "",
    today: dt.date | None = None,
) -> Distribution:
    """Hand supplies to a household (FEFO from the depot). A one-per-household item is given
    once per household per round (per incident, or once outside incidents)."""
    if actor is None or not rules.may_distribute_from(actor, depot):
        raise PermissionRefused(_("You may not hand out from this depot."), field="depot")
    _check_quantity(quantity)
    errors = []
    if not (signed_by or "").strip():
        errors.append(FieldError("signed_by", ErrorCode.REQUIRED, _("Enter who signed for it.")))
    if not household.place.code.startswith(depot.place.code):
        errors.append(
            FieldError(
                "household", ErrorCode.OUT_OF_AREA, _("This household is not served by this depot.")
            )
        )
    if item.one_per_household and quantity != 1:
        errors.append(
            FieldError("quantity", ErrorCode.INVALID, _("This item is one per household."))
        )
    if errors:
        raise ActionError(errors=errors)
    round_key = str(incident.pk) if incident is not None else ""
    with transaction.atomic():
        if (
            item.one_per_household
            and Distribution.objects.filter(
                household__in=_same_household(household),
                item=item,
                round_key=round_key,
                once_per_household=True,
            ).exists()
        ):
            raise _already_given()
        try:
            with transaction.atomic():
                distribution = Distribution.objects.create(
                    household=household,
                    item=item,
                    depot=depot,
                    quantity=quantity,
                    incident=incident,
                    once_per_household=item.one_per_household,
                    round_key=round_key,
                    signed_by=signed_by.strip(),
                    handed_out_by=actor,
                    at=timezone.now(),
                    note=note.strip(),
                )
        except IntegrityError as exc:
            raise _already_given() from exc
        _take(
            depot,
            item,
            quantity,
            MoveKind.ISSUE,
            actor,
            reason=str(household),
            incident=incident,
            today=today,
            distribution=distribution,
        )
        audit.record(
            actor,
            "emergency.distribution.create",
            distribution,
            after={"household": household.pk, "item": item.code, "quantity": quantity},
        )
    return distribution


def near_duplicates(household: Household) -> list[Household]:
    """Other households of the community that may be the same flat: flagged as duplicates of
    one another, or with the same numbers in their address ("3-2-301" and "3栋201" are not,
    "甲3-2-301" and "3号楼2单元301" are). Shown to staff; never merged silently."""
    root = household.duplicate_of_id or household.pk
    rows = Household.objects.filter(place_id=household.place_id).exclude(pk=household.pk)
    flagged = Q(pk=root) | Q(duplicate_of_id=root)
    if household.near_key:
        flagged |= Q(near_key=household.near_key)
    return list(rows.filter(flagged).order_by("pk"))


# --- Internals ---------------------------------------------------------------------------------


def _same_household(household: Household) -> list[int]:
    """The household and the rows flagged as its duplicates, its first row locked so that two
    hand-outs to the same flat through two of its rows are checked one after the other."""
    root = household.duplicate_of_id or household.pk
    Household.objects.select_for_update().filter(pk=root).values_list("pk").first()
    return [root, *Household.objects.filter(duplicate_of_id=root).values_list("pk", flat=True)]


def _take(
    depot: Depot,
    item: Item,
    quantity: int,
    kind: str,
    actor: User | None,
    *,
    reason: str = "",
    incident=None,
    today: dt.date | None = None,
    distribution: Distribution | None = None,
) -> list[StockMove]:
    batches = _lock_item_batches([item.pk], [depot.pk])
    usable = _usable(batches, depot.pk, item.pk, today)
    available = sum(b.quantity for b in usable)
    if available < quantity:
        raise _short(available, expired=_expired_quantity(batches, depot.pk, item.pk, today))
    moves = []
    left = quantity
    for batch in usable:
        if left == 0:
            break
        take = min(left, batch.quantity)
        if take == 0:
            continue
        moves.append(
            _apply(
                batch,
                kind,
                -take,
                actor,
                reason=reason,
                incident=incident,
                distribution=distribution,
            )
        )
        left -= take
    return moves


def _move_between(
    source: Depot,
    target: Depot,
    item: Item,
    quantity: int,
    actor: User | None,
    *,
    reason: str,
    incident,
    today: dt.date | None,
) -> list[StockMove]:
    batches = _lock_item_batches([item.pk], [source.pk, target.pk])
    usable = _usable(batches, source.pk, item.pk, today)
    available = sum(b.quantity for b in usable)
    if available < quantity:
        raise _short(available, expired=_expired_quantity(batches, source.pk, item.pk, today))
    ref = str(uuid.uuid4())
    moves: list[StockMove] = []
    left = quantity
    for batch in usable:
        if left == 0:
            break
        take = min(left, batch.quantity)
        if take == 0:
            continue
        moves.append(
            _apply(
                batch,
                MoveKind.TRANSFER_OUT,
                -take,
                actor,
                counterpart=target,
                transfer_ref=ref,
                reason=reason,
                incident=incident,
            )
        )
        landing = _batch_for(target, item, batch.batch_no, batch.expires_on)
        if landing.pk not in batches:
            landing = _lock_batches([landing.pk])[landing.pk]
            batches[landing.pk] = landing
        landing = batches[landing.pk]
        moves.append(
            _apply(
                landing,
                MoveKind.TRANSFER_IN,
                take,
                actor,
                counterpart=source,
                transfer_ref=ref,
                reason=reason,
                incident=incident,
            )
        )
        landing.quantity += take
        left -= take
    return moves


def _apply(
    batch: StockBatch,
    kind: str,
    delta: int,
    actor: User | None,
    *,
    reason: str = "",
    incident=None,
    counterpart: Depot | None = None,
    transfer_ref: str = "",
    request: SupplyRequest | None = None,
    distribution: Distribution | None = None,
    at: dt.datetime | None = None,
) -> StockMove:
    """Write one ledger line and move the (locked) batch by the same amount."""
    StockBatch.objects.filter(pk=batch.pk).update(quantity=F("quantity") + delta)
    balance = StockBatch.objects.values_list("quantity", flat=True).get(pk=batch.pk)
    return StockMove.objects.create(
        batch=batch,
        depot_id=batch.depot_id,
        item_id=batch.item_id,
        kind=kind,
        quantity=delta,
        balance_after=balance,
        at=at or timezone.now(),
        actor=actor,
        reason=reason[:200],
        incident=incident,
        counterpart=counterpart,
        transfer_ref=transfer_ref,
        request=request,
        distribution=distribution,
    )


def _lock_batches(ids: Iterable[int]) -> dict[int, StockBatch]:
    rows = StockBatch.objects.select_for_update().filter(pk__in=list(ids)).order_by("id")
    return {b.pk: b for b in rows}


def _lock_item_batches(item_ids: Sequence[int], depot_ids: Sequence[int]) -> dict[int, StockBatch]:
    """Lock every batch of these items in these depots, in ascending id order, at once."""
    rows = (
        StockBatch.objects.select_for_update()
        .filter(item_id__in=list(item_ids), depot_id__in=list(depot_ids))
        .order_by("id")
    )
    return {b.pk: b for b in rows}


def _usable(
    batches: dict[int, StockBatch], depot_id: int, item_id: int, today: dt.date | None
) -> list[StockBatch]:
    """Unexpired batches with stock, earliest expiry first (no expiry last)."""
    today = today or timezone.localdate()
    rows = [
        b
        for b in batches.values()
        if b.depot_id == depot_id
        and b.item_id == item_id
        and b.quantity > 0
        and (b.expires_on is None or b.expires_on >= today)
    ]
    return sorted(rows, key=lambda b: (b.expires_on is None, b.expires_on or dt.date.max, b.pk))


def _expired_quantity(
    batches: dict[int, StockBatch], depot_id: int, item_id: int, today: dt.date | None
) -> int:
    today = today or timezone.localdate()
    return sum(
        b.quantity
        for b in batches.values()
        if b.depot_id == depot_id
        and b.item_id == item_id
        and b.expires_on is not None
        and b.expires_on < today
    )


def _batch_for(depot: Depot, item: Item, batch_no: str, expires_on: dt.date | None) -> StockBatch:
    batch, _created = StockBatch.objects.get_or_create(
        depot=depot, item=item, batch_no=batch_no, defaults={"expires_on": expires_on}
    )
    return batch


def _short(available: int, expired: int = 0) -> ActionError:
    if expired:
        message = _(
            "Only %(available)s can be issued: %(expired)s more have expired and cannot be issued."
        ) % {"available": available, "expired": expired}
    else:
        message = _("Only %(available)s on hand.") % {"available": available}
    return ActionError(message, field="quantity", code=ErrorCode.CONFLICT)


def _already_given() -> ActionError:
    return ActionError(
        _("This household has already received this item."),
        field="household",
        code=ErrorCode.DUPLICATE,
    )


def _check_quantity(quantity, *, allow_zero: bool = False, field: str = "quantity") -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ActionError(_("Enter a whole number."), field=field)
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise ActionError(_("Enter a positive quantity."), field=field)
    if quantity > MAX_QUANTITY:
        raise ActionError(_("This quantity is too large."), field=field)


def _check_active(depot: Depot, item: Item) -> None:
    if not depot.active:
        raise ActionError(_("This depot is closed."), field="depot", code=ErrorCode.INVALID_STATE)
    if not item.active:
        raise ActionError(_("This item is retired."), field="item", code=ErrorCode.INVALID_STATE)


def _require_keeper(actor: User | None, depot: Depot, field: str = "depot") -> None:
    """`actor=None` is the system (imports, demo data); every user must keep the depot."""
    if actor is not None and not rules.may_keep_depot(actor, depot):
        raise PermissionRefused(_("You may not change the stock of this depot."), field=field)


def _covers(actor: User, place: Place) -> bool:
    return rules.scope.covers(actor, place, rules.STOCK_KEEPERS)


def _lock_request(request: SupplyRequest, expected: str) -> SupplyRequest:
    locked = (
        SupplyRequest.objects.select_for_update(of=("self",))
        .select_related("to_depot__place", "from_depot__place")
        .get(pk=request.pk)
    )
    if locked.status != expected:
        raise ActionError(
            _("This request is %(status)s; it cannot do that now.")
            % {"status": locked.get_status_display()},
            field="status",
            code=ErrorCode.INVALID_STATE,
        )
    return locked


def _request_number(now: dt.datetime) -> str:
    local = timezone.localtime(now)
    return f"WZ{local:%Y%m%d%H%M%S}{uuid.uuid4().hex[:4].upper()}"


def _keepers_of(depot: Depot) -> list[User]:
    from renzhi.core.models import Membership

    codes = [depot.place.code[:n] for n in (6, 9, 12) if len(depot.place.code) >= n]
    return [
        m.user
        for m in Membership.objects.filter(
            role__in=rules.STOCK_KEEPERS - {"admin"}, place__code__in=codes
        ).select_related("user")
    ]


def _tell_requester(request: SupplyRequest, title: str) -> None:
    notify.notify(
        request.requested_by,
        notify.Message(
            kind="emergency.request",
            title=title % {"number": request.number},
            link=f"/emergency/requests/{request.pk}/",
            object_type="emergency.supplyrequest",
            object_id=str(request.pk),
        ),
    )


def _move_after(move: StockMove) -> dict:
    return {
        "depot": move.depot_id,
        "item": move.item_id,
        "batch": move.batch_id,
        "kind": move.kind,
        "quantity": move.quantity,
        "balance": move.balance_after,
    }
