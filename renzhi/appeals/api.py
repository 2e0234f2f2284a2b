"""Appeals JSON API, mounted at /api/appeals (OpenAPI tag “appeals”).

Reading goes through `queries.appeals_for` (the data scope): an appeal outside it is answered
404, never 403, so its existence does not leak. Every change goes through an action; an
`ActionError` becomes {"detail": [{field, code, message}]} with 400, 403, 404 or 409.

Design choices:
- Intake `POST /` takes JSON. A retry with the same `Idempotency-Key` header (or body field
  `idempotency_key`) returns the first appeal with 200 instead of 201 and creates nothing.
- Each transition is `POST /{tracking_no}/{action}` with a small JSON body. Photos travel with
  the step they document, as multipart twins of three endpoints: `POST /with-photos` (intake),
  `POST /{no}/progress/with-photos` and `POST /{no}/resolve/with-photos` — the same fields as
  form fields plus up to 9 `photos` (JPEG/PNG/WebP/GIF, ≤ 10 MB each).
- Bulk intake: `GET /import/template`, `POST /import` (multipart `file`: .xlsx or .csv in UTF-8
  or GBK), `GET /import/{job_id}` for progress. The POST answers 201 when the job already ran
  (immediate task backend), 400 with every row problem when it was refused, else 202.
- Static paths are declared before `/{tracking_no}`: Django tries URL patterns in order.

(No `from __future__ import annotations` here: ninja reads the parameter annotations of the
paginated views at import time.)
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate

from renzhi.appeals import actions, excel, phone_reads, queries, states
from renzhi.appeals.actions import config as config_actions
from renzhi.appeals.actions import imports as import_actions
from renzhi.appeals.models import (
    Appeal,
    AppealEvent,
    Attachment,
    Category,
    Channel,
    ExtensionRequest,
    ImportJob,
    Priority,
    RoutingRule,
    Satisfaction,
    SlaRule,
    State,
)
from renzhi.appeals.schemas import (
    AppealDetailOut,
    AppealIn,
    AppealOut,
    CategoryIn,
    CategoryNodeOut,
    CategoryOut,
    CategoryPatch,
    DecideIn,
    DispatchIn,
    ExtensionIn,
    ImportJobOut,
    ImportRefusedOut,
    MergeIn,
    NoteIn,
    RateIn,
    ReasonIn,
    ResolveIn,
    RoutingRuleIn,
    RoutingRuleOut,
    SlaRuleIn,
    SlaRuleOut,
    SubmitOut,
    TransferIn,
)
from renzhi.core import read_audit, scope, uploads
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Place, Role, Unit, User
from renzhi.core.pagination import Page
from renzhi.core.privacy import mask_phone
from renzhi.core.text import NOTE, QueryText
from renzhi.core.workdays import LOCAL_TZ

router = Router(tags=["appeals"])

API_CHANNELS = {Channel.WEB, Channel.HOTLINE, Channel.PATROL, Channel.API}
EXPORT_MAX_ROWS = 1_048_575 - 1  # Excel's sheet limit, less the header row
# Action field names → the API's input names, so an error names what the caller sent.
API_FIELDS = {
    "category": "category_code",
    "place": "place_code",
    "unit": "unit_code",
    "request": "extension_id",
}


# === Read-only lookups (static paths first) =================================================


@router.get("/categories", response=list[CategoryNodeOut], summary="The category tree")
def categories(request: AuthedRequest, q: QueryText | None = None):
    """Active categories as a two-level tree; residents see those open to them. `q` keeps the
    subcategories whose name, code or keywords contain it (with their parents)."""
    qs = (
        queries.public_categories()
        if not queries.is_staff_viewer(request.auth)
        else Category.objects.filter(active=True)
    )
    nodes = list(qs.order_by("sort", "code"))
    term = (q or "").strip().lower()
    tops = [c for c in nodes if c.parent_id is None]
    children: dict[int, list[Category]] = {}
    for c in nodes:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)

    def hit(c: Category) -> bool:
        return not term or term in c.name.lower() or term in c.code or term in c.keywords.lower()

    tree = []
    for top in tops:
        kids = [_category_node(k, []) for k in children.get(top.pk, []) if hit(k) or hit(top)]
        if kids or hit(top):
            tree.append(_category_node(top, kids))
    return tree


@router.get("/duplicates", response=list[AppealOut], summary="Similar open appeals nearby")
def duplicates(
    request: AuthedRequest, tracking_no: QueryText, radius_m: float = 200, days: int = 7
):
    """Open appeals of the same category within `radius_m` metres and `days` days (staff)."""
    if not queries.is_staff_viewer(request.auth):
        raise PermissionRefused(_("Your role does not allow this action."))
    if not 10 <= radius_m <= 5000:
        raise ActionError(_("The distance must be between 10 and 5000 metres."), field="radius_m")
    if not 1 <= days <= 90:
        raise ActionError(_("The period must be between 1 and 90 days."), field="days")
    appeal = _get(request, tracking_no)
    similar = actions.find_duplicates(appeal, radius_m=radius_m, days=days)
    visible = set(
        _visible(request).filter(pk__in=[a.pk for a in similar]).values_list("pk", flat=True)
    )
    rows = _with_related(Appeal.objects.filter(pk__in=visible)).order_by("received_at")
    return [_summary(request.auth, a) for a in rows]


@router.get(
    "/export.xlsx",
    summary="Export the filtered list to Excel",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "An .xlsx workbook",
                "content": {
                    excel.XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def export(request: AuthedRequest, filters: Query[queries.AppealFilter]):
    """The same filters as the list. Phone numbers are masked unless the viewer's role needs
    them; times are Beijing time."""
    qs = queries.filter_appeals(request.auth, filters)
    if qs.count() > EXPORT_MAX_ROWS:
        raise ActionError(
            _("More than %(n)d rows; narrow the filters.") % {"n": EXPORT_MAX_ROWS}, field="filters"
        )
    user = request.auth
    rows = qs.values(*EXPORT_FIELDS).iterator(chunk_size=2000)
    unmasked: list[int] = []
    stream = excel.write_xlsx(_export_columns(user, unmasked), rows, title=_("Appeals"))
    phone_reads.record_many(user, unmasked, read_audit.reason_of(request))
    stamp = timezone.now().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"appeals-{stamp}.xlsx",
        content_type=excel.XLSX_CONTENT_TYPE,
    )


# === Bulk import ============================================================================


@router.get("/import/template", summary="The Excel template for bulk import", response={200: None})
def import_template(request: AuthedRequest):
    content = import_actions.template_for(request.auth)
    response = HttpResponse(content, content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="appeals-import-template.xlsx"'
    return response


@router.post(
    "/import",
    response={201: ImportJobOut, 202: ImportJobOut, 400: ImportRefusedOut},
    summary="Import appeals from .xlsx or .csv (all rows or none)",
)
def import_file(request: AuthedRequest, file: File[UploadedFile | None] = None):
    """Every row is checked before anything is written. 201: imported; 202: queued, poll
    `GET /import/{id}`; 400: refused, `detail` lists every problem with `row` and `column`."""
    if file is None:
        raise ActionError(_("Please choose a file."), field="file", code=ErrorCode.REQUIRED)
    if file.size is not None and file.size > excel.MAX_IMPORT_BYTES:
        raise ActionError(
            _("The file is larger than %(n)d MB.") % {"n": excel.MAX_IMPORT_BYTES // 2**20},
            field="file",
        )
    job = import_actions.start_import(request.auth, filename=file.name or "", content=file.read())
    job.refresh_from_db()
    if job.status == ImportJob.Status.FAILED:
        return 400, _import_refused(job)
    return (201 if job.status == ImportJob.Status.DONE else 202), _job(job)


@router.get("/import", response=list[ImportJobOut], summary="My import jobs")
@paginate(Page)
def import_jobs(request: AuthedRequest):
    return _Rows(_jobs_for(request.auth).defer("content"), _job)


@router.get("/import/{int:job_id}", response=ImportJobOut, summary="Progress of an import")
def import_job(request: AuthedRequest, job_id: int):
    job = _jobs_for(request.auth).defer("content").filter(pk=job_id).first()
    if job is None:
        raise ActionError(_("No such import."), field="job_id", code=ErrorCode.NOT_FOUND)
    return _job(job)


# === Configuration (administrators) =========================================================


@router.get("/config/categories", response=list[CategoryOut], summary="All categories (admin)")
def config_categories(request: AuthedRequest):
    _require_config_reader(request)
    return [
        _category(c) for c in Category.objects.select_related("parent").order_by("sort", "code")
    ]


@router.post("/config/categories", response={201: CategoryOut}, summary="Create a category")
def create_category(request: AuthedRequest, payload: CategoryIn):
    parent = None
    if payload.parent_code:
        parent = Category.objects.filter(code=payload.parent_code).first()
        if parent is None:
            raise ActionError(
                _("Unknown category code “%(code)s”.") % {"code": payload.parent_code},
                field="parent_code",
            )
    category = config_actions.create_category(
        request.auth,
        code=payload.code,
        name=payload.name,
        parent=parent,
        default_unit_kind=payload.default_unit_kind,
        keywords=payload.keywords,
        description=payload.description,
        public=payload.public,
        open311_public=payload.open311_public,
        sort=payload.sort,
    )
    return 201, _category(category)


@router.patch("/config/categories/{code}", response=CategoryOut, summary="Change a category")
def update_category(request: AuthedRequest, code: str, payload: CategoryPatch):
    category = _config_category(code)
    category = config_actions.update_category(
        request.auth, category, **payload.dict(exclude_unset=True)
    )
    return _category(category)


@router.post(
    "/config/categories/{code}/deactivate",
    response=CategoryOut,
    summary="Retire a category and its subcategories",
)
def deactivate_category(request: AuthedRequest, code: str):
    return _category(config_actions.deactivate_category(request.auth, _config_category(code)))


@router.get(
    "/config/routing-rules",
    response=list[RoutingRuleOut],
    summary="The routing table (category × place → unit)",
)
@paginate(Page)
def routing_rules(
    request: AuthedRequest,
    place: QueryText | None = None,
    category: QueryText | None = None,
    unit: QueryText | None = None,
):
    """Rules inside the administrator's jurisdiction and those above it that apply there."""
    _require_config_reader(request)
    qs = _rules_for(request.auth)
    if place:
        qs = qs.filter(place__code__startswith=place)
    if category:
        qs = qs.filter(category__code=category)
    if unit:
        qs = qs.filter(unit__code=unit)
    return _Rows(qs.order_by("place__code", "category__code", "unit__code"), _rule)


