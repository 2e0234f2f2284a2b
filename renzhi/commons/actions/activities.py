"""Community activities: publish, sign up (capacity and a waiting list), cancel (the first on
the waiting list moves up), QR check-in, photos, feedback, and finishing — which records the
volunteer hours of everyone checked in as `core.ServiceHours` ("commons.activity").

Volunteer hours become time-bank credit, so they are only earned by time really spent: an
activity's hours are at most its duration; check-in is open only during the event (from
`COMMONS_CHECKIN_GRACE_MINUTES`, default 30, before the start until the end); an activity is
finished only after its end; and nobody credits themself — the organiser who finishes is not
credited by finishing, another organiser or the community's staff confirms their hours
(`confirm_hours`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.commons import rules
from renzhi.commons.actions.guards import forbid, locked, moment, refuse, text, wrong_state
from renzhi.commons.actions.organisations import may_act_for
from renzhi.commons.models import (
    Activity,
    ActivityFeedback,
    ActivityKind,
    ActivityPhoto,
    ActivityStatus,
    Organisation,
    OrgEvent,
    Signup,
    SignupStatus,
)
from renzhi.commons.photos import check_photo
from renzhi.core import audit, notify, uploads
from renzhi.core.errors import ErrorCode
from renzhi.core.models import Place, PlaceLevel, ServiceHours, User
from renzhi.core.skills import record_hours

SOURCE_TYPE = "commons.activity"
MAX_CAPACITY = 10000
MAX_LENGTH = dt.timedelta(days=14)  # an activity longer than this is a series of activities
EARLIEST_START = dt.timedelta(days=30)  # publishing an activity that began long ago is a record


def checkin_grace() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "COMMONS_CHECKIN_GRACE_MINUTES", 30))


def publish_activity(
    actor: User,
    *,
    community: Place,
    title: str,
    kind: str,
    location: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    description: str = "",
    volunteer_hours: Decimal | str | float = 0,
    waiting_list: bool = True,
    organisation: Organisation | None = None,
) -> Activity:
    """Staff publish for the community; a filed organisation's leader publishes in its name."""
    if community.level != PlaceLevel.COMMUNITY:
        refuse(_("Choose a community."), "community")
    if organisation is not None:
        if organisation.community_id != community.pk or not may_act_for(actor, organisation):
            forbid(
                _("Only the leader of a filed organisation publishes in its name."), "organisation"
            )
    elif not rules.is_staff_of(actor, community):
        forbid(
            _("Only community staff or a filed organisation publish activities."), "organisation"
        )
    if kind not in ActivityKind.values:
        refuse(_("Choose a kind of activity."), "kind")
    starts_at = moment(starts_at, "starts_at", past=EARLIEST_START)
    ends_at = moment(ends_at, "ends_at", past=EARLIEST_START)
    if ends_at <= starts_at:
        refuse(_("The end must be after the start."), "ends_at")
    if ends_at - starts_at > MAX_LENGTH:
        refuse(_("An activity lasts at most %(n)d days.") % {"n": MAX_LENGTH.days}, "ends_at")
    if capacity < 1 or capacity > MAX_CAPACITY:
        refuse(_("The capacity must be between 1 and 10,000."), "capacity")
    try:
        hours = Decimal(str(volunteer_hours or 0)).quantize(Decimal("0.1"))
    except InvalidOperation:
        refuse(_("Please enter a number."), "volunteer_hours")
    if hours < 0 or hours > 24:
        refuse(_("Volunteer hours must be between 0 and 24."), "volunteer_hours")
    if hours * 3600 > Decimal((ends_at - starts_at).total_seconds()):
        refuse(_("Volunteer hours cannot exceed the activity's duration."), "volunteer_hours")
    with transaction.atomic():
        activity = Activity.objects.create(
            community=community,
            organisation=organisation,
            created_by=actor,
            title=text(title, "title", max_length=120),
            kind=kind,
            description=text(description, "description", max_length=4000, required=False),
            location=text(location, "location", max_length=200),
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            volunteer_hours=hours,
            waiting_list=waiting_list,
        )
        if organisation is not None:
            OrgEvent.objects.create(
                organisation=organisation, actor=actor, verb="activity", note=activity.title
            )
        audit.record(actor, "commons.activity.publish", activity)
    return activity


