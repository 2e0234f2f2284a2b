"""Typed input and output of the commons API (ninja schemas)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator

from renzhi.core.text import NOTE, Text

# Every date a client sends is bounded (an activity in 9999 once broke the activity list for
# everyone); the actions check again, tighter where the domain says so.
HORIZON_DAYS = 5 * 365


def _near_moment(value: dt.datetime) -> dt.datetime:
    aware = timezone.make_aware(value) if timezone.is_naive(value) else value
    span = dt.timedelta(days=HORIZON_DAYS)
    now = timezone.now()
    try:
        near = now - span <= aware <= now + span
    except OverflowError:
        near = False
    if not near:
        raise ValueError(_("Enter a date and time within five years of today."))
    return aware


def _near_day(value: dt.date, years: int = 5) -> dt.date:
    today = timezone.localdate()
    if abs((value - today).days) > years * 365:
        raise ValueError(_("Enter a date within %(n)d years of today.") % {"n": years})
    return value


Moment = Annotated[dt.datetime, AfterValidator(_near_moment)]
Day = Annotated[dt.date, AfterValidator(_near_day)]
LongDay = Annotated[dt.date, AfterValidator(lambda value: _near_day(value, 10))]


class ReasonIn(Schema):
    reason: Annotated[str, NOTE] = ""


class NoteIn(Schema):
    note: Annotated[str, NOTE]


class DecideIn(Schema):
    approve: bool
    reason: Annotated[str, Text(500, multiline=True)] = ""


class MemberInSchema(Schema):
    name: Annotated[str, Text(50)] = ""
    duty: Annotated[str, Text(50)] = ""
    username: Annotated[str, Text(150)] | None = None


class OrganisationIn(Schema):
    community_code: Annotated[str, Text(15)]
    name: Annotated[str, Text(100)]
    kind: Annotated[str, Text(20)]
    purpose: Annotated[str, NOTE]
    activity_area: Annotated[str, Text(200)]
    leader_username: Annotated[str, Text(150)] | None = None
    members: list[MemberInSchema] = Field(default_factory=list)
    submit: bool = False


class OrganisationEditIn(Schema):
    purpose: Annotated[str, NOTE] | None = None
    activity_area: Annotated[str, Text(200)] | None = None


class AnnualReportIn(Schema):
    year: int
    summary: Annotated[str, NOTE]


class OrgEventOut(Schema):
    verb: str
    from_status: str
    to_status: str
    note: str
    at: dt.datetime


class MemberOut(Schema):
    id: int
    name: str
    duty: str
    active: bool


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    community_code: str
    community_name: str
    purpose: str
    activity_area: str
    leader: str
    filing_no: str
    decision_reason: str
    needs_approval: bool
    created_at: dt.datetime


class OrganisationDetailOut(OrganisationOut):
    members: list[MemberOut]
    events: list[OrgEventOut]
    annual_reports: list[dict]


class ResidenceIn(Schema):
    community_code: Annotated[str, Text(15)]
    building: Annotated[str, Text(20)]
    room: Annotated[str, Text(20)]
    area_m2: Decimal = Decimal("0")
    username: Annotated[str, Text(150)] | None = None
    verify: bool = False


class ResidenceOut(Schema):
    id: int
    username: str
    display_name: str
    community_code: str
    building: str
    room: str
    area_m2: Decimal
    verified: bool


class RulesIn(Schema):
    community_code: Annotated[str, Text(15)]
    support_percent: int
    support_count: int


class ProposalIn(Schema):
    community_code: Annotated[str, Text(15)]
    title: Annotated[str, Text(120)]
    body: Annotated[str, NOTE]
    organisation_id: int | None = None
    source: Annotated[str, Text(20)] = ""
    source_ref: Annotated[str, Text(40)] = ""
    building: Annotated[str, Text(20)] = ""


class CommentIn(Schema):
    body: Annotated[str, NOTE]
    parent_id: int | None = None


class BodyIn(Schema):
    body: Annotated[str, NOTE]


class OptionIn(Schema):
    label: Annotated[str, Text(200)]


class VoteIn(Schema):
    method: Annotated[str, Text(20)]
    closes_at: Moment
    opens_at: Moment | None = None
    options: list[Annotated[str, Text(200)]] = Field(default_factory=list)
    quorum_rule: Annotated[str, Text(20)] = "percent"
    quorum_percent: int = 50
    pass_rule: Annotated[str, Text(20)] = "simple"
    by_area: bool = False
    allow_change: bool = False


class CastIn(Schema):
    choice: list[int]
    receipt: Annotated[str, Text(64)] = ""
    on_behalf_of: Annotated[str, Text(150)] | None = None
    proxy_note: Annotated[str, Text(200, multiline=True)] = ""


class CastOut(Schema):
    receipt: str
    changed: bool


class ResolutionIn(Schema):
    resolution: Annotated[str, NOTE]


class TaskIn(Schema):
    title: Annotated[str, Text(200)]
    owner_username: Annotated[str, Text(150)]
    due_on: Day | None = None


class ProgressIn(Schema):
    progress: int
    note: Annotated[str, NOTE] = ""


class ReportIn(Schema):
    report: Annotated[str, NOTE]


class EvaluationIn(Schema):
    rating: int
    comment: Annotated[str, Text(500, multiline=True)] = ""


class ProposalOut(Schema):
    id: int
    title: str
    body: str
    phase: str
    phase_label: str
    origin: str
    origin_label: str
    community_code: str
    community_name: str
    organisation_id: int | None
    organisation_name: str
    source_ref: str
    supports_count: int
    support_threshold: int
    created_at: dt.datetime


class CommentOut(Schema):
    id: int
    parent_id: int | None
    author: str
    body: str
    hidden_reason: str
    edited: bool
    created_at: dt.datetime


class VoteOut(Schema):
    id: int
    method: str
    status: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    quorum_rule: str
    quorum_percent: int
    pass_rule: str
    by_area: bool
    allow_change: bool
    electorate_size: int
    ballots_cast: int
    options: list[dict]
    result: dict | None
    passed: bool | None
    i_voted: bool


class TaskOut(Schema):
    id: int
    title: str
    owner: str
    progress: int
    done: bool
    updates: list[dict]


class ProposalDetailOut(ProposalOut):
    resolution: str
    public_report: str
    decline_reason: str
    i_supported: bool
    options: list[dict]
    comments: list[CommentOut]
    vote: VoteOut | None
    tasks: list[TaskOut]
    evaluations: dict


class ActivityIn(Schema):
    community_code: Annotated[str, Text(15)]
    title: Annotated[str, Text(120)]
    kind: Annotated[str, Text(20)]
    location: Annotated[str, Text(200)]
    starts_at: Moment
    ends_at: Moment
    capacity: int
    description: Annotated[str, NOTE] = ""
    volunteer_hours: Decimal = Decimal("0")
    waiting_list: bool = True
    organisation_id: int | None = None


class SignupIn(Schema):
    wait: bool = True


class CheckinIn(Schema):
    token: Annotated[str, Text(32)] = ""
    username: Annotated[str, Text(150)] | None = None


class FeedbackIn(Schema):
    rating: int
    comment: Annotated[str, Text(500, multiline=True)] = ""


class ActivityOut(Schema):
    id: int
    title: str
    kind: str
    kind_label: str
    status: str
    community_code: str
    organisation_name: str
    location: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    confirmed_count: int
    waiting_list: bool
    volunteer_hours: Decimal
    my_status: str


class CourseIn(Schema):
    community_code: Annotated[str, Text(15)]
    title: Annotated[str, Text(120)]
    topic: Annotated[str, Text(20)]
    skill_code: Annotated[str, Text(40)] | None = None
    for_staff: bool = False
    description: Annotated[str, NOTE] = ""
    pass_score: int = 60


class SessionIn(Schema):
    starts_at: Moment
    ends_at: Moment
    location: Annotated[str, Text(200)]
    trainer: Annotated[str, Text(100)] = ""


class PersonIn(Schema):
    username: Annotated[str, Text(150)]


class EnrolIn(Schema):
    username: Annotated[str, Text(150)] | None = None


class AttendanceIn(Schema):
    session_id: int
    username: Annotated[str, Text(150)]


class AssessIn(Schema):
    username: Annotated[str, Text(150)]
    score: int
    valid_from: Day | None = None
    valid_until: LongDay | None = None


class CourseOut(Schema):
    id: int
    title: str
    topic: str
    topic_label: str
    community_code: str
    skill_code: str | None
    for_staff: bool
    pass_score: int
    sessions: list[dict]
    enrolled: bool


class HelpIn(Schema):
    community_code: Annotated[str, Text(15)]
    kind: Annotated[str, Text(10)]
    category: Annotated[str, Text(20)]
    title: Annotated[str, Text(120)]
    hours: Decimal
    description: Annotated[str, NOTE] = ""


class HelpOut(Schema):
    id: int
    kind: str
    category: str
    category_label: str
    title: str
    description: str
    hours: Decimal
    status: str
    author: str
    partner: str
    community_code: str


class TransferIn(Schema):
    to_username: Annotated[str, Text(150)]
    hours: Decimal
    note: Annotated[str, Text(200, multiline=True)] = ""


class LedgerOut(Schema):
    kind: str
    amount: Decimal
    balance_after: Decimal
    counterpart: str
    note: str
    at: dt.datetime


class StatementOut(Schema):
    balance: Decimal
    entries: list[LedgerOut]