@router.post("/config/routing-rules", response={201: RoutingRuleOut}, summary="Add a routing rule")
def create_routing_rule(request: AuthedRequest, payload: RoutingRuleIn):
    errors = []
    place = Place.objects.filter(code=payload.place_code).first() if payload.place_code else None
    if place is None:
        errors.append(
            FieldError(
                "place_code",
                ErrorCode.INVALID if payload.place_code else ErrorCode.REQUIRED,
                _("Unknown place code."),
            )
        )
    unit = Unit.objects.filter(code=payload.unit_code).first() if payload.unit_code else None
    if unit is None:
        errors.append(
            FieldError(
                "unit_code",
                ErrorCode.INVALID if payload.unit_code else ErrorCode.REQUIRED,
                _("Unknown unit code."),
            )
        )
    category = None
    if payload.category_code:
        category = Category.objects.filter(code=payload.category_code).first()
        if category is None:
            errors.append(
                FieldError(
                    "category_code",
                    ErrorCode.INVALID,
                    _("Unknown category code “%(code)s”.") % {"code": payload.category_code},
                )
            )
    if errors or place is None or unit is None:  # place/unit missing means errors is non-empty
        raise ActionError(errors=errors)
    rule = config_actions.create_routing_rule(
        request.auth, place=place, unit=unit, category=category
    )
    return 201, _rule(rule)


