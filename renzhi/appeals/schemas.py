"""API schemas of appeals (typed input validated at the edge, documented in OpenAPI).

Input fields a person may forget are optional here on purpose: the action then answers with a
field-named, translated message (“请描述问题”) instead of a generic “field required”.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from renzhi.core.text import NOTE, Text

# --- Intake ---------------------------------------------------------------------------------


class AppealIn(Schema):
    description: Annotated[str, NOTE] = Field(
        "", description="What happened (required, ≤ 4000 characters)."
    )
    category_code: Annotated[str, Text(16)] | None = Field(
        None, description="A category code, e.g. 0801."
    )
    lat: float | None = Field(None, description="Latitude (WGS84); give with lng.")
    lng: float | None = Field(None, description="Longitude (WGS84); give with lat.")
    address: Annotated[str, Text(200)] = ""
    place_code: Annotated[str, Text(15)] | None = Field(
        None, description="Community or grid code when no lat/lng."
    )
    contact_name: Annotated[str, Text(50)] = ""
    contact_phone: Annotated[str, Text(20)] = ""
    anonymous: bool = False
    public: bool = Field(
        False,
        description="The resident consents to publishing the appeal on Open311 (redacted, "
        "location coarsened).",
    )
    priority: Annotated[str, Text(10)] = Field(
        "normal",
        description="normal | urgent: staff channels only; a resident's own filing must leave it "
        "normal (else 403 on `priority`).",
    )
    title: Annotated[str, Text(100)] = ""
    external_ref: Annotated[str, Text(100)] = Field(
        "", description="The number in the calling system."
    )
    channel: Annotated[str, Text(10)] | None = Field(
        None,
        description="web | hotline | patrol | api. Default: web (as a resident) for anyone "
        "who is a resident or has a home, else api; a staff channel needs a role of it "
        "covering the place.",
    )
    idempotency_key: Annotated[str, Text(100)] | None = Field(
        None, description="Same as the Idempotency-Key header (the header wins)."
    )


# --- Read side ------------------------------------------------------------------------------


class AppealOut(Schema):
    tracking_no: str
    title: str
    state: str
    state_label: str
    channel: str
    priority: str
    category_code: str | None
    category_name: str | None
    category_top_code: str | None
    place_code: str
    street_name: str | None
    community_name: str | None
    grid_name: str | None
    address: str
    unit_code: str | None
    unit_name: str | None
    contact_name: str
    contact_phone: str
    received_at: dt.datetime
    sign_deadline: dt.datetime | None
    resolve_deadline: dt.datetime | None
    resolved_at: dt.datetime | None
    overdue: bool
    supervised: bool
    reopen_count: int
    rating: int | None
    satisfaction: str


class AttachmentOut(Schema):
    id: int
    url: str
    thumbnail_url: str | None
    content_type: str
    size: int
    created_at: dt.datetime


class TimelineEventOut(Schema):
    at: dt.datetime
    verb: str
    label: str
    actor: str
    actor_role: str
    from_state: str
    to_state: str
    note: str
    automatic: bool
    public: bool
    unit_name: str | None
    data: dict[str, Any]
    attachments: list[AttachmentOut]


class ExtensionOut(Schema):
    id: int
    days: float
    reason: str
    status: str
    requested_by: str
    decided_by: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class AppealDetailOut(AppealOut):
    description: str
    lat: float | None
    lng: float | None
    anonymous: bool
    public: bool
    escalation_level: str
    result: str
    feedback: str
    merged_into: str | None
    merged: list[str]
    accepted_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    signed_at: dt.datetime | None
    closed_at: dt.datetime | None
    timeline: list[TimelineEventOut]
    attachments: list[AttachmentOut]
    actions: list[str] = Field(
        description="What the viewer may do now: POST …/{tracking_no}/{action}; "
        "decide-extension is POST …/extensions/{id}/decide."
    )
    extensions: list[ExtensionOut]


class SubmitOut(AppealDetailOut):
    created: bool
    duplicates: list[str] = Field(
        description="Tracking numbers of similar open appeals nearby (staff only)."
    )


class CategoryNodeOut(Schema):
    code: str
    name: str
    description: str
    public: bool
    active: bool
    children: list[CategoryNodeOut] = []


# --- Transitions ----------------------------------------------------------------------------


class NoteIn(Schema):
    note: Annotated[str, NOTE] = ""


class ReasonIn(Schema):
    reason: Annotated[str, NOTE] = ""


class DispatchIn(Schema):
    unit_code: Annotated[str, Text(32)] = ""
    note: Annotated[str, NOTE] = ""


class TransferIn(Schema):
    unit_code: Annotated[str, Text(32)] = ""
    reason: Annotated[str, NOTE] = ""


class ResolveIn(Schema):
    result: Annotated[str, NOTE] = ""


class RateIn(Schema):
    rating: int | None = Field(None, description="1–5: 4–5 satisfied, 3 basically, 1–2 not.")
    comment: Annotated[str, Text(2000, multiline=True)] = ""  # as the page form


class ExtensionIn(Schema):
    days: float | None = Field(None, description="Extra working days (0 < days ≤ 30).")
    reason: Annotated[str, NOTE] = ""


class DecideIn(Schema):
    approve: bool | None = None
    note: Annotated[str, NOTE] = ""


class MergeIn(Schema):
    into: Annotated[str, Text(20)] = Field(
        "", description="Tracking number of the appeal to merge into."
    )
    note: Annotated[str, NOTE] = ""


# --- Configuration --------------------------------------------------------------------------


class CategoryIn(Schema):
    code: Annotated[str, Text(16)] = ""
    name: Annotated[str, Text(100)] = ""
    parent_code: Annotated[str, Text(16)] | None = None
    default_unit_kind: Annotated[str, Text(20)] = ""
    keywords: Annotated[str, Text(300, multiline=True)] = ""
    description: Annotated[str, Text(300, multiline=True)] = ""
    public: bool = True
    open311_public: bool = False
    sort: int = 0


class CategoryPatch(Schema):
    name: Annotated[str, Text(100)] | None = None
    default_unit_kind: Annotated[str, Text(20)] | None = None
    keywords: Annotated[str, Text(300, multiline=True)] | None = None
    description: Annotated[str, Text(300, multiline=True)] | None = None
    public: bool | None = None
    open311_public: bool | None = None
    sort: int | None = None
    active: bool | None = None


class CategoryOut(Schema):
    code: str
    name: str
    parent_code: str | None
    default_unit_kind: str
    keywords: str
    description: str
    public: bool
    open311_public: bool
    active: bool
    sort: int


class RoutingRuleIn(Schema):
    category_code: Annotated[str, Text(16)] | None = None
    place_code: Annotated[str, Text(15)] = ""
    unit_code: Annotated[str, Text(32)] = ""


class RoutingRuleOut(Schema):
    id: int
    category_code: str | None
    category_name: str | None
    place_code: str
    place_name: str
    unit_code: str
    unit_name: str
    created_at: dt.datetime


class SlaRuleIn(Schema):
    category_code: Annotated[str, Text(16)] | None = None
    priority: Annotated[str, Text(10)] = "normal"
    sign_hours: float | None = None
    resolve_days: float | None = None
    warn_ratio: float = 0.8


class SlaRuleOut(Schema):
    id: int
    category_code: str | None
    category_name: str | None
    priority: str
    sign_hours: float
    resolve_days: float
    warn_ratio: float


# --- Import ---------------------------------------------------------------------------------


class ImportErrorOut(Schema):
    row: int | None
    column: str
    message: str


class ImportJobOut(Schema):
    id: int
    filename: str
    file_format: str
    status: str
    status_label: str
    finished: bool
    total: int
    processed: int
    created: int
    errors: list[ImportErrorOut]
    message: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class ImportProblemOut(Schema):
    field: str
    code: str
    row: int | None
    column: str
    message: str


class ImportRefusedOut(Schema):
    detail: list[ImportProblemOut]
    job: ImportJobOut
