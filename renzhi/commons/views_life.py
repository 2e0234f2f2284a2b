"""Pages of community life: activities (sign-up, QR check-in), training and the time bank."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from renzhi.commons import qr, queries, rules
from renzhi.commons.actions import activities as actions
from renzhi.commons.actions import timebank, training
from renzhi.commons.actions.organisations import may_act_for
from renzhi.commons.models import (
    ActivityKind,
    Certificate,
    HelpCategory,
    HelpKind,
    LedgerEntry,
    Organisation,
    Signup,
    SignupStatus,
    TrainingSession,
)
from renzhi.commons.views import _communities, _community_from, _int, _local_datetime, _user, run
from renzhi.core.http import AuthedRequest
from renzhi.web.access import requires


@requires(rules.may_take_part)
def activity_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    rows = queries.activities_for(user).order_by("-starts_at", "-id")[:200]
    mine = dict(Signup.objects.filter(user=user).values_list("activity_id", "status"))
    my_orgs = [o for o in Organisation.objects.filter(leader=user) if may_act_for(user, o)]
    return render(
        request,
        "commons/activities.html",
        {"rows": rows, "mine": mine, "may_publish": rules.is_staff_anywhere(user) or bool(my_orgs)},
    )


@requires(rules.may_take_part)
def activity_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    my_orgs = [o for o in Organisation.objects.filter(leader=user) if may_act_for(user, o)]
    if request.method == "POST":
        created: list = []

        def work() -> None:
            org_id = request.POST.get("organisation")
            created.append(
                actions.publish_activity(
                    user,
                    community=_community_from(request),
                    title=request.POST.get("title", ""),
                    kind=request.POST.get("kind", ""),
                    location=request.POST.get("location", ""),
                    starts_at=_local_datetime(request.POST.get("starts_at", ""), "starts_at"),
                    ends_at=_local_datetime(request.POST.get("ends_at", ""), "ends_at"),
                    capacity=_int(request.POST.get("capacity"), "capacity"),
                    description=request.POST.get("description", ""),
                    volunteer_hours=request.POST.get("volunteer_hours") or 0,
                    waiting_list=request.POST.get("waiting_list") == "on",
                    organisation=next((o for o in my_orgs if str(o.pk) == org_id), None),
                )
            )

        if run(request, work, _("The activity is published.")):
            return redirect("commons:activity", activity_id=created[0].pk)
    start = timezone.localtime() + dt.timedelta(days=3)
    return render(
        request,
        "commons/activity_new.html",
        {
            "communities": _communities(user),
            "organisations": my_orgs,
            "kinds": ActivityKind.choices,
            "posted": defaultdict(str, request.POST.dict()),
            "default_start": start.strftime("%Y-%m-%dT09:00"),
            "default_end": start.strftime("%Y-%m-%dT11:00"),
        },
    )


@requires(rules.may_take_part)
def activity_detail(request: AuthedRequest, activity_id: int) -> HttpResponse:
    a = queries.activities_for(request.user).filter(pk=activity_id).first()
    if a is None:
        raise Http404
    organiser = actions.is_organiser(request.user, a)
    signups = (
        a.signups.select_related("user").exclude(status=SignupStatus.CANCELLED) if organiser else []
    )
    return render(
        request,
        "commons/activity.html",
        {
            "a": a,
            "mine": Signup.objects.filter(activity=a, user=request.user).first(),
            "organiser": organiser,
            "signups": signups,
            "qr_svg": qr.checkin_svg(a, request.build_absolute_uri("/")).decode()
            if organiser
            else "",
            "photos": a.photos.all(),
            "feedback": a.feedback.all(),
        },
    )


@requires(rules.may_take_part)
def activity_checkin(request: AuthedRequest, activity_id: int) -> HttpResponse:
    """The page the QR code opens on a participant's phone: one button to check in."""
    a = queries.activities_for(request.user).filter(pk=activity_id).first()
    if a is None:
        raise Http404
    token = request.GET.get("t", "") or request.POST.get("t", "")
    if request.method == "POST" and run(
        request, lambda: actions.check_in(request.user, a, token=token), _("You are checked in.")
    ):
        return redirect("commons:activity", activity_id=a.pk)
    return render(request, "commons/checkin.html", {"a": a, "token": token})


ACTIVITY_VERBS: dict[str, tuple[Callable, Any]] = {
    "signup": (
        lambda r, a: actions.sign_up(r.user, a),
        gettext_lazy("You are signed up (or on the waiting list)."),
    ),
    "cancel_signup": (
        lambda r, a: actions.cancel_signup(r.user, a),
        gettext_lazy("Your sign-up is cancelled."),
    ),
    "checkin_person": (
        lambda r, a: actions.check_in(
            r.user, a, person=_user(r.POST.get("username", ""), "person")
        ),
        gettext_lazy("Checked in."),
    ),
    "finish": (
        lambda r, a: actions.finish_activity(r.user, a),
        gettext_lazy("Finished; volunteer hours recorded."),
    ),
    "cancel": (
        lambda r, a: actions.cancel_activity(r.user, a, r.POST.get("reason", "")),
        gettext_lazy("Activity cancelled."),
    ),
    "photo": (lambda r, a: actions.add_photo(r.user, a, _photo(r)), gettext_lazy("Photo added.")),
    "feedback": (
        lambda r, a: actions.give_feedback(
            r.user,
            a,
            rating=_int(r.POST.get("rating"), "rating"),
            comment=r.POST.get("comment", ""),
        ),
        gettext_lazy("Thank you for your feedback."),
    ),
}