@router.delete(
    "/config/routing-rules/{int:rule_id}", response={204: None}, summary="Remove a routing rule"
)
def delete_routing_rule(request: AuthedRequest, rule_id: int):
    _require_config_reader(request)
    rule = _rules_for(request.auth).filter(pk=rule_id).first()
    if rule is None:
        raise ActionError(_("No such rule."), field="rule_id", code=ErrorCode.NOT_FOUND)
    config_actions.delete_routing_rule(request.auth, rule)
    return 204, None


@router.get("/config/sla-rules", response=list[SlaRuleOut], summary="SLA rules")
def sla_rules(request: AuthedRequest):
    _require_config_reader(request)
    return [
        _sla(r)
        for r in SlaRule.objects.select_related("category").order_by("category__code", "priority")
    ]


@router.post(
    "/config/sla-rules",
    response={200: SlaRuleOut, 201: SlaRuleOut},
    summary="Set the SLA of a category and priority (created or replaced)",
)
def upsert_sla_rule(request: AuthedRequest, payload: SlaRuleIn):
    category = None
    if payload.category_code:
        category = Category.objects.filter(code=payload.category_code).first()
        if category is None:
            raise ActionError(
                _("Unknown category code “%(code)s”.") % {"code": payload.category_code},
                field="category_code",
            )
    rule, created = config_actions.upsert_sla_rule(
        request.auth,
        category=category,
        priority=payload.priority,
        sign_hours=payload.sign_hours,
        resolve_days=payload.resolve_days,
        warn_ratio=payload.warn_ratio,
    )
    return (201 if created else 200), _sla(rule)


@router.delete(
    "/config/sla-rules/{int:rule_id}", response={204: None}, summary="Remove an SLA rule"
)
def delete_sla_rule(request: AuthedRequest, rule_id: int):
    _require_config_reader(request)
    rule = SlaRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise ActionError(_("No such rule."), field="rule_id", code=ErrorCode.NOT_FOUND)
    config_actions.delete_sla_rule(request.auth, rule)
    return 204, None


# === Intake and the list ====================================================================


@router.post("/", response={200: SubmitOut, 201: SubmitOut}, summary="Submit an appeal")
def submit(request: AuthedRequest, payload: AppealIn):
    """Any channel but import/open311. Send `Idempotency-Key` so that a retried request returns
    the first appeal (200) instead of creating a second (201)."""
    return _submit(request, payload, photos=())


@router.post(
    "/with-photos",
    response={200: SubmitOut, 201: SubmitOut},
    summary="Submit an appeal with photos (multipart)",
)
def submit_with_photos(
    request: AuthedRequest, payload: Form[AppealIn], photos: File[list[UploadedFile] | None] = None
):
    return _submit(request, payload, photos=photos or ())


@router.get("/", response=list[AppealOut], summary="Appeals I may see, filtered")
@paginate(Page)
def list_appeals(request: AuthedRequest, filters: Query[queries.AppealFilter]):
    """Full-text-ish search `q` uses icontains over description, title, address and tracking
    number; on PostgreSQL a pg_trgm GIN index on those columns would make it fast at scale."""
    qs = _with_related(queries.filter_appeals(request.auth, filters))
    reason = read_audit.reason_of(request)
    return _Rows(
        qs,
        lambda a: _summary(request.auth, a),
        on_page=lambda page: phone_reads.record_many(request.auth, page, reason),
    )


# === One appeal =============================================================================


@router.get("/{tracking_no}", response=AppealDetailOut, summary="One appeal with its timeline")
def detail(request: AuthedRequest, tracking_no: str):
    appeal = _get(request, tracking_no)
    phone_reads.record(request.auth, appeal, read_audit.reason_of(request))
    return _detail(request.auth, appeal)