def sign_up(actor: User, activity: Activity, *, wait: bool = True) -> Signup:
    """A confirmed place while there is room, else the waiting list (if the activity keeps one
    and the person is willing to wait); otherwise refused. Decided under the activity's lock."""
    if not rules.reads(actor, activity.community):
        forbid(_("This activity is for residents of its community."), "activity")
    with transaction.atomic():
        activity = locked(activity)
        if activity.status != ActivityStatus.PUBLISHED or activity.starts_at <= timezone.now():
            refuse(_("Sign-up for this activity is closed."), "activity", ErrorCode.INVALID_STATE)
        existing = Signup.objects.filter(activity=activity, user=actor).first()
        if existing is not None and existing.status != SignupStatus.CANCELLED:
            refuse(
                _("You have already signed up for this activity."), "activity", ErrorCode.DUPLICATE
            )
        if activity.confirmed_count < activity.capacity:
            status = SignupStatus.CONFIRMED
        elif activity.waiting_list and wait:
            status = SignupStatus.WAITLISTED
        else:
            refuse(_("The activity is full."), "capacity", ErrorCode.CONFLICT)
        if existing is not None:
            existing.status, existing.signed_up_at = status, timezone.now()
            existing.save(update_fields=["status", "signed_up_at"])
            signup = existing
        else:
            signup = Signup.objects.create(
                activity=activity, user=actor, status=status, signed_up_at=timezone.now()
            )
        if status == SignupStatus.CONFIRMED:
            Activity.objects.filter(pk=activity.pk).update(confirmed_count=F("confirmed_count") + 1)
        audit.record(actor, "commons.activity.sign_up", activity, after={"status": status})
    return signup


def cancel_signup(actor: User, activity: Activity) -> Signup:
    with transaction.atomic():
        activity = locked(activity)
        signup = Signup.objects.select_for_update().filter(activity=activity, user=actor).first()
        if signup is None or signup.status == SignupStatus.CANCELLED:
            refuse(
                _("You are not signed up for this activity."), "activity", ErrorCode.INVALID_STATE
            )
        if signup.checked_in_at is not None or activity.status != ActivityStatus.PUBLISHED:
            refuse(_("It is too late to cancel."), "activity", ErrorCode.INVALID_STATE)
        was = signup.status
        signup.status = SignupStatus.CANCELLED
        signup.save(update_fields=["status"])
        if was == SignupStatus.CONFIRMED:
            promoted = (
                Signup.objects.select_for_update()
                .filter(activity=activity, status=SignupStatus.WAITLISTED)
                .order_by("signed_up_at", "id")
                .first()
            )
            if promoted is None:
                Activity.objects.filter(pk=activity.pk).update(
                    confirmed_count=F("confirmed_count") - 1
                )
            else:
                promoted.status = SignupStatus.CONFIRMED
                promoted.save(update_fields=["status"])
                notify.notify(
                    promoted.user,
                    notify.Message(
                        "commons.activity",
                        _("A place became free: you are signed up"),
                        activity.title,
                        link=f"/commons/activities/{activity.pk}/",
                    ),
                )
        audit.record(actor, "commons.activity.cancel", activity)
    return signup


def check_in(
    actor: User, activity: Activity, *, token: str = "", person: User | None = None
) -> Signup:
    """The participant scans the QR code (token), or staff/the organiser check someone in."""
    who = person or actor
    organiser = is_organiser(actor, activity)
    if person is not None and person != actor and not organiser:
        forbid(_("Only the organiser checks someone else in."), "person")
    if person is None and not organiser and token != activity.checkin_token:
        refuse(_("This check-in code is not valid for the activity."), "token")
    with transaction.atomic():
        activity = locked(activity)
        if activity.status != ActivityStatus.PUBLISHED:
            wrong_state("activity")
        now = timezone.now()
        if not activity.starts_at - checkin_grace() <= now <= activity.ends_at:
            refuse(
                _("Check-in is open only during the activity."), "activity", ErrorCode.INVALID_STATE
            )
        signup = (
            Signup.objects.select_for_update()
            .filter(activity=activity, user=who, status=SignupStatus.CONFIRMED)
            .first()
        )
        if signup is None:
            refuse(_("Only confirmed participants check in."), "person", ErrorCode.INVALID_STATE)
        if signup.checked_in_at is not None:
            refuse(_("Already checked in."), "person", ErrorCode.DUPLICATE)
        signup.checked_in_at = timezone.now()
        signup.save(update_fields=["checked_in_at"])
        audit.record(actor, "commons.activity.check_in", activity, after={"user": who.pk})
    return signup


