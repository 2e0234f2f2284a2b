"""JSON API of the warning app, mounted by renzhi/api.py at /api/warnings.

Everything the pages do: warnings (list, detail, create, edit, submit, approve, reject, publish,
update, cancel, CAP import), signals (list, propose, dismiss), subscriptions and webhooks.
Objects outside the caller's scope answer 404; refused steps 403; `ActionError`s become
{"detail": [{field, code, message}]}.
"""

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Body, Router, Schema
from ninja.pagination import paginate

from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.http import AuthedRequest
from renzhi.core.pagination import Page
from renzhi.core.text import NOTE, QueryText, Text
from renzhi.warning import actions, queries, rules
from renzhi.warning.actions import WarningInput
from renzhi.warning.models import Signal, SignalStatus, Status, Subscription, Warning, Webhook

router = Router(tags=["warning"])


class WarningIn(Schema):
    level: int | None = None
    headline: Annotated[str, Text(160)] | None = None
    headline_en: Annotated[str, Text(160)] | None = None
    event: Annotated[str, Text(100)] | None = None
    description: Annotated[str, NOTE] | None = None
    description_en: Annotated[str, NOTE] | None = None
    instructions: Annotated[str, NOTE] | None = None
    instructions_en: Annotated[str, NOTE] | None = None
    cap_category: Annotated[str, Text(10)] | None = None
    area_codes: list[Annotated[str, Text(15)]] | None = None
    onset_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None

    def to_input(self) -> WarningInput:
        return WarningInput(**self.dict())


class WarningOut(Schema):
    id: int
    level: int
    roman: str
    colour: str
    status: str
    headline: str
    event: str
    description: str
    instructions: str
    cap_category: str
    origin: str
    source: str
    area_codes: list[str]
    owner_code: str
    expires_at: dt.datetime | None
    published_at: dt.datetime | None
    version: int
    cap_identifiers: list[str]

    @staticmethod
    def resolve_area_codes(obj: Warning) -> list[str]:
        return sorted(p.code for p in obj.areas.all())

    @staticmethod
    def resolve_owner_code(obj: Warning) -> str:
        return obj.owner_place.code

    @staticmethod
    def resolve_cap_identifiers(obj: Warning) -> list[str]:
        return [m.identifier for m in obj.cap_messages.order_by("sent", "id")]


class ReasonIn(Schema):
    reason: Annotated[str, Text(300, multiline=True)] = ""


class UpdateIn(WarningIn):
    note: Annotated[str, NOTE] = ""


class ImportIn(Schema):
    xml: str


class SignalOut(Schema):
    id: int
    day: dt.date
    method: str
    observed: float
    expected: float | None
    upperbound: float | None
    score: float
    status: str
    dismiss_reason: str
    place_code: str
    category_code: str | None
    series_id: int
    warning_id: int | None

    @staticmethod
    def resolve_place_code(obj: Signal) -> str:
        return obj.series.place.code

    @staticmethod
    def resolve_category_code(obj: Signal) -> str | None:
        return obj.series.category.code if obj.series.category else None


class SubscriptionIn(Schema):
    place_code: Annotated[str, Text(15)]
    cap_category: Annotated[str, Text(10)] = ""
    min_level: int = 4
    sms: bool = False


class SubscriptionOut(Schema):
    id: int
    place_code: str
    cap_category: str
    min_level: int
    sms: bool

    @staticmethod
    def resolve_place_code(obj: Subscription) -> str:
        return obj.place.code


class WebhookIn(Schema):
    name: Annotated[str, Text(100)]
    url: Annotated[str, Text(500)]
    place_code: Annotated[str, Text(15)]


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    place_code: str
    active: bool

    @staticmethod
    def resolve_place_code(obj: Webhook) -> str:
        return obj.place.code


class WebhookCreatedOut(WebhookOut):
    secret: str


# --- warnings -------------------------------------------------------------------------------


def _staff(request: AuthedRequest) -> None:
    if not rules.is_warning_staff(request.user):
        raise PermissionRefused(_("Only staff may work with warnings."))


def _visible(request: AuthedRequest, warning_id: int) -> Warning:
    warning = queries.visible_warnings(request.user).filter(pk=warning_id).first()
    if warning is None:
        raise ActionError(_("No such warning."), field="id", code=ErrorCode.NOT_FOUND)
    return warning


@router.get("/", response=list[WarningOut], summary="Warnings in my jurisdiction")
@paginate(Page)
def list_warnings(request: AuthedRequest, status: QueryText | None = None):
    _staff(request)
    qs = queries.visible_warnings(request.user).prefetch_related("areas", "cap_messages")
    if status in Status.values:
        qs = qs.filter(status=status)
    return qs


@router.get("/live", response=list[WarningOut], summary="Live warnings for my home (residents)")
def live_for_me(request: AuthedRequest):
    return queries.warnings_for_resident(request.user)


@router.get("/{int:warning_id}", response=WarningOut, summary="One warning")
def get_warning(request: AuthedRequest, warning_id: int):
    _staff(request)
    return _visible(request, warning_id)


