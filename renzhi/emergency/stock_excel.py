"""Excel files of reserves: the stock count (盘点) template and import, and exports of every
ledger (stock moves, stock on hand, requests, distributions, call-ups).

An import is all or nothing: every row is checked first and every problem is reported with
its row number and column (`row 4: quantity` in the field, the column letter and header in the
message); only a clean file reaches `actions.reserves.apply_counts`, which writes the moves in
one transaction. Headers are fixed Chinese names (the English keys are accepted too), because
people fill the template by hand. Exports mask household phone numbers and stream with
openpyxl's write-only mode, text through core.spreadsheets (no formula injection).
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from renzhi.core import spreadsheets
from renzhi.core.errors import ActionError, ErrorCode, FieldError
from renzhi.core.privacy import mask_phone
from renzhi.core.text import check_text
from renzhi.emergency import reserves
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.actions import reserves as actions
from renzhi.emergency.models import (
    CallUp,
    Depot,
    Distribution,
    Item,
    StockBatch,
    SupplyRequestLine,
)

__all__ = ["XLSX_CONTENT_TYPE", "CountRow", "export", "import_counts", "read_counts", "template"]

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# (key, header) of the count template, in column order.
COLUMNS = [
    ("depot", "储备点编码"),
    ("item", "物资编码"),
    ("batch_no", "批次号"),
    ("expires_on", "有效期至"),
    ("quantity", "盘点数量"),
    ("note", "备注"),
]
REQUIRED = ("depot", "item", "quantity")
LEDGERS = ("moves", "stock", "requests", "distributions", "callups")


@dataclass(frozen=True)
class CountRow:
    row: int
    depot: Depot
    item: Item
    batch_no: str
    expires_on: dt.date | None
    quantity: int
    note: str


def template() -> IO[bytes]:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "盘点"
    sheet.append([header for _key, header in COLUMNS])
    sheet.append(["dep-a", "water", "2026-0301", "2027-03-01", 120, ""])
    for i in range(1, len(COLUMNS) + 1):
        sheet.column_dimensions[get_column_letter(i)].width = 16
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def import_counts(actor, content: bytes) -> actions.CountResult:
    """Check the whole file, then book the differences. Raises ActionError listing every
    problem (nothing is written then)."""
    rows = read_counts(actor, content)
    return actions.apply_counts(actor, rows)


def read_counts(actor, content: bytes) -> list[CountRow]:
    if len(content) > MAX_BYTES:
        raise ActionError(_("The file is larger than 5 MB."), field="file")
    if not content.startswith(b"PK\x03\x04"):
        raise ActionError(_("This is not an .xlsx file."), field="file")
    try:
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(content)).infolist())
        if unpacked > 100 * MAX_BYTES:
            raise ActionError(_("This file unpacks to something too large."), field="file")
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ActionError(_("This .xlsx file cannot be read."), field="file") from exc
    sheet = book.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = next(lines, None)
    keys = _header_keys(list(header or []))
    missing = [h for k, h in COLUMNS if k in REQUIRED and k not in keys]
    if missing:
        raise ActionError(
            _("Missing columns: %(columns)s.") % {"columns": "、".join(missing)}, field="file"
        )
    depots = {d.code: d for d in Depot.objects.select_related("place")}
    items = {i.code: i for i in Item.objects.all()}
    existing = {
        (b.depot_id, b.item_id, b.batch_no): b.expires_on
        for b in StockBatch.objects.only("depot_id", "item_id", "batch_no", "expires_on")
    }
    today = timezone.localdate()
    errors: list[FieldError] = []
    result: list[CountRow] = []
    seen: dict[tuple, int] = {}
    for number, values in enumerate(lines, start=2):
        if number - 1 > MAX_ROWS:
            raise ActionError(_("More than %(n)d rows.") % {"n": MAX_ROWS}, field="file")
        cells = {k: values[i] if i < len(values) else None for k, i in keys.items()}
        if all(_blank(v) for v in cells.values()):
            continue
        row_errors: list[FieldError] = []

        def problem(key: str, message: str, _n: int = number, _e: list = row_errors) -> None:
            column = f"{get_column_letter(keys[key] + 1)}（{dict(COLUMNS)[key]}）"
            text = _("Row %(row)s, column %(column)s: %(problem)s") % {
                "row": _n,
                "column": column,
                "problem": message,
            }
            _e.append(FieldError(f"row {_n}: {key}", ErrorCode.INVALID, text))

        depot = depots.get(_text(cells.get("depot")))
        if depot is None:
            problem("depot", _("unknown depot code."))
        elif not rules.may_keep_depot(actor, depot):
            problem("depot", _("you may not count this depot."))
        item = items.get(_text(cells.get("item")))
        if item is None:
            problem("item", _("unknown item code."))
        quantity = _whole(cells.get("quantity"))
        if quantity is None or quantity < 0:
            problem("quantity", _("enter a whole number, 0 or more."))
        expires_on = None
        if "expires_on" in keys and not _blank(cells.get("expires_on")):
            expires_on = _date(cells.get("expires_on"))
            if expires_on is None:
                problem("expires_on", _("enter a date like 2027-03-01."))
        batch_no = _checked(problem, "batch_no", cells.get("batch_no"), 40)
        note = _checked(problem, "note", cells.get("note"), 200) if "note" in keys else ""
        if not batch_no and expires_on is not None:
            batch_no = expires_on.isoformat()
        if depot is not None and item is not None and not row_errors:
            key = (depot.pk, item.pk, batch_no)
            if key in seen:
                problem(
                    "batch_no",
                    _("the same batch is already counted in row %(row)s.") % {"row": seen[key]},
                )
            seen[key] = number
            known = existing.get(key, "new")
            if known == "new" and expires_on is not None and expires_on < today and quantity:
                problem("expires_on", _("a new batch cannot be already expired."))
            elif known not in ("new", None) and expires_on is not None and known != expires_on:
                problem("expires_on", _("this batch has another expiry date in stock."))
        if row_errors:
            errors.extend(row_errors)
            continue
        assert depot is not None and item is not None and quantity is not None
        result.append(
            CountRow(
                row=number,
                depot=depot,
                item=item,
                batch_no=batch_no,
                expires_on=expires_on,
                quantity=quantity,
                note=note,
            )
        )
    if errors:
        raise ActionError(errors=errors[:200])
    if not result:
        raise ActionError(_("The file has no rows."), field="file", code=ErrorCode.REQUIRED)
    return result


def export(user, ledger: str) -> tuple[IO[bytes], str]:
    """One ledger as a workbook, limited to what `user` may see."""
    if ledger not in LEDGERS:
        raise ActionError(_("Choose a ledger to export."), field="ledger")
    headers, rows = _LEDGER_ROWS[ledger](user)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=ledger)
    sheet.append(headers)
    for row in rows:
        sheet.append(spreadsheets.xlsx_row(sheet, [_cell(v) for v in row]))
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (caller closes)
    book.save(spool)
    spool.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return spool, f"{ledger}-{stamp}.xlsx"  # type: ignore[return-value]


# --- Ledgers ----------------------------------------------------------------------------------


def _moves(user):
    headers = [
        _("Time"),
        _("Depot"),
        _("Item"),
        _("Batch"),
        _("Expires on"),
        _("Kind"),
        _("Quantity"),
        _("Balance after"),
        _("Other depot"),
        _("Reason"),
        _("By"),
    ]
    moves = reserves.ledger_for(user).order_by("at", "id").iterator(chunk_size=2000)
    return headers, (
        [
            timezone.localtime(m.at),
            m.depot.name,
            m.item.name,
            m.batch.batch_no,
            m.batch.expires_on,
            m.get_kind_display(),
            m.quantity,
            m.balance_after,
            m.counterpart.name if m.counterpart else "",
            m.reason,
            (m.actor.display_name or m.actor.username) if m.actor else "",
        ]
        for m in moves
    )


def _stock(user):
    headers = [
        _("Depot"),
        _("Item"),
        _("Unit"),
        _("On hand"),
        _("Usable"),
        _("Expired"),
        _("Expiring in 30 days"),
        _("Expiring in 7 days"),
        _("Minimum"),
    ]
    rows = reserves.stock_rows(reserves.visible_depots(user))
    return headers, (
        [
            r.depot.name,
            r.item.name,
            r.item.unit,
            r.on_hand,
            r.usable,
            r.expired,
            r.expiring_30,
            r.expiring_7,
            r.minimum,
        ]
        for r in rows
    )


def _requests(user):
    headers = [
        _("Number"),
        _("Status"),
        _("Receiving depot"),
        _("Supplying depot"),
        _("Item"),
        pgettext("supply request", "Requested"),
        pgettext("supply request", "Approved"),
        pgettext("supply request", "Issued"),
        pgettext("supply request", "Received"),
        _("Requested at"),
    ]
    depots = reserves.visible_depots(user).values("pk")
    lines = (
        SupplyRequestLine.objects.filter(request__to_depot__in=depots)
        | SupplyRequestLine.objects.filter(request__from_depot__in=depots)
    ).select_related("request__to_depot", "request__from_depot", "item")
    return headers, (
        [
            line.request.number,
            line.request.get_status_display(),
            line.request.to_depot.name,
            line.request.from_depot.name,
            line.item.name,
            line.requested,
            line.approved,
            line.issued,
            line.received,
            timezone.localtime(line.request.requested_at),
        ]
        for line in lines.order_by("request__requested_at", "id")
    )


def _distributions(user):
    headers = [
        _("Time"),
        _("Depot"),
        _("Household"),
        _("Head of household"),
        _("Phone"),
        _("Item"),
        _("Quantity"),
        _("Signed by"),
        _("Handed out by"),
    ]
    rows = Distribution.objects.filter(
        depot__in=reserves.visible_depots(user).values("pk")
    ).select_related("depot", "household", "item", "handed_out_by")
    return headers, (
        [
            timezone.localtime(d.at),
            d.depot.name,
            d.household.address,
            d.household.head_name,
            mask_phone(d.household.phone),
            d.item.name,
            d.quantity,
            d.signed_by,
            d.handed_out_by.display_name or d.handed_out_by.username,
        ]
        for d in rows.order_by("at", "id")
    )


def _callups(user):
    headers = [
        _("Incident"),
        _("Person"),
        _("Status"),
        _("Sent at"),
        _("Checked in at"),
        _("Checked out at"),
        _("Hours"),
        _("Insured on duty"),
    ]
    condition = rules.people_filter(user, place_field="incident__place")
    rows = CallUp.objects.select_related("incident", "user")
    if not rules.may_view_people(user):
        rows = rows.filter(user=user)
    elif condition is not None:
        rows = rows.filter(condition)
    return headers, (
        [
            c.incident.title,
            c.user.display_name or c.user.username,
            c.get_status_display(),
            timezone.localtime(c.sent_at),
            timezone.localtime(c.checked_in_at) if c.checked_in_at else None,
            timezone.localtime(c.checked_out_at) if c.checked_out_at else None,
            c.hours,
            _("yes") if c.insured else _("no"),
        ]
        for c in rows.order_by("sent_at", "id")
    )


_LEDGER_ROWS = {
    "moves": _moves,
    "stock": _stock,
    "requests": _requests,
    "distributions": _distributions,
    "callups": _callups,
}


# --- Cells ------------------------------------------------------------------------------------


def _header_keys(values: list[Any]) -> dict[str, int]:
    names = {header: key for key, header in COLUMNS} | {key: key for key, _h in COLUMNS}
    keys: dict[str, int] = {}
    for i, value in enumerate(values):
        key = names.get(_text(value))
        if key is not None and key not in keys:
            keys[key] = i
    return keys


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _checked(problem: Callable[[str, str], None], key: str, value: Any, limit: int) -> str:
    """A text cell cleaned like typed text (renzhi.core.text); a problem for its row if not."""
    try:
        return check_text(_text(value), max_length=limit)
    except ValidationError as exc:
        problem(key, " ".join(exc.messages))
        return ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value