def _photo(request: AuthedRequest):
    photo = request.FILES.get("photo")
    if photo is None:
        from renzhi.core.errors import ActionError

        raise ActionError(_("Choose a photo."), field="photo")
    return photo


@require_POST
@requires(rules.may_take_part)
def activity_act(request: AuthedRequest, activity_id: int, verb: str) -> HttpResponse:
    a = queries.activities_for(request.user).filter(pk=activity_id).first()
    if a is None or verb not in ACTIVITY_VERBS:
        raise Http404
    work, done = ACTIVITY_VERBS[verb]
    run(request, lambda: work(request, a), str(done))
    return redirect("commons:activity", activity_id=a.pk)


# === Training ================================================================================


@requires(rules.may_take_part)
def training_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    courses = queries.courses_for(user).prefetch_related("sessions").order_by("-created_at")[:100]
    staff = rules.is_staff_anywhere(user)
    return render(
        request,
        "commons/training.html",
        {
            "courses": courses,
            "enrolled": set(user_enrolments(user)),
            "certificates": Certificate.objects.filter(user=user).select_related("course"),
            "staff": staff,
            "communities": _communities(user) if staff else [],
        },
    )


def user_enrolments(user) -> list[int]:
    from renzhi.commons.models import Enrolment

    return list(Enrolment.objects.filter(user=user).values_list("course_id", flat=True))


@require_POST
@requires(rules.may_take_part)
def course_act(request: AuthedRequest, course_id: int, verb: str) -> HttpResponse:
    course = queries.courses_for(request.user).filter(pk=course_id).first()
    if course is None:
        raise Http404
    r = request
    verbs: dict[str, tuple[Callable[[], object], str]] = {
        "enrol": (lambda: training.enrol(r.user, course), _("You are enrolled.")),
        "session": (
            lambda: training.add_session(
                r.user,
                course,
                starts_at=_local_datetime(r.POST.get("starts_at", ""), "starts_at"),
                ends_at=_local_datetime(r.POST.get("ends_at", ""), "ends_at"),
                location=r.POST.get("location", ""),
            ),
            _("Session added."),
        ),
        "attendance": (
            lambda: training.record_attendance(
                r.user,
                TrainingSession.objects.get(
                    course=course, pk=_int(r.POST.get("session"), "session")
                ),
                _user(r.POST.get("username", ""), "person"),
            ),
            _("Attendance recorded."),
        ),
        "assess": (
            lambda: training.assess(
                r.user,
                course,
                _user(r.POST.get("username", ""), "person"),
                score=_int(r.POST.get("score"), "score"),
                valid_from=_date(r.POST.get("valid_from")),
                valid_until=_date(r.POST.get("valid_until")),
            ),
            _("Assessment recorded."),
        ),
    }
    if verb not in verbs:
        raise Http404
    work, done = verbs[verb]
    run(request, work, done)
    return redirect("commons:training")


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        from renzhi.core.errors import ActionError

        raise ActionError(
            _("Please enter a valid date (YYYY-MM-DD)."), field="valid_until"
        ) from None


@require_POST
@requires(rules.may_run_commons)
def course_new(request: AuthedRequest) -> HttpResponse:
    run(
        request,
        lambda: training.create_course(
            request.user,
            community=_community_from(request),
            title=request.POST.get("title", ""),
            topic=request.POST.get("topic", ""),
            for_staff=request.POST.get("for_staff") == "on",
        ),
        _("Course created."),
    )
    return redirect("commons:training")


# === Time bank ===============================================================================


@requires(rules.may_take_part)
def timebank_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        run(
            request,
            lambda: timebank.post_help(
                user,
                community=_community_from(request),
                kind=request.POST.get("kind", ""),
                category=request.POST.get("category", ""),
                title=request.POST.get("title", ""),
                hours=request.POST.get("hours") or "0",
                description=request.POST.get("description", ""),
            ),
            _("Your post is published."),
        )
        return redirect("commons:timebank")
    account = timebank.account_of(user)
    return render(
        request,
        "commons/timebank.html",
        {
            "posts": queries.help_for(user).order_by("-created_at")[:100],
            "balance": account.balance,
            "entries": LedgerEntry.objects.filter(account=account)
            .select_related("counterpart")
            .order_by("-at", "-id")[:50],
            "communities": [c for c in _communities(user) if rules.is_resident_of(user, c)],
            "kinds": HelpKind.choices,
            "categories": HelpCategory.choices,
        },
    )


@require_POST
@requires(rules.may_take_part)
def help_act(request: AuthedRequest, post_id: int, verb: str) -> HttpResponse:
    post = queries.help_for(request.user).filter(pk=post_id).first()
    if post is None:
        raise Http404
    verbs = {
        "respond": (
            lambda: timebank.respond(request.user, post),
            _("You responded; the author is told."),
        ),
        "complete": (
            lambda: timebank.complete_help(request.user, post),
            _("Thank you; the credits moved to your helper."),
        ),
        "cancel": (lambda: timebank.cancel_help(request.user, post), _("Post cancelled.")),
    }
    if verb not in verbs:
        raise Http404
    work, done = verbs[verb]
    run(request, work, done)
    return redirect("commons:timebank")