@router.get(
    "/{tracking_no}/photos/{number}",
    summary="One photo of an appeal (the n-th, as in `attachments[].url`)",
    response={200: None},
    url_name="appeal_photo",
)
def photo(request: AuthedRequest, tracking_no: str, number: int, thumbnail: bool = False):
    """The stored photo or its thumbnail, to those who may see the step it documents."""
    att = queries.photo_for(request.auth, _get(request, tracking_no), number)
    if att is None or (thumbnail and not att.thumbnail):
        raise ActionError(_("No such photo."), field="number", code=ErrorCode.NOT_FOUND)
    suffix = "-thumb" if thumbnail else ""
    field = att.thumbnail if thumbnail else att.file
    return uploads.serve(request, field, download_name=f"{tracking_no}-{number}{suffix}")


@router.post("/{tracking_no}/accept", response=AppealDetailOut, summary="受理 Accept")
def accept(request: AuthedRequest, tracking_no: str, payload: NoteIn):
    return _act(request, tracking_no, actions.accept, note=payload.note)


@router.post("/{tracking_no}/reject", response=AppealDetailOut, summary="不予受理 Reject")
def reject(request: AuthedRequest, tracking_no: str, payload: ReasonIn):
    return _act(request, tracking_no, actions.reject, reason=payload.reason)


@router.post("/{tracking_no}/dispatch", response=AppealDetailOut, summary="派单 Dispatch to a unit")
def dispatch(request: AuthedRequest, tracking_no: str, payload: DispatchIn):
    appeal = _get(request, tracking_no)
    return _act(request, appeal, actions.dispatch, unit=_unit(payload.unit_code), note=payload.note)


@router.post("/{tracking_no}/transfer", response=AppealDetailOut, summary="转派 Transfer")
def transfer(request: AuthedRequest, tracking_no: str, payload: TransferIn):
    appeal = _get(request, tracking_no)
    return _act(
        request, appeal, actions.transfer, unit=_unit(payload.unit_code), reason=payload.reason
    )


@router.post("/{tracking_no}/sign", response=AppealDetailOut, summary="签收 Sign for")
def sign(request: AuthedRequest, tracking_no: str, payload: NoteIn):
    return _act(request, tracking_no, actions.sign, note=payload.note)


@router.post("/{tracking_no}/progress", response=AppealDetailOut, summary="办理 Report progress")
def progress(request: AuthedRequest, tracking_no: str, payload: NoteIn):
    return _act(request, tracking_no, actions.progress, note=payload.note)


@router.post(
    "/{tracking_no}/progress/with-photos",
    response=AppealDetailOut,
    summary="Report progress with photos (multipart)",
)
def progress_with_photos(
    request: AuthedRequest,
    tracking_no: str,
    note: Form[Annotated[str, NOTE]] = "",
    photos: File[list[UploadedFile] | None] = None,
):
    return _act(request, tracking_no, actions.progress, note=note, photos=photos or ())


@router.post("/{tracking_no}/resolve", response=AppealDetailOut, summary="办结 Resolve")
def resolve(request: AuthedRequest, tracking_no: str, payload: ResolveIn):
    return _act(request, tracking_no, actions.resolve, result=payload.result)


@router.post(
    "/{tracking_no}/resolve/with-photos",
    response=AppealDetailOut,
    summary="Resolve with photos (multipart)",
)
def resolve_with_photos(
    request: AuthedRequest,
    tracking_no: str,
    result: Form[Annotated[str, NOTE]] = "",
    photos: File[list[UploadedFile] | None] = None,
):
    return _act(request, tracking_no, actions.resolve, result=result, photos=photos or ())


@router.post("/{tracking_no}/rate", response=AppealDetailOut, summary="回访评价 Rate the result")
def rate(request: AuthedRequest, tracking_no: str, payload: RateIn):
    return _act(request, tracking_no, actions.rate, rating=payload.rating, comment=payload.comment)


@router.post("/{tracking_no}/return", response=AppealDetailOut, summary="退单 Return to dispatcher")
def return_to_dispatcher(request: AuthedRequest, tracking_no: str, payload: ReasonIn):
    return _act(request, tracking_no, actions.return_to_dispatcher, reason=payload.reason)


@router.post(
    "/{tracking_no}/request-extension",
    response=AppealDetailOut,
    summary="延期申请 Request more time",
)
def request_extension(request: AuthedRequest, tracking_no: str, payload: ExtensionIn):
    return _act(
        request, tracking_no, actions.request_extension, days=payload.days, reason=payload.reason
    )


@router.post(
    "/{tracking_no}/extensions/{int:extension_id}/decide",
    response=AppealDetailOut,
    summary="Approve or refuse an extension request",
)
def decide_extension(
    request: AuthedRequest, tracking_no: str, extension_id: int, payload: DecideIn
):
    appeal = _get(request, tracking_no)
    extension = appeal.extensions.filter(pk=extension_id).first()
    if extension is None:
        raise ActionError(
            _("No such extension request."), field="extension_id", code=ErrorCode.NOT_FOUND
        )
    if payload.approve is None:
        raise ActionError(
            _("Say whether the extension is approved."), field="approve", code=ErrorCode.REQUIRED
        )
    with _api_fields():
        actions.decide_extension(
            request.auth, extension, approve=payload.approve, note=payload.note
        )
    return _detail(request.auth, _get(request, tracking_no))


