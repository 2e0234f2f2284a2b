"""Skills training: courses, sessions, attendance, assessment and certificates.

A pass issues a certificate and grants the course's skill (`core.skills.grant_skill`) with the
certificate's validity, so emergency mobilisation finds the person by skill. An assessment
needs attendance at one session at least when the course has sessions.

Because a skill sends a person into emergencies, its grant is guarded: nobody records their own
attendance or assesses themself; a pass score is above zero; a certificate is valid for at most
`MAX_VALIDITY_MONTHS` (the skill's own validity, else `DEFAULT_VALIDITY_MONTHS`, when none is
given); and a course grants a skill only when it has at least one session the person attended.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.commons import rules
from renzhi.commons.actions.guards import HORIZON, day, forbid, locked, moment, refuse, text
from renzhi.commons.models import (
    Assessment,
    Attendance,
    Certificate,
    Course,
    CourseTopic,
    Enrolment,
    TrainingSession,
)
from renzhi.core import audit, notify
from renzhi.core.errors import ErrorCode
from renzhi.core.models import Place, PlaceLevel, Skill, SkillSource, User
from renzhi.core.skills import grant_skill

DEFAULT_VALIDITY_MONTHS = 36
MAX_VALIDITY_MONTHS = 60
MAX_SESSION = dt.timedelta(hours=12)


def create_course(
    actor: User,
    *,
    community: Place,
    title: str,
    topic: str,
    skill: Skill | None = None,
    for_staff: bool = False,
    description: str = "",
    pass_score: int = 60,
) -> Course:
    if community.level != PlaceLevel.COMMUNITY:
        refuse(_("Choose a community."), "community")
    if not rules.is_staff_of(actor, community):
        forbid(_("Only the community's staff create courses."), "community")
    if topic not in CourseTopic.values:
        refuse(_("Choose a topic."), "topic")
    if not 1 <= pass_score <= 100:
        refuse(_("The pass score is between 1 and 100."), "pass_score")
    with transaction.atomic():
        course = Course.objects.create(
            community=community,
            title=text(title, "title", max_length=120),
            topic=topic,
            skill=skill,
            for_staff=for_staff,
            description=text(description, "description", max_length=4000, required=False),
            pass_score=pass_score,
            created_by=actor,
        )
        audit.record(actor, "commons.course.create", course)
    return course


def add_session(
    actor: User,
    course: Course,
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    location: str,
    trainer: str = "",
) -> TrainingSession:
    _require_staff(actor, course)
    starts_at = moment(starts_at, "starts_at", past=dt.timedelta(days=30))
    ends_at = moment(ends_at, "ends_at", past=dt.timedelta(days=30))
    if ends_at <= starts_at:
        refuse(_("The end must be after the start."), "ends_at")
    if ends_at - starts_at > MAX_SESSION:
        refuse(_("A session lasts at most 12 hours."), "ends_at")
    with transaction.atomic():
        session = TrainingSession.objects.create(
            course=course,
            starts_at=starts_at,
            ends_at=ends_at,
            location=text(location, "location", max_length=200),
            trainer=text(trainer, "trainer", max_length=100, required=False),
        )
        audit.record(actor, "commons.course.session", course, after={"session": session.pk})
    return session


def enrol(actor: User, course: Course, person: User | None = None) -> Enrolment:
    who = person or actor
    staff = rules.is_staff_of(actor, course.community)
    if who != actor and not staff:
        forbid(_("Only staff enrol someone else."), "person")
    if course.for_staff and not (
        staff or (rules.reads(actor, course.community) and rules.may_read_commons(actor))
    ):
        forbid(_("This course is for staff."), "course")
    if not course.for_staff and not (staff or rules.reads(actor, course.community)):
        forbid(_("This course is for residents of its community."), "course")
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = Enrolment.objects.create(course=course, user=who)
        except IntegrityError:
            refuse(_("Already enrolled in this course."), "course", ErrorCode.DUPLICATE)
        audit.record(actor, "commons.course.enrol", course, after={"user": who.pk})
    return row


def record_attendance(actor: User, session: TrainingSession, person: User) -> Attendance:
    _require_staff(actor, session.course)
    if person.pk == actor.pk:
        forbid(_("Nobody records their own attendance."), "person")
    with transaction.atomic():
        if not Enrolment.objects.filter(course=session.course, user=person).exists():
            refuse(
                _("This person is not enrolled in the course."), "person", ErrorCode.INVALID_STATE
            )
        try:
            with transaction.atomic():
                row = Attendance.objects.create(session=session, user=person, recorded_by=actor)
        except IntegrityError:
            refuse(_("Attendance is already recorded."), "person", ErrorCode.DUPLICATE)
        audit.record(
            actor,
            "commons.course.attendance",
            session.course,
            after={"user": person.pk, "session": session.pk},
        )
    return row


def assess(
    actor: User,
    course: Course,
    person: User,
    *,
    score: int,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> tuple[Assessment, Certificate | None]:
    """Record the score; a pass issues the certificate and grants the skill."""
    _require_staff(actor, course)
    if person.pk == actor.pk:
        forbid(_("Nobody assesses themself."), "person")
    if not 0 <= score <= 100:
        refuse(_("The score is between 0 and 100."), "score")
    valid_from = day(
        valid_from or timezone.localdate(), "valid_from", future=dt.timedelta(days=366)
    )
    if valid_until is None:
        months = (course.skill.valid_months if course.skill else 0) or DEFAULT_VALIDITY_MONTHS
        valid_until = add_months(valid_from, min(months, MAX_VALIDITY_MONTHS))
    valid_until = day(valid_until, "valid_until", future=HORIZON + HORIZON)
    if valid_until < valid_from:
        refuse(_("The certificate cannot end before it starts."), "valid_until")
    if valid_until > add_months(valid_from, MAX_VALIDITY_MONTHS):
        refuse(
            _("A certificate is valid for at most %(n)d years.") % {"n": MAX_VALIDITY_MONTHS // 12},
            "valid_until",
        )
    with transaction.atomic():
        course = locked(course)
        if not Enrolment.objects.filter(course=course, user=person).exists():
            refuse(
                _("This person is not enrolled in the course."), "person", ErrorCode.INVALID_STATE
            )
        if course.skill is not None and not course.sessions.exists():
            refuse(
                _("A course that grants a skill needs at least one session first."),
                "course",
                ErrorCode.INVALID_STATE,
            )
        if (
            course.sessions.exists()
            and not Attendance.objects.filter(session__course=course, user=person).exists()
        ):
            refuse(
                _("This person attended no session of the course."),
                "person",
                ErrorCode.INVALID_STATE,
            )
        if Assessment.objects.filter(course=course, user=person).exists():
            refuse(_("This person was already assessed."), "person", ErrorCode.DUPLICATE)
        passed = score >= course.pass_score
        assessment = Assessment.objects.create(
            course=course, user=person, score=score, passed=passed, assessed_by=actor
        )
        certificate = None
        if passed:
            certificate = Certificate.objects.create(
                course=course,
                user=person,
                number=f"RZ-{course.pk:04d}-{person.pk:06d}",
                valid_from=valid_from,
                valid_until=valid_until,
            )
            if course.skill is not None:
                grant_skill(
                    person,
                    course.skill,
                    source=SkillSource.TRAINING,
                    certificate_no=certificate.number,
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            notify.notify(
                person,
                notify.Message(
                    "commons.training",
                    _("You passed the course"),
                    course.title,
                    link="/commons/training/",
                ),
            )
        audit.record(
            actor,
            "commons.course.assess",
            course,
            after={
                "user": person.pk,
                "score": score,
                "passed": passed,
                "skill": course.skill.code if passed and course.skill else None,
            },
        )
    return assessment, certificate


def _require_staff(actor: User, course: Course) -> None:
    if not rules.is_staff_of(actor, course.community):
        forbid(_("Only the community's staff run this course."), "course")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )
