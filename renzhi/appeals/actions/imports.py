"""Excel/CSV bulk intake (批量导入): every row is checked first, then all rows go in or none.

`start_import` (in the request) checks the importer's role and the file itself — type, size,
encoding, header — and stores it as an `ImportJob`, then enqueues `run_import_task` (django-tasks)
once the job row is committed. `run_import` does the work in two phases:

1. validating — every row is parsed and checked against categories, the service area, the
   importer's jurisdiction and the rows already imported; all problems are collected as
   {row, column, message} (row = spreadsheet row, header = 1; column = the Chinese header).
   Any problem: the job ends `failed` and nothing is written.
2. importing — one transaction; the rows go through `cases.submit_many` (channel `import`) in
   chunks of `WRITE_CHUNK`: the same checks, tracking numbers, routing, SLA deadlines, timeline,
   audit events and notifications as `submit_appeal` gives every other intake, written in bulk.
   Should a row still be refused there (something changed since validation), everything is
   rolled back and that row is reported.

Progress (`processed`) is written every `PROGRESS_EVERY` rows while checking and after every
chunk while importing. During the write phase the
import's own transaction hides its writes from other sessions until commit, so on PostgreSQL
progress goes through a second, autocommit connection; SQLite has one writer at a time, so there
the job shows “importing” until the commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from renzhi.appeals import excel
from renzhi.appeals.actions import cases
from renzhi.appeals.models import Appeal, Category, Channel, ImportJob
from renzhi.core import audit, geo, scope
from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import Place, PlaceLevel, Role, User
from renzhi.core.text import TEXT_CAP, check_text
from renzhi.core.workdays import LOCAL_TZ

__all__ = [
    "IMPORT_ROLES",
    "ImportRow",
    "may_import",
    "run_import",
    "run_import_task",
    "start_import",
    "template_for",
    "validate_table",
]

log = logging.getLogger("renzhi.appeals.imports")

# Who may import: those `submit_appeal` accepts for the import channel.
IMPORT_ROLES = frozenset(cases.INTAKE_STAFF | {Role.ADMIN})
PROGRESS_EVERY = 500
WRITE_CHUNK = 1000
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=LOCAL_TZ)
DATE_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
]
PHONE_NOISE = re.compile(r"[\s\-()（）]")
# Field names of `submit_appeal` errors → the column to blame.
FIELD_COLUMNS = {
    "description": "description",
    "category": "category_code",
    "location": "lat",
    "place": "place_code",
    "contact_phone": "contact_phone",
}


def may_import(user: User | None) -> bool:
    return scope.has_role(user, *IMPORT_ROLES)


@dataclass
class ImportRow:
    """One checked row, ready for `cases.submit_many`."""

    row: int
    description: str
    category: Category | None = None
    lat: float | None = None
    lng: float | None = None
    place: Place | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    external_ref: str = ""
    received_at: dt.datetime | None = None


# --- Starting -------------------------------------------------------------------------------


def start_import(actor: User, *, filename: str, content: bytes) -> ImportJob:
    """Check the file and queue its import. Raises ActionError (field `file`) for a file that
    cannot be read at all; row problems are the job's business."""
    _require_importer(actor)
    filename = os.path.basename(filename or "upload")[:200]
    table = excel.read_table(filename, content)
    with transaction.atomic():
        job = ImportJob.objects.create(
            created_by=actor,
            filename=filename,
            file_format=table.file_format,
            content=content,
            total=len(table.rows),
            language=translation.get_language() or "",
        )
        audit.record(
            actor,
            "appeal_import.start",
            job,
            after={
                "file": filename,
                "format": table.file_format,
                "encoding": table.encoding,
                "rows": job.total,
            },
        )
    # The worker must find the committed row; outside a transaction this runs at once.
    transaction.on_commit(partial(run_import_task.enqueue, job.pk))
    return job


@task()
def run_import_task(job_id: int) -> dict:
    job = run_import(job_id)
    return {"status": job.status, "created": job.created, "errors": len(job.errors)}


# --- Running --------------------------------------------------------------------------------