@router.post("/{tracking_no}/supervise", response=AppealDetailOut, summary="督办 Supervise")
def supervise(request: AuthedRequest, tracking_no: str, payload: NoteIn):
    return _act(request, tracking_no, actions.supervise, note=payload.note)


@router.post("/{tracking_no}/suspend", response=AppealDetailOut, summary="挂起 Suspend")
def suspend(request: AuthedRequest, tracking_no: str, payload: ReasonIn):
    return _act(request, tracking_no, actions.suspend, reason=payload.reason)


@router.post("/{tracking_no}/resume", response=AppealDetailOut, summary="Resume a suspended case")
def resume(request: AuthedRequest, tracking_no: str, payload: NoteIn):
    return _act(request, tracking_no, actions.resume, note=payload.note)


@router.post("/{tracking_no}/escalate", response=AppealDetailOut, summary="升级 Escalate")
def escalate(request: AuthedRequest, tracking_no: str, payload: ReasonIn):
    return _act(request, tracking_no, actions.escalate, reason=payload.reason)


@router.post(
    "/{tracking_no}/merge",
    response=AppealDetailOut,
    summary="合并 Merge a duplicate into another appeal",
)
def merge(request: AuthedRequest, tracking_no: str, payload: MergeIn):
    appeal = _get(request, tracking_no)
    into = (
        _visible(request).filter(tracking_no=payload.into.strip()).first() if payload.into else None
    )
    if into is None:
        raise ActionError(
            _("Give the tracking number of an appeal you can see.")
            if payload.into
            else _("Give the tracking number to merge into."),
            field="into",
            code=ErrorCode.INVALID if payload.into else ErrorCode.REQUIRED,
        )
    return _act(request, appeal, actions.merge, into=into, note=payload.note)


@router.post(
    "/{tracking_no}/withdraw", response=AppealDetailOut, summary="撤回 Withdraw (resident)"
)
def withdraw(request: AuthedRequest, tracking_no: str, payload: ReasonIn):
    return _act(request, tracking_no, actions.withdraw, reason=payload.reason)


@router.post("/{tracking_no}/close", response=AppealDetailOut, summary="Close without a rating")
def close(request: AuthedRequest, tracking_no: str, payload: NoteIn):
    return _act(request, tracking_no, actions.close, note=payload.note)


@router.post("/{tracking_no}/comment", response=AppealDetailOut, summary="Internal note")
def comment(request: AuthedRequest, tracking_no: str, payload: NoteIn):
    return _act(request, tracking_no, actions.comment, note=payload.note)


# === Helpers: scope, filters, acting ========================================================


def _visible(request: AuthedRequest) -> QuerySet[Appeal]:
    return queries.appeals_for(request.auth)


def _get(request: AuthedRequest, tracking_no: str) -> Appeal:
    appeal = _with_related(_visible(request)).filter(tracking_no=tracking_no).first()
    if appeal is None:
        raise ActionError(
            _("No such appeal, or it is outside your jurisdiction."),
            field="tracking_no",
            code=ErrorCode.NOT_FOUND,
        )
    return appeal


