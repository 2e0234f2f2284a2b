"""Pages of the commons app (server-rendered, phone-first).

Reading goes through `queries` (404 outside the scope). Each change is a small form posted to
an `act` view, which calls one action: success shows a message and returns to the page; a
refusal shows the action's field-named message and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from renzhi.commons import metrics, present, queries, rules
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.actions import residence as residence_actions
from renzhi.commons.actions import timebank
from renzhi.commons.actions.guards import moment
from renzhi.commons.models import (
    OrgKind,
    OrgMember,
    Phase,
    Residence,
)
from renzhi.core import scope
from renzhi.core.errors import ActionError
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Place, PlaceLevel, User
from renzhi.core.workdays import LOCAL_TZ
from renzhi.web.access import requires

# Field names of the actions → the words shown before a refusal's message.
FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "purpose": gettext_lazy("Purpose"),
    "activity_area": gettext_lazy("Activity area"),
    "reason": gettext_lazy("Reason"),
    "note": gettext_lazy("Note"),
    "organisation": gettext_lazy("Organisation"),
    "community": gettext_lazy("Community"),
    "title": gettext_lazy("Title"),
    "body": gettext_lazy("Content"),
    "proposal": gettext_lazy("Proposal"),
    "supports": gettext_lazy("Supports"),
    "vote": gettext_lazy("Vote"),
    "voter": gettext_lazy("Voter"),
    "choice": gettext_lazy("Choice"),
    "receipt": gettext_lazy("Receipt"),
    "closes_at": gettext_lazy("Closes at"),
    "resolution": gettext_lazy("Resolution"),
    "progress": gettext_lazy("Progress"),
    "report": gettext_lazy("Public report"),
    "rating": gettext_lazy("Rating"),
    "capacity": pgettext_lazy("commons", "Capacity"),
    "activity": gettext_lazy("Activity"),
    "token": gettext_lazy("Check-in code"),
    "valid_until": gettext_lazy("Valid until"),
    "score": gettext_lazy("Score"),
    "person": gettext_lazy("Person"),
    "hours": pgettext_lazy("commons", "Hours"),
    "post": gettext_lazy("Help post"),
    "building": gettext_lazy("Building"),
    "room": gettext_lazy("Unit and room"),
    "area_m2": gettext_lazy("Floor area (m²)"),
    "label": gettext_lazy("Option"),
    "options": gettext_lazy("Options"),
    "owner": gettext_lazy("Owner"),
    "user": gettext_lazy("Person"),
    "ends_at": gettext_lazy("Ends at"),
    "status": gettext_lazy("Status"),
    "phase": gettext_lazy("Phase"),
    "year": gettext_lazy("Year"),
    "summary": gettext_lazy("Summary"),
    "proxy_note": gettext_lazy("Proxy note"),
    "on_behalf_of": gettext_lazy("On behalf of"),
    "to": gettext_lazy("Recipient"),
    "residence": gettext_lazy("Household record"),
}


def show_refusal(request: AuthedRequest, error: ActionError) -> None:
    for e in error.errors:
        label = FIELD_LABELS.get(e.field or "")
        messages.error(
            request,
            f"{label}：{e.message}" if label else e.message,
            extra_tags=f"field-{e.field or ''}",
        )


def run(request: AuthedRequest, work: Callable[[], object], done: str) -> bool:
    try:
        work()
    except ActionError as error:
        show_refusal(request, error)
        return False
    messages.success(request, done)
    return True


def _communities(user: User) -> list[Place]:
    """Communities the user can act in: homes first, then the jurisdiction's communities."""
    ids = rules.home_community_ids(user)
    qs = Place.objects.filter(level=PlaceLevel.COMMUNITY)
    staff = (
        [p for p in qs.order_by("code")[:500] if rules.is_staff_of(user, p)]
        if rules.is_staff_anywhere(user)
        else []
    )
    homes = list(qs.filter(pk__in=ids).order_by("code"))
    return homes + [p for p in staff if p.pk not in ids]


def _community_from(request: AuthedRequest) -> Place:
    code = request.POST.get("community", "")
    place = Place.objects.filter(code=code, level=PlaceLevel.COMMUNITY).first()
    if place is None:
        raise ActionError(_("Choose a community."), field="community")
    return place


def _local_datetime(value: str, field: str) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ActionError(_("Please enter a valid date and time."), field=field) from None
    # Bounded at the form too (now ± 5 years); actions check again, tighter where needed.
    return moment(naive.replace(tzinfo=LOCAL_TZ) if naive.tzinfo is None else naive, field)