def finish_activity(actor: User, activity: Activity) -> int:
    """Close the activity after its end; every checked-in participant but the one finishing is
    credited its volunteer hours (their own wait for another organiser: `confirm_hours`)."""
    if not is_organiser(actor, activity):
        forbid(_("Only the organiser finishes the activity."), "activity")
    with transaction.atomic():
        activity = locked(activity)
        if activity.status != ActivityStatus.PUBLISHED:
            wrong_state("activity")
        if timezone.now() < activity.ends_at:
            refuse(
                _("An activity is finished only after it has ended."),
                "activity",
                ErrorCode.INVALID_STATE,
            )
        activity.status = ActivityStatus.FINISHED
        activity.save(update_fields=["status"])
        credited = 0
        if activity.volunteer_hours > 0:
            for signup in (
                activity.signups.filter(checked_in_at__isnull=False)
                .exclude(user=actor)
                .select_related("user")
            ):
                _credit(activity, signup.user)
                credited += 1
        audit.record(actor, "commons.activity.finish", activity, after={"credited": credited})
    from renzhi.commons.actions.timebank import earn_from_service

    earn_from_service()
    return credited


def confirm_hours(actor: User, activity: Activity, person: User) -> ServiceHours:
    """Another organiser (or the community's staff) credits the hours of someone who could not be
    credited at finishing — the organiser who finished. Nobody confirms their own hours."""
    if person.pk == actor.pk:
        forbid(_("Nobody confirms their own volunteer hours."), "person")
    if not is_organiser(actor, activity):
        forbid(_("Only another organiser or community staff confirms these hours."), "person")
    with transaction.atomic():
        activity = locked(activity)
        if activity.status != ActivityStatus.FINISHED or activity.volunteer_hours <= 0:
            wrong_state("activity")
        if not activity.signups.filter(user=person, checked_in_at__isnull=False).exists():
            refuse(_("Only participants who checked in earn hours."), "person")
        if ServiceHours.objects.filter(
            user=person, source_type=SOURCE_TYPE, source_id=str(activity.pk)
        ).exists():
            refuse(_("These hours are already credited."), "person", ErrorCode.DUPLICATE)
        row = _credit(activity, person)
        audit.record(actor, "commons.activity.confirm_hours", activity, after={"user": person.pk})
    from renzhi.commons.actions.timebank import earn_from_service

    earn_from_service(person)
    return row


def _credit(activity: Activity, person: User) -> ServiceHours:
    return record_hours(
        person,
        activity.community,
        activity.volunteer_hours,
        timezone.localdate(activity.starts_at),
        source_type=SOURCE_TYPE,
        source_id=str(activity.pk),
        note=activity.title[:200],
    )


def cancel_activity(actor: User, activity: Activity, reason: str) -> Activity:
    if not is_organiser(actor, activity):
        forbid(_("Only the organiser cancels the activity."), "activity")
    reason = text(reason, "reason", max_length=300)
    with transaction.atomic():
        activity = locked(activity)
        if activity.status != ActivityStatus.PUBLISHED:
            wrong_state("activity")
        activity.status = ActivityStatus.CANCELLED
        activity.save(update_fields=["status"])
        people = [
            s.user
            for s in activity.signups.exclude(status=SignupStatus.CANCELLED).select_related("user")
        ]
        notify.notify(
            people,
            notify.Message(
                "commons.activity", _("An activity was cancelled"), f"{activity.title}: {reason}"
            ),
        )
        audit.record(actor, "commons.activity.cancel_activity", activity, after={"reason": reason})
    return activity


def add_photo(actor: User, activity: Activity, photo: UploadedFile) -> ActivityPhoto:
    if not is_organiser(actor, activity):
        forbid(_("Only the organiser adds photos."), "photo")
    checked = check_photo(photo, "photo")
    with transaction.atomic():
        row = ActivityPhoto(activity=activity, uploaded_by=actor)
        uploads.store(row.image, checked)
        row.save()
        audit.record(actor, "commons.activity.photo", activity)
    return row


def give_feedback(
    actor: User, activity: Activity, *, rating: int, comment: str = ""
) -> ActivityFeedback:
    if not 1 <= rating <= 5:
        refuse(_("Choose a rating from 1 to 5."), "rating")
    comment = text(comment, "comment", max_length=500, required=False)
    with transaction.atomic():
        if not Signup.objects.filter(
            activity=activity, user=actor, checked_in_at__isnull=False
        ).exists():
            forbid(_("Only participants who checked in give feedback."), "activity")
        try:
            with transaction.atomic():
                row = ActivityFeedback.objects.create(
                    activity=activity, user=actor, rating=rating, comment=comment
                )
        except IntegrityError:
            refuse(_("You have already given feedback."), "rating", ErrorCode.DUPLICATE)
        audit.record(actor, "commons.activity.feedback", activity, after={"rating": rating})
    return row


def is_organiser(user: User, activity: Activity) -> bool:
    if rules.is_staff_of(user, activity.community):
        return True
    org = activity.organisation
    return org is not None and may_act_for(user, org)