def _with_related(qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
    return qs.select_related("category", "category_top", "street", "community", "grid", "unit")


def _act(request: AuthedRequest, appeal: Appeal | str, verb: Callable, **kwargs) -> dict:
    """Run one action on a visible appeal and answer with the appeal as it is now."""
    if isinstance(appeal, str):
        appeal = _get(request, appeal)
    with _api_fields():
        verb(request.auth, appeal, **kwargs)
    refreshed = _with_related(Appeal.objects.filter(pk=appeal.pk)).get()
    return _detail(request.auth, refreshed)


@contextmanager
def _api_fields() -> Iterator[None]:
    """Rename action field names to the API's (unit → unit_code …)."""
    try:
        yield
    except ActionError as exc:
        if not any(e.field in API_FIELDS for e in exc.errors):
            raise
        renamed = [
            FieldError(API_FIELDS.get(e.field or "", e.field), e.code, e.message)
            for e in exc.errors
        ]
        raise ActionError(errors=renamed) from exc


def _unit(code: str) -> Unit:
    code = (code or "").strip()
    if not code:
        raise ActionError(
            _("Please choose a handling unit."), field="unit_code", code=ErrorCode.REQUIRED
        )
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise ActionError(_("Unknown unit code."), field="unit_code")
    return unit


class _Rows:
    """A queryset seen through a row function, so `paginate` can count and slice it."""

    def __init__(self, qs: QuerySet, row: Callable, on_page: Callable | None = None):
        self.qs, self.row, self.on_page = qs, row, on_page  # on_page: e.g. a read audit

    def all(self) -> "_Rows":
        return self

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        items = self.qs[index]
        if not isinstance(index, slice):
            return self.row(items)
        items = list(items)
        if self.on_page is not None:
            self.on_page(items)
        return [self.row(o) for o in items]


# === Intake =================================================================================


def _submit(request: AuthedRequest, payload: AppealIn, photos) -> tuple[int, dict]:
    user = request.auth
    key = (request.headers.get("Idempotency-Key") or payload.idempotency_key or "").strip() or None
    errors: list[FieldError] = []
    if key is not None and len(key) > 100:
        errors.append(
            FieldError(
                "idempotency_key", ErrorCode.INVALID, _("At most %(n)d characters.") % {"n": 100}
            )
        )
    channel = payload.channel or _default_channel(user)
    if channel not in API_CHANNELS:
        errors.append(
            FieldError("channel", ErrorCode.INVALID, _("This channel cannot be used here."))
        )
    category = None
    if payload.category_code:
        choosable = (
            Category.objects.all() if queries.is_staff_viewer(user) else queries.public_categories()
        )
        category = choosable.filter(code=payload.category_code.strip()).first()
        if category is None:
            errors.append(
                FieldError(
                    "category_code",
                    ErrorCode.INVALID,
                    _("Unknown category code “%(code)s”.") % {"code": payload.category_code},
                )
            )
    place = None
    if payload.place_code:
        place = Place.objects.filter(code=payload.place_code.strip()).first()
        if place is None:
            errors.append(
                FieldError(
                    "place_code",
                    ErrorCode.INVALID,
                    _("Unknown community code “%(code)s”.") % {"code": payload.place_code},
                )
            )
    if errors:
        raise ActionError(errors=errors)
    with _api_fields():
        result = actions.submit_appeal(
            user,
            channel=channel,
            description=payload.description,
            category=category,
            lat=payload.lat,
            lng=payload.lng,
            address=payload.address,
            place=place,
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            anonymous=payload.anonymous,
            public=payload.public,
            priority=payload.priority or Priority.NORMAL,
            photos=photos,
            idempotency_key=key,
            external_ref=payload.external_ref,
            title=payload.title,
        )
    appeal = _with_related(Appeal.objects.filter(pk=result.appeal.pk)).get()
    similar: list[str] = []
    if queries.is_staff_viewer(user):
        found = result.duplicates if result.created else actions.find_duplicates(appeal)
        similar = list(
            _visible(request)
            .filter(pk__in=[a.pk for a in found])
            .order_by("received_at")
            .values_list("tracking_no", flat=True)
        )
    body = _detail(user, appeal) | {"created": result.created, "duplicates": similar}
    return (201 if result.created else 200), body


def _default_channel(user: User) -> str:
    """With no channel given, a person files as a resident (web channel); only an account that
    is no resident but holds an intake role (a partner system, a dispatcher) files through api.

    A resident who is also a volunteer or staff used to be sent down the staff path and refused
    at their own home (issue 23 #11); a staff channel is now something one chooses.
    """
    roles = scope.roles(user)
    if Role.RESIDENT in roles or user.home_place_id is not None:
        return Channel.WEB
    staff = actions.staff_channel_roles(Channel.API)
    return Channel.API if roles & staff or scope.is_global_admin(user) else Channel.WEB


# === Shapes =================================================================================

EVENT_LABELS = {
    "submit": gettext_lazy("Submitted"),
    "absorb": gettext_lazy("Took in a duplicate"),
    "overdue": gettext_lazy("Overdue"),
    "approve_extension": gettext_lazy("Extension approved"),
    "reject_extension": gettext_lazy("Extension refused"),
}


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Beijing time with its offset (+08:00): the same instant, as people read it."""
    return moment.astimezone(LOCAL_TZ) if moment is not None else None


def _summary(user: User, a: Appeal) -> dict:
    show_phone = queries.may_see_phone(user, a)
    category, category_top, unit = a.category, a.category_top, a.unit
    street, community, grid = a.street, a.community, a.grid
    return {
        "tracking_no": a.tracking_no,
        "title": a.title,
        "state": a.state,
        "state_label": str(State(a.state).label),
        "channel": a.channel,
        "priority": a.priority,
        "category_code": category.code if category is not None else None,
        "category_name": category.name if category is not None else None,
        "category_top_code": category_top.code if category_top is not None else None,
        "place_code": a.place_code,
        "street_name": street.name if street is not None else None,
        "community_name": community.name if community is not None else None,
        "grid_name": grid.name if grid is not None else None,
        "address": a.address,
        "unit_code": unit.code if unit is not None else None,
        "unit_name": unit.name if unit is not None else None,
        "contact_name": a.contact_name,
        "contact_phone": a.contact_phone if show_phone else mask_phone(a.contact_phone),
        "received_at": _local(a.received_at),
        "sign_deadline": _local(a.sign_deadline),
        "resolve_deadline": _local(a.resolve_deadline),
        "resolved_at": _local(a.resolved_at),
        "overdue": a.overdue,
        "supervised": a.supervised,
        "reopen_count": a.reopen_count,
        "rating": a.rating,
        "satisfaction": a.satisfaction,
    }


def _detail(user: User, a: Appeal) -> dict:
    staff = queries.is_staff_viewer(user)
    events = list(queries.timeline_for(user, a))
    shown_events = {e.pk for e in events}
    every = list(a.attachments.order_by("id"))
    numbers = {att.pk: n for n, att in enumerate(every, start=1)}  # as in the photo URLs
    attachments = [
        att for att in every if staff or att.event_id is None or att.event_id in shown_events
    ]
    extensions = (
        list(a.extensions.select_related("requested_by", "decided_by").order_by("id"))
        if staff
        else []
    )
    return _summary(user, a) | {
        "description": a.description,
        "lat": a.lat,
        "lng": a.lng,
        "anonymous": a.anonymous,
        "public": a.public,
        "escalation_level": a.escalation_level,
        "result": a.result,
        "feedback": a.feedback,
        "merged_into": a.merged_into.tracking_no if a.merged_into is not None else None,
        "merged": list(a.merged.values_list("tracking_no", flat=True)) if staff else [],
        "accepted_at": _local(a.accepted_at),
        "dispatched_at": _local(a.dispatched_at),
        "signed_at": _local(a.signed_at),
        "closed_at": _local(a.closed_at),
        "timeline": [_event(e, staff, user, a, numbers) for e in events],
        "attachments": [_attachment(a, att, numbers) for att in attachments],
        "actions": queries.allowed_actions(user, a, extensions=extensions),
        "extensions": [_extension(x) for x in extensions],
    }


def _event(e: AppealEvent, staff: bool, viewer: User, a: Appeal, numbers: dict) -> dict:
    transition = states.TRANSITIONS.get(e.verb)
    label = EVENT_LABELS.get(e.verb) or (transition.label if transition else e.verb)
    event_actor, unit = e.actor, e.unit
    if e.automatic or event_actor is None:
        actor = _("System")
    elif staff or e.actor_id == viewer.pk:
        actor = event_actor.display_name or event_actor.username
    elif e.actor_role == Role.UNIT_HANDLER and unit is not None:
        actor = unit.name  # residents see the unit, not the person
    else:
        actor = str(Role(e.actor_role).label) if e.actor_role in Role.values else ""
    return {
        "at": _local(e.at),
        "verb": e.verb,
        "label": str(label),
        "actor": actor,
        "actor_role": e.actor_role,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "note": e.note,
        "automatic": e.automatic,
        "public": e.public,
        "unit_name": unit.name if unit is not None else None,
        "data": e.data if staff else {},
        "attachments": [
            _attachment(a, att, numbers) for att in sorted(e.attachments.all(), key=_pk)
        ],
    }


def _pk(obj) -> int:
    return obj.pk


def _attachment(a: Appeal, att: Attachment, numbers: dict) -> dict:
    """Links to the scoped photo view (never to MEDIA_ROOT, which nobody serves)."""
    url = reverse("api:appeal_photo", args=[a.tracking_no, numbers[att.pk]])
    return {
        "id": att.pk,
        "url": url,
        "thumbnail_url": f"{url}?thumbnail=true" if att.thumbnail else None,
        "content_type": att.content_type,
        "size": att.size,
        "created_at": _local(att.created_at),
    }


def _extension(x: ExtensionRequest) -> dict:
    return {
        "id": x.pk,
        "days": x.days,
        "reason": x.reason,
        "status": x.status,
        "requested_by": x.requested_by.display_name or x.requested_by.username,
        "decided_by": (decided_by.display_name or decided_by.username)
        if (decided_by := x.decided_by) is not None
        else None,
        "created_at": _local(x.created_at),
        "decided_at": _local(x.decided_at),
    }


def _category_node(c: Category, children: list[dict]) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "public": c.public,
        "active": c.active,
        "children": children,
    }


def _category(c: Category) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "parent_code": c.parent.code if c.parent is not None else None,
        "default_unit_kind": c.default_unit_kind,
        "keywords": c.keywords,
        "description": c.description,
        "public": c.public,
        "open311_public": c.open311_public,
        "active": c.active,
        "sort": c.sort,
    }


def _rule(r: RoutingRule) -> dict:
    return {
        "id": r.pk,
        "category_code": category.code if (category := r.category) is not None else None,
        "category_name": category.name if category is not None else None,
        "place_code": r.place.code,
        "place_name": r.place.name,
        "unit_code": r.unit.code,
        "unit_name": r.unit.name,
        "created_at": _local(r.created_at),
    }


def _sla(r: SlaRule) -> dict:
    return {
        "id": r.pk,
        "category_code": category.code if (category := r.category) is not None else None,
        "category_name": category.name if category is not None else None,
        "priority": r.priority,
        "sign_hours": r.sign_hours,
        "resolve_days": r.resolve_days,
        "warn_ratio": r.warn_ratio,
    }


def _job(job: ImportJob) -> dict:
    return {
        "id": job.pk,
        "filename": job.filename,
        "file_format": job.file_format,
        "status": job.status,
        "status_label": str(ImportJob.Status(job.status).label),
        "finished": job.finished,
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "errors": job.errors,
        "message": job.message,
        "created_at": _local(job.created_at),
        "started_at": _local(job.started_at),
        "finished_at": _local(job.finished_at),
    }


def _import_refused(job: ImportJob) -> dict:
    """The API's error shape, each problem also carrying its row and column."""
    detail = [
        {
            "field": e.get("column") or "file",
            "code": "invalid",
            "row": e.get("row"),
            "column": e.get("column") or "",
            "message": e["message"],
        }
        for e in job.errors
    ]
    return {"detail": detail, "job": _job(job)}


def _jobs_for(user: User) -> QuerySet[ImportJob]:
    if scope.is_global_admin(user):
        return ImportJob.objects.all()
    return ImportJob.objects.filter(created_by=user)


def _rules_for(user: User) -> QuerySet[RoutingRule]:
    qs = RoutingRule.objects.select_related("category", "place", "unit")
    codes = scope.jurisdiction_codes(user, roles_allowed=[Role.ADMIN])
    if codes is None:
        return qs
    condition = Q(pk__in=[])
    for code in codes:
        ancestors = [code[:n] for n in (6, 9, 12) if n < len(code)]
        condition |= Q(place__code__startswith=code) | Q(place__code__in=ancestors)
    return qs.filter(condition)


def _config_category(code: str) -> Category:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise ActionError(
            _("Unknown category code “%(code)s”.") % {"code": code},
            field="code",
            code=ErrorCode.NOT_FOUND,
        )
    return category


def _require_config_reader(request: AuthedRequest) -> None:
    if not config_actions.may_configure(request.auth):
        raise PermissionRefused(_("Your role does not allow this action."))


# === Export columns =========================================================================

EXPORT_FIELDS = [
    "id",
    "tracking_no",
    "state",
    "channel",
    "priority",
    "category__name",
    "category_top__name",
    "title",
    "description",
    "address",
    "street__name",
    "community__name",
    "grid__name",
    "unit__name",
    "contact_name",
    "contact_phone",
    "resident_id",
    "received_at",
    "first_dispatched_at",
    "sign_deadline",
    "signed_at",
    "resolve_deadline",
    "resolved_at",
    "closed_at",
    "overdue",
    "supervised",
    "reopen_count",
    "satisfaction",
    "rating",
    "feedback",
    "result",
]


def _export_columns(user: User, unmasked: list[int] | None = None) -> list[excel.ExportColumn]:
    """The export's columns; the ids of rows whose phone is written in full (not the viewer's
    own) are appended to `unmasked`, for the read audit."""
    state_labels = {k: str(v) for k, v in State.choices}
    channel_labels = {k: str(v) for k, v in Channel.choices}
    priority_labels = {k: str(v) for k, v in Priority.choices}
    satisfaction_labels = {k: str(v) for k, v in Satisfaction.choices}
    phone_ok: dict[int | None, bool] = {}

    def phone(row: dict) -> str:
        rid = row["resident_id"]
        if rid not in phone_ok:
            phone_ok[rid] = queries.may_see_phone(user, Appeal(resident_id=rid))
        if not phone_ok[rid]:
            return mask_phone(row["contact_phone"])
        if unmasked is not None and row["contact_phone"] and rid != user.pk:
            unmasked.append(row["id"])
        return row["contact_phone"]

    def yes_no(value: bool) -> str:
        return _("Yes") if value else _("No")

    column = excel.ExportColumn
    return [
        column(gettext_lazy("Tracking number"), lambda r: r["tracking_no"], 20),
        column(gettext_lazy("State"), lambda r: state_labels.get(r["state"], r["state"]), 10),
        column(gettext_lazy("Channel"), lambda r: channel_labels.get(r["channel"], r["channel"])),
        column(gettext_lazy("Priority"), lambda r: priority_labels.get(r["priority"], ""), 8),
        column(gettext_lazy("First-level category"), lambda r: r["category_top__name"]),
        column(gettext_lazy("Category"), lambda r: r["category__name"]),
        column(gettext_lazy("Title"), lambda r: r["title"], 24),
        column(gettext_lazy("Description"), lambda r: r["description"], 50),
        column(gettext_lazy("Address"), lambda r: r["address"], 24),
        column(gettext_lazy("Street"), lambda r: r["street__name"]),
        column(gettext_lazy("Community"), lambda r: r["community__name"]),
        column(gettext_lazy("Grid"), lambda r: r["grid__name"], 18),
        column(gettext_lazy("Handling unit"), lambda r: r["unit__name"], 18),
        column(gettext_lazy("Contact name"), lambda r: r["contact_name"], 10),
        column(gettext_lazy("Contact phone"), phone),
        column(gettext_lazy("Received at"), lambda r: r["received_at"], 17),
        column(gettext_lazy("First dispatched at"), lambda r: r["first_dispatched_at"], 17),
        column(gettext_lazy("Sign-for deadline"), lambda r: r["sign_deadline"], 17),
        column(gettext_lazy("Signed at"), lambda r: r["signed_at"], 17),
        column(gettext_lazy("Resolve deadline"), lambda r: r["resolve_deadline"], 17),
        column(gettext_lazy("Resolved at"), lambda r: r["resolved_at"], 17),
        column(gettext_lazy("Closed at"), lambda r: r["closed_at"], 17),
        column(gettext_lazy("Overdue"), lambda r: yes_no(r["overdue"]), 8),
        column(gettext_lazy("Under supervision"), lambda r: yes_no(r["supervised"]), 8),
        column(gettext_lazy("Reopened"), lambda r: r["reopen_count"], 8),
        column(
            gettext_lazy("Satisfaction"),
            lambda r: satisfaction_labels.get(r["satisfaction"], ""),
            10,
        ),
        column(gettext_lazy("Rating"), lambda r: r["rating"], 6),
        column(gettext_lazy("Feedback"), lambda r: r["feedback"], 24),
        column(gettext_lazy("Result"), lambda r: r["result"], 30),
    ]