@router.post("/", response={201: WarningOut}, summary="Draft a warning")
def create(request: AuthedRequest, payload: WarningIn):
    return 201, actions.create_warning(request.user, payload.to_input())


@router.patch("/{int:warning_id}", response=WarningOut, summary="Edit a draft")
def edit(request: AuthedRequest, warning_id: int, payload: WarningIn):
    _visible(request, warning_id)
    return actions.edit_warning(request.user, warning_id, payload.to_input())


@router.post("/{int:warning_id}/submit", response=WarningOut, summary="Submit for approval")
def submit(request: AuthedRequest, warning_id: int):
    _visible(request, warning_id)
    return actions.submit(request.user, warning_id)


@router.post("/{int:warning_id}/approve", response=WarningOut, summary="Approve (leader)")
def approve(request: AuthedRequest, warning_id: int):
    _visible(request, warning_id)
    return actions.approve(request.user, warning_id)


@router.post("/{int:warning_id}/reject", response=WarningOut, summary="Send back to draft")
def reject(request: AuthedRequest, warning_id: int, payload: ReasonIn):
    _visible(request, warning_id)
    return actions.reject(request.user, warning_id, payload.reason)


@router.post("/{int:warning_id}/publish", response=WarningOut, summary="Publish (CAP Alert)")
def publish(request: AuthedRequest, warning_id: int):
    _visible(request, warning_id)
    return actions.publish(request.user, warning_id)


@router.post("/{int:warning_id}/update", response=WarningOut, summary="Update (CAP Update)")
def update(request: AuthedRequest, warning_id: int, payload: UpdateIn):
    _visible(request, warning_id)
    data = payload.dict()
    note = data.pop("note", "")
    return actions.update(request.user, warning_id, WarningInput(**data), note=note)


@router.post("/{int:warning_id}/cancel", response=WarningOut, summary="Cancel (CAP Cancel)")
def cancel(request: AuthedRequest, warning_id: int, payload: ReasonIn):
    _visible(request, warning_id)
    return actions.cancel(request.user, warning_id, payload.reason)


@router.post("/import", response={201: list[WarningOut]}, summary="Import a CAP alert or feed")
def import_cap(request: AuthedRequest, payload: ImportIn):
    return 201, actions.import_cap(request.user, payload.xml)


# --- signals --------------------------------------------------------------------------------


@router.get("/signals", response=list[SignalOut], summary="Signals in my jurisdiction")
@paginate(Page)
def list_signals(
    request: AuthedRequest, day: dt.date | None = None, status: QueryText | None = None
):
    _staff(request)
    qs = queries.visible_signals(request.user).select_related("series__place", "series__category")
    if day:
        qs = qs.filter(day=day)
    if status in SignalStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-day", "-score", "id")


@router.post("/signals/{int:signal_id}/propose", response={201: WarningOut}, summary="Propose")
def propose(request: AuthedRequest, signal_id: int):
    return 201, actions.propose_from_signal(request.user, signal_id)


@router.post("/signals/{int:signal_id}/dismiss", response=SignalOut, summary="Dismiss a signal")
def dismiss(request: AuthedRequest, signal_id: int, payload: ReasonIn = Body(...)):  # noqa: B008
    signal = actions.dismiss_signal(request.user, signal_id, payload.reason)
    return Signal.objects.select_related("series__place", "series__category").get(pk=signal.pk)


# --- subscriptions and webhooks -------------------------------------------------------------


@router.get("/subscriptions", response=list[SubscriptionOut], summary="My subscriptions")
def list_subscriptions(request: AuthedRequest):
    return Subscription.objects.filter(user=request.user).select_related("place")


@router.post("/subscriptions", response={201: SubscriptionOut}, summary="Subscribe")
def subscribe(request: AuthedRequest, payload: SubscriptionIn):
    return 201, actions.subscribe(
        request.user, payload.place_code, payload.cap_category, payload.min_level, payload.sms
    )


@router.delete("/subscriptions/{int:sub_id}", response={204: None}, summary="Unsubscribe")
def unsubscribe(request: AuthedRequest, sub_id: int):
    actions.unsubscribe(request.user, sub_id)
    return 204, None


@router.get("/webhooks", response=list[WebhookOut], summary="Webhooks in my jurisdiction")
def list_webhooks(request: AuthedRequest):
    if not rules.may_manage_webhooks(request.user):
        raise PermissionRefused(_("Only administrators and leaders manage webhooks."))
    return actions.webhooks_visible(request.user).select_related("place")


@router.post("/webhooks", response={201: WebhookCreatedOut}, summary="Add a webhook")
def create_webhook(request: AuthedRequest, payload: WebhookIn):
    hook = actions.create_webhook(
        request.user, name=payload.name, url=payload.url, place_code=payload.place_code
    )
    return 201, hook


@router.delete("/webhooks/{int:hook_id}", response={204: None}, summary="Disable a webhook")
def delete_webhook(request: AuthedRequest, hook_id: int):
    actions.delete_webhook(request.user, hook_id)
    return 204, None
