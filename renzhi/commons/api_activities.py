"""Activities, training and the time bank (see api.py)."""

from django.http import HttpResponse
from ninja import File, Router
from ninja.files import UploadedFile
from ninja.pagination import paginate

from renzhi.commons import present, qr, queries, rules
from renzhi.commons.actions import activities as activity_actions
from renzhi.commons.actions import timebank, training
from renzhi.commons.models import LedgerEntry, TrainingSession
from renzhi.commons.schemas import (
    ActivityIn,
    ActivityOut,
    AssessIn,
    AttendanceIn,
    CheckinIn,
    CourseIn,
    CourseOut,
    EnrolIn,
    FeedbackIn,
    HelpIn,
    HelpOut,
    ReasonIn,
    SessionIn,
    SignupIn,
    StatementOut,
    TransferIn,
)
from renzhi.core.errors import PermissionRefused
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Skill
from renzhi.core.pagination import Page
from renzhi.core.text import QueryText

router = Router()


def _api():
    from renzhi.commons import api

    return api


def _activity(request: AuthedRequest, activity_id: int):
    return _api().get_visible(queries.activities_for(request.auth), activity_id, "activity")


def _course(request: AuthedRequest, course_id: int):
    return _api().get_visible(queries.courses_for(request.auth), course_id, "course")


def _help(request: AuthedRequest, post_id: int):
    return _api().get_visible(queries.help_for(request.auth), post_id, "post")


# --- Activities ------------------------------------------------------------------------------