def _int(value: str | None, field: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise ActionError(_("Please enter a whole number."), field=field) from None


def _user(username: str, field: str) -> User:
    user = User.objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise ActionError(_("No account has this user name."), field=field)
    return user


# === Hub =====================================================================================


@requires(rules.may_take_part)
def hub(request: AuthedRequest) -> HttpResponse:
    user = request.user
    account = timebank.account_of(user) if rules.home_community_ids(user) else None
    proposals = queries.proposals_for(user).exclude(
        phase__in=[Phase.CLOSED, Phase.DECLINED, Phase.REJECTED]
    )[:6]
    activities = queries.activities_for(user).filter(
        status="published", starts_at__gte=timezone.now()
    )[:6]
    return render(
        request,
        "commons/hub.html",
        {
            "proposals": proposals,
            "activities": activities,
            "balance": account.balance if account else None,
            "verified": Residence.objects.filter(user=user, verified_at__isnull=False).exists(),
            "staff": rules.is_staff_anywhere(user),
            "reader": rules.may_read_commons(user),
        },
    )


# === Organisations ===========================================================================


@requires(rules.may_take_part)
def organisation_list(request: AuthedRequest) -> HttpResponse:
    rows = queries.organisations_for(request.user).order_by("-created_at", "-id")[:200]
    return render(
        request,
        "commons/organisations.html",
        {"rows": rows, "staff": rules.is_staff_anywhere(request.user)},
    )


@requires(rules.may_take_part)
def organisation_new(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        created: list = []

        def work() -> None:
            members = [
                orgs.MemberIn(name=line.strip())
                for line in request.POST.get("members", "").splitlines()
                if line.strip()
            ]
            created.append(
                orgs.file_organisation(
                    request.user,
                    community=_community_from(request),
                    name=request.POST.get("name", ""),
                    kind=request.POST.get("kind", ""),
                    purpose=request.POST.get("purpose", ""),
                    activity_area=request.POST.get("activity_area", ""),
                    members=members,
                    charter=request.FILES.get("charter"),
                    submit=True,
                )
            )

        if run(request, work, _("Your filing was submitted to the community for review.")):
            return redirect("commons:organisation", org_id=created[0].pk)
    return render(
        request,
        "commons/organisation_new.html",
        {
            "communities": _communities(request.user),
            "kinds": OrgKind.choices,
            "posted": defaultdict(str, request.POST.dict()),
        },
    )


@requires(rules.may_take_part)
def organisation_detail(request: AuthedRequest, org_id: int) -> HttpResponse:
    org = queries.organisations_for(request.user).filter(pk=org_id).first()
    if org is None:
        raise Http404
    user = request.user
    staff = rules.is_staff_of(user, org.community)
    own = user.pk in {org.created_by_id, org.leader_id}
    return render(
        request,
        "commons/organisation.html",
        {
            "org": org,
            "members": org.members.all(),
            "events": [
                {
                    "at": e.at,
                    "actor": present.name_of(e.actor),
                    "label": EVENT_LABELS.get(e.verb, ""),
                    "note": e.note,
                }
                for e in org.events.select_related("actor")
            ],
            "reports": org.annual_reports.all(),
            "staff": staff,
            "own": own,
            "street": rules.approves_for_street(user, org.community),
            "activities": org.activities.order_by("-starts_at")[:10],
            "proposals": org.proposals.order_by("-created_at")[:10],
        },
    )


EVENT_LABELS = {
    "file": gettext_lazy("Filing drafted"),
    "submit": gettext_lazy("Submitted for filing"),
    "edit": gettext_lazy("Draft amended"),
    "start_review": gettext_lazy("Review started"),
    "comment": gettext_lazy("Review comment"),
    "request_changes": gettext_lazy("Changes requested"),
    "approve": gettext_lazy("Filed / approved"),
    "escalate": gettext_lazy("Sent to the street for approval"),
    "refuse_approval": gettext_lazy("Approval refused"),
    "reject": pgettext_lazy("commons", "Rejected"),
    "suspend": gettext_lazy("Suspended"),
    "reinstate": gettext_lazy("Reinstated"),
    "dissolve": gettext_lazy("Dissolved"),
    "add_member": gettext_lazy("Member added"),
    "remove_member": gettext_lazy("Member left"),
    "annual_report": gettext_lazy("Annual report"),
    "activity": gettext_lazy("Activity published"),
}


ORG_VERBS: dict[str, tuple[Callable, Any]] = {
    "submit": (lambda r, o: orgs.submit_organisation(r.user, o), gettext_lazy("Submitted.")),
    "review": (lambda r, o: orgs.start_review(r.user, o), gettext_lazy("Review started.")),
    "comment": (
        lambda r, o: orgs.comment_on_review(r.user, o, r.POST.get("note", "")),
        gettext_lazy("Comment sent to the applicant."),
    ),
    "request_changes": (
        lambda r, o: orgs.request_changes(r.user, o, r.POST.get("reason", "")),
        gettext_lazy("Returned to the applicant for changes."),
    ),
    "approve": (
        lambda r, o: orgs.approve_organisation(r.user, o, r.POST.get("reason", "")),
        gettext_lazy("Decision recorded."),
    ),
    "reject": (
        lambda r, o: orgs.reject_organisation(r.user, o, r.POST.get("reason", "")),
        gettext_lazy("Filing rejected."),
    ),
    "street_approve": (
        lambda r, o: orgs.decide_approval(r.user, o, approve=True, reason=r.POST.get("reason", "")),
        gettext_lazy("Approved."),
    ),
    "street_refuse": (
        lambda r, o: orgs.decide_approval(
            r.user, o, approve=False, reason=r.POST.get("reason", "")
        ),
        gettext_lazy("Approval refused."),
    ),
    "suspend": (
        lambda r, o: orgs.suspend_organisation(r.user, o, r.POST.get("reason", "")),
        gettext_lazy("Suspended."),
    ),
    "reinstate": (lambda r, o: orgs.reinstate_organisation(r.user, o), gettext_lazy("Reinstated.")),
    "dissolve": (
        lambda r, o: orgs.dissolve_organisation(r.user, o, r.POST.get("reason", "")),
        gettext_lazy("Dissolved."),
    ),
    "edit": (
        lambda r, o: orgs.edit_organisation(
            r.user, o, purpose=r.POST.get("purpose"), activity_area=r.POST.get("activity_area")
        ),
        gettext_lazy("Saved."),
    ),
    "add_member": (
        lambda r, o: orgs.add_member(
            r.user, o, orgs.MemberIn(name=r.POST.get("name", ""), duty=r.POST.get("duty", ""))
        ),
        gettext_lazy("Member added."),
    ),
    "remove_member": (
        lambda r, o: orgs.remove_member(
            r.user, OrgMember.objects.get(organisation=o, pk=_int(r.POST.get("member"), "member"))
        ),
        gettext_lazy("Member removed."),
    ),
    "annual_report": (
        lambda r, o: orgs.submit_annual_report(
            r.user, o, year=_int(r.POST.get("year"), "year"), summary=r.POST.get("summary", "")
        ),
        gettext_lazy("Annual report submitted."),
    ),
}


@require_POST
@requires(rules.may_take_part)
def organisation_act(request: AuthedRequest, org_id: int, verb: str) -> HttpResponse:
    org = queries.organisations_for(request.user).filter(pk=org_id).first()
    if org is None or verb not in ORG_VERBS:
        raise Http404
    work, done = ORG_VERBS[verb]
    run(request, lambda: work(request, org), str(done))
    return redirect("commons:organisation", org_id=org.pk)


# === Household records =======================================================================


@requires(rules.may_take_part)
def residences(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        run(
            request,
            lambda: residence_actions.register_residence(
                user,
                community=_community_from(request),
                building=request.POST.get("building", ""),
                room=request.POST.get("room", ""),
                area_m2=request.POST.get("area_m2") or 0,
            ),
            _("Your household record was registered; community staff will verify it."),
        )
        return redirect("commons:residences")
    rows = queries.residences_for(user).order_by(
        "verified_at", "community__code", "building", "room"
    )[:300]
    return render(
        request,
        "commons/residences.html",
        {"rows": rows, "communities": _communities(user), "staff": rules.is_staff_anywhere(user)},
    )


@require_POST
@requires(rules.may_run_commons)
def residence_verify(request: AuthedRequest, residence_id: int) -> HttpResponse:
    row = queries.residences_for(request.user).filter(pk=residence_id).first()
    if row is None:
        raise Http404
    run(
        request,
        lambda: residence_actions.verify_residence(
            request.user, row, area_m2=request.POST.get("area_m2") or None
        ),
        _("Verified."),
    )
    return redirect("commons:residences")


# === Metrics =================================================================================


@requires(rules.may_read_commons)
def metrics_page(request: AuthedRequest) -> HttpResponse:
    communities = [
        p
        for p in Place.objects.filter(level=PlaceLevel.COMMUNITY).order_by("code")[:500]
        if scope.covers(request.user, p, rules.READER_ROLES)
    ]
    return render(
        request, "commons/metrics.html", {"rows": [metrics.participation(p) for p in communities]}
    )