def run_import(job_id: int) -> ImportJob:
    """Validate then import one job. Safe to call twice: only a pending job is started."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.VALIDATING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        progress = _Progress(job)
        try:
            table = excel.read_table(job.filename, bytes(job.content or b""))
            rows, errors = validate_table(job.created_by, table, progress=progress.validated)
            if errors:
                _finish(
                    job,
                    ImportJob.Status.FAILED,
                    errors=errors,
                    message=_refused_message(len({e["row"] for e in errors})),
                )
                return job
            _set(job, status=ImportJob.Status.IMPORTING, processed=0)
            created = _write(job, rows, progress)
        except _RowRefused as refused:
            _finish(
                job,
                ImportJob.Status.FAILED,
                errors=refused.errors,
                message=_refused_message(1),
            )
        except ActionError as exc:
            _finish(
                job,
                ImportJob.Status.FAILED,
                message=" ".join(e.message for e in exc.errors),
                errors=[{"row": None, "column": "", "message": e.message} for e in exc.errors],
            )
        except Exception:
            log.exception("import job %s failed", job_id)
            _finish(
                job,
                ImportJob.Status.ERROR,
                message=_("The import stopped on an internal error; nothing was imported."),
            )
        else:
            _finish(
                job,
                ImportJob.Status.DONE,
                created=created,
                message=ngettext("%(n)d appeal imported.", "%(n)d appeals imported.", created)
                % {"n": created},
            )
        finally:
            progress.close()
    return job


def _refused_message(rows: int) -> str:
    return ngettext(
        "%(n)d row has problems; nothing was imported.",
        "%(n)d rows have problems; nothing was imported.",
        rows,
    ) % {"n": rows}


def _column_header(field: str | None) -> str:
    """The spreadsheet header for an error's field, or "" when it maps to no column."""
    column = FIELD_COLUMNS.get(field or "")
    return excel.HEADERS.get(column, "") if column is not None else ""


class _RowRefused(Exception):
    def __init__(self, row: int, exc: ActionError):
        self.errors = [
            {
                "row": row,
                "column": _column_header(e.field),
                "message": e.message,
            }
            for e in exc.errors
        ]
        super().__init__(str(exc))


def _write(job: ImportJob, rows: list[ImportRow], progress: _Progress) -> int:
    actor = job.created_by
    created = 0
    with transaction.atomic():
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            try:
                appeals = cases.submit_many(
                    actor, [_intake_row(job, item) for item in chunk], channel=Channel.IMPORT
                )
            except cases.BatchRowRefused as exc:
                raise _RowRefused(chunk[exc.index].row, exc) from exc
            created += len(appeals)
            progress.imported(start + len(chunk), created)
    return created


def _intake_row(job: ImportJob, item: ImportRow) -> cases.IntakeRow:
    return cases.IntakeRow(
        description=item.description,
        category=item.category,
        lat=item.lat,
        lng=item.lng,
        place=item.place if item.lat is None else None,
        address=item.address,
        contact_name=item.contact_name,
        contact_phone=item.contact_phone,
        external_ref=item.external_ref,
        received_at=item.received_at,
        extra={"import_job": job.pk, "row": item.row},
    )


