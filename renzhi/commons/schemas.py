"""Typed input and output of the commons API (ninja schemas)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator

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
    reason: str = ""


class NoteIn(Schema):
    note: str


class DecideIn(Schema):
    approve: bool
    reason: str = ""


class MemberInSchema(Schema):
    name: str = ""
    duty: str = ""
    username: str | None = None


class OrganisationIn(Schema):
    community_code: str
    name: str
    kind: str
    purpose: str
    activity_area: str
    leader_username: str | None = None
    members: list[MemberInSchema] = Field(default_factory=list)
    submit: bool = False


class OrganisationEditIn(Schema):
    purpose: str | None = None
    activity_area: str | None = None


class AnnualReportIn(Schema):
    year: int
    summary: str


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
    community_code: str
    building: str
    room: str
    area_m2: Decimal = Decimal("0")
    username: str | None = None
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
    community_code: str
    support_percent: int
    support_count: int


class ProposalIn(Schema):
    community_code: str
    title: str
    body: str
    organisation_id: int | None = None
    source: str = ""
    source_ref: str = ""
    building: str = ""


class CommentIn(Schema):
    body: str
    parent_id: int | None = None


class BodyIn(Schema):
    body: str


class OptionIn(Schema):
    label: str


class VoteIn(Schema):
    method: str
    closes_at: Moment
    opens_at: Moment | None = None
    options: list[str] = Field(default_factory=list)
    quorum_rule: str = "percent"
    quorum_percent: int = 50
    pass_rule: str = "simple"
    by_area: bool = False
    allow_change: bool = False


class CastIn(Schema):
    choice: list[int]
    receipt: str = ""
    on_behalf_of: str | None = None
    proxy_note: str = ""


class CastOut(Schema):
    receipt: str
    changed: bool


class ResolutionIn(Schema):
    resolution: str


class TaskIn(Schema):
    title: str
    owner_username: str
    due_on: Day | None = None


class ProgressIn(Schema):
    progress: int
    note: str = ""


class ReportIn(Schema):
    report: str


class EvaluationIn(Schema):
    rating: int
    comment: str = ""


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
    community_code: str
    title: str
    kind: str
    location: str
    starts_at: Moment
    ends_at: Moment
    capacity: int
    description: str = ""
    volunteer_hours: Decimal = Decimal("0")
    waiting_list: bool = True
    organisation_id: int | None = None


class SignupIn(Schema):
    wait: bool = True


class CheckinIn(Schema):
    token: str = ""
    username: str | None = None


class FeedbackIn(Schema):
    rating: int
    comment: str = ""


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
    community_code: str
    title: str
    topic: str
    skill_code: str | None = None
    for_staff: bool = False
    description: str = ""
    pass_score: int = 60


class SessionIn(Schema):
    starts_at: Moment
    ends_at: Moment
    location: str
    trainer: str = ""


class PersonIn(Schema):
    username: str


class EnrolIn(Schema):
    username: str | None = None


class AttendanceIn(Schema):
    session_id: int
    username: str


class AssessIn(Schema):
    username: str
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
    community_code: str
    kind: str
    category: str
    title: str
    hours: Decimal
    description: str = ""


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
    to_username: str
    hours: Decimal
    note: str = ""


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