@router.get("/activities", response=list[ActivityOut], summary="Activities I may see")
@paginate(Page)
def list_activities(
    request: AuthedRequest, status: QueryText | None = None, community: QueryText | None = None
):
    qs = queries.activities_for(request.auth).order_by("-starts_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if community:
        qs = qs.filter(community__code=community)
    return [present.activity(a, request.auth) for a in qs]


@router.post("/activities", response={201: ActivityOut}, summary="Publish an activity")
def create_activity(request: AuthedRequest, data: ActivityIn):
    api = _api()
    organisation = None
    if data.organisation_id is not None:
        organisation = api.get_visible(
            queries.organisations_for(request.auth), data.organisation_id, "organisation_id"
        )
    a = activity_actions.publish_activity(
        request.auth,
        community=api.place_by_code(data.community_code),
        title=data.title,
        kind=data.kind,
        location=data.location,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        capacity=data.capacity,
        description=data.description,
        volunteer_hours=data.volunteer_hours,
        waiting_list=data.waiting_list,
        organisation=organisation,
    )
    return 201, present.activity(a, request.auth)


@router.get("/activities/{activity_id}", response=ActivityOut, summary="One activity")
def get_activity(request: AuthedRequest, activity_id: int):
    return present.activity(_activity(request, activity_id), request.auth)


@router.get("/activities/{activity_id}/qr.svg", summary="Check-in QR code (organiser)")
def activity_qr(request: AuthedRequest, activity_id: int):
    a = _activity(request, activity_id)
    if not activity_actions.is_organiser(request.auth, a):
        raise PermissionRefused(_only_organiser(), field="activity")
    svg = qr.checkin_svg(a, request.build_absolute_uri("/"))
    return HttpResponse(svg, content_type="image/svg+xml")


def _averb(path: str, summary: str):
    return router.post(f"/activities/{{activity_id}}/{path}", response=ActivityOut, summary=summary)


@_averb("signup", "Sign up (or join the waiting list)")
def signup(request: AuthedRequest, activity_id: int, data: SignupIn):
    a = _activity(request, activity_id)
    activity_actions.sign_up(request.auth, a, wait=data.wait)
    return present.activity(_activity(request, activity_id), request.auth)


@_averb("cancel-signup", "Cancel my sign-up")
def cancel_signup(request: AuthedRequest, activity_id: int):
    activity_actions.cancel_signup(request.auth, _activity(request, activity_id))
    return present.activity(_activity(request, activity_id), request.auth)


@_averb("checkin", "Check in (QR token, or the organiser names the person)")
def checkin(request: AuthedRequest, activity_id: int, data: CheckinIn):
    a = _activity(request, activity_id)
    person = _api().user_by_name(data.username, "username") if data.username else None
    activity_actions.check_in(request.auth, a, token=data.token, person=person)
    return present.activity(a, request.auth)


@_averb("finish", "Finish; checked-in participants earn the volunteer hours (organiser)")
def finish(request: AuthedRequest, activity_id: int):
    activity_actions.finish_activity(request.auth, _activity(request, activity_id))
    return present.activity(_activity(request, activity_id), request.auth)


@_averb("confirm-hours", "Confirm an organiser's own hours (another organiser or staff)")
def confirm_hours(request: AuthedRequest, activity_id: int, data: EnrolIn):
    a = _activity(request, activity_id)
    person = _api().user_by_name(data.username or "", "username")
    activity_actions.confirm_hours(request.auth, a, person)
    return present.activity(_activity(request, activity_id), request.auth)


@_averb("cancel", "Cancel the activity (organiser)")
def cancel(request: AuthedRequest, activity_id: int, data: ReasonIn):
    activity_actions.cancel_activity(request.auth, _activity(request, activity_id), data.reason)
    return present.activity(_activity(request, activity_id), request.auth)


@_averb("photos", "Add a photo (organiser)")
def photo(request: AuthedRequest, activity_id: int, photo: File[UploadedFile]):
    a = _activity(request, activity_id)
    activity_actions.add_photo(request.auth, a, photo)
    return present.activity(a, request.auth)


@_averb("feedback", "Give feedback (checked-in participants, once)")
def feedback(request: AuthedRequest, activity_id: int, data: FeedbackIn):
    a = _activity(request, activity_id)
    activity_actions.give_feedback(request.auth, a, rating=data.rating, comment=data.comment)
    return present.activity(a, request.auth)


# --- Training --------------------------------------------------------------------------------


@router.get("/courses", response=list[CourseOut], summary="Courses I may see")
@paginate(Page)
def list_courses(request: AuthedRequest, topic: QueryText | None = None):
    qs = queries.courses_for(request.auth).order_by("-created_at", "-id")
    if topic:
        qs = qs.filter(topic=topic)
    return [present.course(c, request.auth) for c in qs]


@router.post("/courses", response={201: CourseOut}, summary="Create a course (staff)")
def create_course(request: AuthedRequest, data: CourseIn):
    api = _api()
    skill = None
    if data.skill_code:
        skill = Skill.objects.filter(code=data.skill_code).first()
        if skill is None:
            from django.utils.translation import gettext as _

            from renzhi.core.errors import ActionError

            raise ActionError(_("No skill has this code."), field="skill_code")
    c = training.create_course(
        request.auth,
        community=api.place_by_code(data.community_code),
        title=data.title,
        topic=data.topic,
        skill=skill,
        for_staff=data.for_staff,
        description=data.description,
        pass_score=data.pass_score,
    )
    return 201, present.course(c, request.auth)


@router.get("/courses/{course_id}", response=CourseOut, summary="One course")
def get_course(request: AuthedRequest, course_id: int):
    return present.course(_course(request, course_id), request.auth)


def _cverb(path: str, summary: str):
    return router.post(f"/courses/{{course_id}}/{path}", response=CourseOut, summary=summary)


@_cverb("sessions", "Add a session (staff)")
def add_session(request: AuthedRequest, course_id: int, data: SessionIn):
    c = _course(request, course_id)
    training.add_session(
        request.auth,
        c,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        location=data.location,
        trainer=data.trainer,
    )
    return present.course(c, request.auth)


@_cverb("enrol", "Enrol (oneself, or staff enrol someone)")
def enrol(request: AuthedRequest, course_id: int, data: EnrolIn):
    c = _course(request, course_id)
    person = _api().user_by_name(data.username, "username") if data.username else None
    training.enrol(request.auth, c, person)
    return present.course(c, request.auth)


@_cverb("attendance", "Record attendance (staff)")
def attendance(request: AuthedRequest, course_id: int, data: AttendanceIn):
    c = _course(request, course_id)
    session = _api().get_visible(
        TrainingSession.objects.filter(course=c), data.session_id, "session_id"
    )
    training.record_attendance(
        request.auth, session, _api().user_by_name(data.username, "username")
    )
    return present.course(c, request.auth)


@_cverb("assess", "Record the assessment; a pass issues the certificate and grants the skill")
def assess(request: AuthedRequest, course_id: int, data: AssessIn):
    c = _course(request, course_id)
    training.assess(
        request.auth,
        c,
        _api().user_by_name(data.username, "username"),
        score=data.score,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )
    return present.course(c, request.auth)


# --- Time bank -------------------------------------------------------------------------------


@router.get("/help", response=list[HelpOut], summary="Help offered and requested")
@paginate(Page)
def list_help(
    request: AuthedRequest, kind: QueryText | None = None, status: QueryText | None = None
):
    qs = queries.help_for(request.auth).order_by("-created_at", "-id")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return [present.help_post(h) for h in qs]


@router.post("/help", response={201: HelpOut}, summary="Offer or request help")
def create_help(request: AuthedRequest, data: HelpIn):
    post = timebank.post_help(
        request.auth,
        community=_api().place_by_code(data.community_code),
        kind=data.kind,
        category=data.category,
        title=data.title,
        hours=data.hours,
        description=data.description,
    )
    return 201, present.help_post(post)


@router.get("/help/{post_id}", response=HelpOut, summary="One help post")
def get_help(request: AuthedRequest, post_id: int):
    return present.help_post(_help(request, post_id))


@router.get("/help/{post_id}/matches", response=list[HelpOut], summary="Matching posts")
def help_matches(request: AuthedRequest, post_id: int):
    return [present.help_post(h) for h in timebank.matches_for(_help(request, post_id))]


@router.post("/help/{post_id}/respond", response=HelpOut, summary="Respond to a post")
def respond(request: AuthedRequest, post_id: int):
    return present.help_post(timebank.respond(request.auth, _help(request, post_id)))


@router.post("/help/{post_id}/complete", response=HelpOut, summary="Confirm the help (the helped)")
def complete(request: AuthedRequest, post_id: int):
    return present.help_post(timebank.complete_help(request.auth, _help(request, post_id)))


@router.post("/help/{post_id}/cancel", response=HelpOut, summary="Cancel my post")
def cancel_help(request: AuthedRequest, post_id: int):
    return present.help_post(timebank.cancel_help(request.auth, _help(request, post_id)))


@router.post("/timebank/transfer", response=StatementOut, summary="Give credits to someone")
def transfer(request: AuthedRequest, data: TransferIn):
    to = _api().user_by_name(data.to_username, "to_username")
    if not rules.home_community_ids(to) & rules.home_community_ids(request.auth):
        raise PermissionRefused(_no_neighbour(), field="to_username")
    timebank.transfer(request.auth, to, data.hours, data.note)
    return _statement(request)


@router.get("/timebank/statement", response=StatementOut, summary="My time-bank statement")
def statement(request: AuthedRequest):
    return _statement(request)


def _statement(request: AuthedRequest) -> dict:
    account = timebank.account_of(request.auth)
    entries = (
        LedgerEntry.objects.filter(account=account)
        .select_related("counterpart")
        .order_by("-at", "-id")[:500]
    )
    return {
        "balance": account.balance,
        "entries": [
            {
                "kind": e.get_kind_display(),
                "amount": e.amount,
                "balance_after": e.balance_after,
                "counterpart": present.name_of(e.counterpart),
                "note": e.note,
                "at": e.at,
            }
            for e in entries
        ],
    }


def _no_neighbour() -> str:
    from django.utils.translation import gettext as _

    return _("Credits move between people of the same community.")


def _only_organiser() -> str:
    from django.utils.translation import gettext as _

    return _("Only the organiser shows the check-in code.")