def _set(job: ImportJob, **fields) -> None:
    for key, value in fields.items():
        setattr(job, key, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _finish(
    job: ImportJob, status: str, *, errors=None, created: int = 0, message: str = ""
) -> None:
    _set(
        job,
        status=status,
        errors=errors or [],
        created=created,
        message=message,
        finished_at=timezone.now(),
        content=None,
        processed=job.total if status == ImportJob.Status.DONE else job.processed,
    )
    audit.record(
        job.created_by,
        f"appeal_import.{status}",
        job,
        after={
            "file": job.filename,
            "rows": job.total,
            "created": created,
            "errors": len(errors or []),
        },
    )


class _Progress:
    """Writes `processed` where other sessions can read it (see the module docstring)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.side = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def validated(self, done: int) -> None:
        _set(self.job, processed=done)

    def imported(self, done: int, created: int) -> None:
        self.job.processed, self.job.created = done, created
        if self.side is None:
            ImportJob.objects.filter(pk=self.job.pk).update(processed=done, created=created)
            return
        try:
            with self.side.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET processed = %s, "
                    "created = %s WHERE id = %s",
                    [done, created, self.job.pk],
                )
        except Exception:  # progress is a courtesy; never let it break the import
            log.warning("could not report progress of import job %s", self.job.pk, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


# --- Validation -----------------------------------------------------------------------------


def validate_table(
    actor: User, table: excel.Table, progress=None
) -> tuple[list[ImportRow], list[dict]]:
    """Every row checked; returns (rows ready to import, every problem found)."""
    checker = _Checker(actor, table)
    rows: list[ImportRow] = []
    for done, (number, raw) in enumerate(table.rows, start=1):
        row = checker.check(number, raw)
        if row is not None:
            rows.append(row)
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    return rows, checker.errors


class _Checker:
    """Holds what every row is checked against, looked up once per file."""

    def __init__(self, actor: User, table: excel.Table):
        self.actor = actor
        self.errors: list[dict] = []
        self.now = timezone.now()
        self.codes = scope.jurisdiction_codes(actor, roles_allowed=IMPORT_ROLES)
        texts = [{k: excel.cell_text(v) for k, v in raw.items()} for _, raw in table.rows]
        self.texts = dict(zip([n for n, _ in table.rows], texts, strict=True))
        self.categories = {c.code: c for c in Category.objects.select_related("parent")}
        wanted_places = {t.get("place_code", "") for t in texts} - {""}
        self.places = {
            p.code: p
            for p in Place.objects.filter(
                code__in=wanted_places, level__in=[PlaceLevel.COMMUNITY, PlaceLevel.GRID]
            ).select_related("parent")
        }
        self.other_places = set(
            Place.objects.filter(code__in=wanted_places - set(self.places)).values_list(
                "code", flat=True
            )
        )
        refs = [t.get("external_ref", "") for t in texts if t.get("external_ref")]
        self.imported_refs = (
            dict(
                Appeal.objects.filter(
                    channel=Channel.IMPORT, external_ref__in=set(refs)
                ).values_list("external_ref", "tracking_no")
            )
            if refs
            else {}
        )
        self.refs_seen: dict[str, int] = {}
        self.grids = self._locate_all(table)

    def _locate_all(self, table: excel.Table) -> dict[int, Place | None]:
        """The grid of every row with usable coordinates, in one vectorised lookup."""
        points = []
        for number, _raw in table.rows:
            lat, lng = (_number(self.texts[number].get(k, "")) for k in ("lat", "lng"))
            if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
                points.append((number, lat, lng))
        if not points:
            return {}
        index = geo.grid_index()
        found = index.locate_many(
            np.array([p[2] for p in points]), np.array([p[1] for p in points])
        )
        ids = {int(index.ids[i]) for i in found if i >= 0}
        grids = Place.objects.select_related("parent").in_bulk(list(ids))
        return {
            number: (grids.get(int(index.ids[i])) if i >= 0 else None)
            for (number, _, _), i in zip(points, found, strict=True)
        }

    def fail(self, row: int, key: str, message: str) -> None:
        self.errors.append({"row": row, "column": excel.HEADERS[key], "message": message})

    def check(self, number: int, raw: dict[str, Any]) -> ImportRow | None:
        t = self.texts[number]
        before = len(self.errors)
        description = self._text(number, t, "description", TEXT_CAP)
        if not description and len(self.errors) == before:
            self.fail(number, "description", _("Please describe the problem."))
        elif len(description) > cases.MAX_DESCRIPTION:
            self.fail(
                number,
                "description",
                _("The description is longer than %(n)d characters.")
                % {"n": cases.MAX_DESCRIPTION},
            )
        item = ImportRow(row=number, description=description)
        item.category = self._category(number, t.get("category_code", ""))
        self._location(number, t, item)
        item.address = self._text(number, t, "address", 200)
        item.contact_name = self._text(number, t, "contact_name", 50)
        item.contact_phone = self._phone(number, t.get("contact_phone", ""))
        item.external_ref = self._ref(number, self._text(number, t, "external_ref", 100))
        item.received_at = self._received_at(
            number, raw.get("received_at"), t.get("received_at", "")
        )
        return item if len(self.errors) == before else None

    def _category(self, number: int, code: str) -> Category | None:
        if not code:
            return None
        category = self.categories.get(code)
        if category is None and code.isdigit():  # Excel turns 0801 into 801
            category = self.categories.get(code.zfill(2)) or self.categories.get(code.zfill(4))
        if category is None:
            self.fail(
                number, "category_code", _("Unknown category code “%(code)s”.") % {"code": code}
            )
        elif not category.active:
            self.fail(number, "category_code", _("This category is no longer in use."))
        return category

    def _location(self, number: int, t: dict[str, str], item: ImportRow) -> None:
        lat_text, lng_text, code = t.get("lat", ""), t.get("lng", ""), t.get("place_code", "")
        place = self._place(number, code) if code else None
        if lat_text or lng_text:
            if not (lat_text and lng_text):
                missing = "lng" if lat_text else "lat"
                self.fail(number, missing, _("Give both latitude and longitude."))
                return
            lat, lng = _number(lat_text), _number(lng_text)
            if lat is None or not -90 <= lat <= 90:
                self.fail(number, "lat", _("Latitude must be a number from -90 to 90."))
            if lng is None or not -180 <= lng <= 180:
                self.fail(number, "lng", _("Longitude must be a number from -180 to 180."))
            if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
                return
            grid = self.grids.get(number)
            if grid is None:
                self.fail(number, "lat", _("This location is outside the service area."))
                return
            if place is not None and not grid.code.startswith(place.code):
                self.fail(
                    number,
                    "place_code",
                    _("The point lies in “%(grid)s”, not in “%(place)s”.")
                    % {"grid": grid.name, "place": place.name},
                )
                return
            self._in_jurisdiction(number, "lat", grid)
            item.lat, item.lng = lat, lng
        elif not code:
            self.fail(number, "place_code", _("Give the coordinates or a community code."))
        elif place is not None:
            self._in_jurisdiction(number, "place_code", place)
            item.place = place

    def _place(self, number: int, code: str) -> Place | None:
        place = self.places.get(code)
        if place is None:
            message = (
                _("“%(code)s” is not a community or grid code.")
                if code in self.other_places
                else _("Unknown community code “%(code)s”.")
            )
            self.fail(number, "place_code", message % {"code": code})
        return place

    def _in_jurisdiction(self, number: int, key: str, place: Place) -> None:
        if self.codes is not None and not any(place.code.startswith(c) for c in self.codes):
            self.fail(
                number, key, _("“%(place)s” is outside your jurisdiction.") % {"place": place.name}
            )

    def _text(self, number: int, t: dict[str, str], key: str, limit: int) -> str:
        """The cell cleaned like any typed text (renzhi.core.text), or a row-and-column error."""
        try:
            return check_text(t.get(key, ""), max_length=limit, multiline=limit > 200)
        except ValidationError as exc:
            self.fail(number, key, " ".join(exc.messages))
            return ""

    def _phone(self, number: int, text: str) -> str:
        phone = PHONE_NOISE.sub("", text)
        if phone.startswith("+86"):
            phone = phone[3:]
        if phone and not (phone.isdigit() and phone.isascii() and 7 <= len(phone) <= 12):
            self.fail(number, "contact_phone", _("Please enter a valid phone number."))
        return phone

    def _ref(self, number: int, ref: str) -> str:
        if not ref:
            return ""
        if ref in self.imported_refs:
            self.fail(
                number,
                "external_ref",
                _("Already imported as %(no)s.") % {"no": self.imported_refs[ref]},
            )
        elif ref in self.refs_seen:
            self.fail(
                number,
                "external_ref",
                _("The same source number is in row %(row)d.") % {"row": self.refs_seen[ref]},
            )
        else:
            self.refs_seen[ref] = number
        return ref

    def _received_at(self, number: int, raw: Any, text: str) -> dt.datetime | None:
        if not text:
            return None
        when = _parse_when(raw, text)
        if when is None:
            self.fail(
                number,
                "received_at",
                _("Write the time as YYYY-MM-DD HH:MM, e.g. 2025-03-01 09:30."),
            )
        elif when > self.now + dt.timedelta(minutes=10):
            self.fail(number, "received_at", _("The time is in the future."))
        elif when < EARLIEST:
            self.fail(number, "received_at", _("The time is before the year 2000."))
        return when


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _parse_when(raw: Any, text: str) -> dt.datetime | None:
    """A local (Asia/Shanghai) time from an Excel date cell or text, as an aware datetime."""
    value: dt.datetime | None
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    else:
        value = None
        for fmt in DATE_FORMATS:
            try:
                value = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=LOCAL_TZ)
    return value


# --- Template and permission ----------------------------------------------------------------


def template_for(actor: User) -> bytes:
    """The template with the codes this importer may use."""
    _require_importer(actor)
    categories = [
        (c.code, str(c))
        for c in Category.objects.filter(active=True).select_related("parent").order_by("code")
    ]
    places: Iterable[Place] = Place.objects.filter(
        level__in=[PlaceLevel.COMMUNITY, PlaceLevel.GRID]
    ).order_by("code")
    codes = scope.jurisdiction_codes(actor, roles_allowed=IMPORT_ROLES)
    if codes is not None:
        places = [p for p in places if any(p.code.startswith(c) for c in codes)]
    return excel.build_template(categories, [(p.code, p.name) for p in places])


def _require_importer(actor: User | None) -> None:
    if actor is None or not actor.is_authenticated:
        raise PermissionRefused(_("Please log in first."))
    if not may_import(actor):
        raise PermissionRefused(_("Your role does not allow this action."))
