"""Organisations, household records and the support threshold (see renzhi/commons/api.py)."""

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Router
from ninja.pagination import paginate

from renzhi.commons import metrics, present, queries, rules
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.actions import proposals as proposal_actions
from renzhi.commons.actions import residence as residence_actions
from renzhi.commons.models import OrgMember
from renzhi.commons.schemas import (
    AnnualReportIn,
    DecideIn,
    MemberInSchema,
    NoteIn,
    OrganisationDetailOut,
    OrganisationEditIn,
    OrganisationIn,
    OrganisationOut,
    ReasonIn,
    ResidenceIn,
    ResidenceOut,
    RulesIn,
)
from renzhi.core import scope
from renzhi.core.errors import PermissionRefused
from renzhi.core.http import AuthedRequest
from renzhi.core.pagination import Page
from renzhi.core.text import QueryText

router = Router()


def _api():
    from renzhi.commons import api

    return api


def _org(request: AuthedRequest, org_id: int):
    return _api().get_visible(queries.organisations_for(request.auth), org_id, "organisation")


@router.get("/organisations", response=list[OrganisationOut], summary="Organisations I may see")
@paginate(Page)
def list_organisations(
    request: AuthedRequest, status: QueryText | None = None, community: QueryText | None = None
):
    qs = queries.organisations_for(request.auth).order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if community:
        qs = qs.filter(community__code=community)
    return [present.organisation(o) for o in qs]


@router.post(
    "/organisations", response={201: OrganisationDetailOut}, summary="File an organisation"
)
def create_organisation(request: AuthedRequest, data: OrganisationIn):
    api = _api()
    community = api.place_by_code(data.community_code)
    leader = (
        api.user_by_name(data.leader_username, "leader_username") if data.leader_username else None
    )
    members = [
        orgs.MemberIn(
            name=m.name,
            duty=m.duty,
            user=api.user_by_name(m.username, "members") if m.username else None,
        )
        for m in data.members
    ]
    org = orgs.file_organisation(
        request.auth,
        community=community,
        name=data.name,
        kind=data.kind,
        purpose=data.purpose,
        activity_area=data.activity_area,
        leader=leader,
        members=members,
        submit=data.submit,
    )
    return 201, present.organisation_detail(org)


@router.get("/organisations/{org_id}", response=OrganisationDetailOut, summary="One organisation")
def get_organisation(request: AuthedRequest, org_id: int):
    return present.organisation_detail(_org(request, org_id))


def _verb(path: str, summary: str):
    return router.post(
        f"/organisations/{{org_id}}/{path}", response=OrganisationDetailOut, summary=summary
    )


@_verb("submit", "Submit the filing")
def submit(request: AuthedRequest, org_id: int):
    return present.organisation_detail(
        orgs.submit_organisation(request.auth, _org(request, org_id))
    )


@_verb("edit", "Amend a draft")
def edit(request: AuthedRequest, org_id: int, data: OrganisationEditIn):
    org = orgs.edit_organisation(
        request.auth, _org(request, org_id), purpose=data.purpose, activity_area=data.activity_area
    )
    return present.organisation_detail(org)


@_verb("review", "Start reviewing (staff)")
def review(request: AuthedRequest, org_id: int):
    return present.organisation_detail(orgs.start_review(request.auth, _org(request, org_id)))


@_verb("comment", "Comment on the filing (staff)")
def comment(request: AuthedRequest, org_id: int, data: NoteIn):
    org = _org(request, org_id)
    orgs.comment_on_review(request.auth, org, data.note)
    return present.organisation_detail(org)


@_verb("request-changes", "Ask the applicant for changes (staff)")
def request_changes(request: AuthedRequest, org_id: int, data: ReasonIn):
    return present.organisation_detail(
        orgs.request_changes(request.auth, _org(request, org_id), data.reason)
    )


@_verb("approve", "Accept the filing (staff); kinds needing approval go to the street")
def approve(request: AuthedRequest, org_id: int, data: ReasonIn):
    return present.organisation_detail(
        orgs.approve_organisation(request.auth, _org(request, org_id), data.reason)
    )


@_verb("decide-approval", "Approve or refuse at street level (审批)")
def decide_approval(request: AuthedRequest, org_id: int, data: DecideIn):
    org = orgs.decide_approval(
        request.auth, _org(request, org_id), approve=data.approve, reason=data.reason
    )
    return present.organisation_detail(org)


@_verb("reject", "Reject the filing with a reason (staff)")
def reject(request: AuthedRequest, org_id: int, data: ReasonIn):
    return present.organisation_detail(
        orgs.reject_organisation(request.auth, _org(request, org_id), data.reason)
    )


@_verb("suspend", "Suspend (staff)")
def suspend(request: AuthedRequest, org_id: int, data: ReasonIn):
    return present.organisation_detail(
        orgs.suspend_organisation(request.auth, _org(request, org_id), data.reason)
    )


@_verb("reinstate", "Lift a suspension (staff)")
def reinstate(request: AuthedRequest, org_id: int, data: ReasonIn):
    return present.organisation_detail(
        orgs.reinstate_organisation(request.auth, _org(request, org_id), data.reason)
    )


@_verb("dissolve", "Dissolve (leader or staff)")
def dissolve(request: AuthedRequest, org_id: int, data: ReasonIn):
    return present.organisation_detail(
        orgs.dissolve_organisation(request.auth, _org(request, org_id), data.reason)
    )


@_verb("members", "Add a member (leader or staff)")
def add_member(request: AuthedRequest, org_id: int, data: MemberInSchema):
    org = _org(request, org_id)
    user = _api().user_by_name(data.username, "username") if data.username else None
    orgs.add_member(request.auth, org, orgs.MemberIn(name=data.name, duty=data.duty, user=user))
    return present.organisation_detail(org)


@router.post(
    "/organisations/{org_id}/members/{member_id}/remove",
    response=OrganisationDetailOut,
    summary="Remove a member (leader or staff)",
)
def remove_member(request: AuthedRequest, org_id: int, member_id: int):
    org = _org(request, org_id)
    member = _api().get_visible(OrgMember.objects.filter(organisation=org), member_id, "member")
    orgs.remove_member(request.auth, member)
    return present.organisation_detail(org)


@_verb("annual-reports", "Submit the annual report (leader or staff)")
def annual_report(request: AuthedRequest, org_id: int, data: AnnualReportIn):
    org = _org(request, org_id)
    orgs.submit_annual_report(request.auth, org, year=data.year, summary=data.summary)
    return present.organisation_detail(org)


# --- Household records ----------------------------------------------------------------------


@router.get("/residences", response=list[ResidenceOut], summary="Household records I may see")
@paginate(Page)
def list_residences(
    request: AuthedRequest, community: QueryText | None = None, verified: bool | None = None
):
    qs = queries.residences_for(request.auth).order_by("community__code", "building", "room")
    if community:
        qs = qs.filter(community__code=community)
    if verified is not None:
        qs = qs.filter(verified_at__isnull=not verified)
    return [present.residence(r) for r in qs]


@router.post("/residences", response={201: ResidenceOut}, summary="Register a household record")
def create_residence(request: AuthedRequest, data: ResidenceIn):
    api = _api()
    row = residence_actions.register_residence(
        request.auth,
        community=api.place_by_code(data.community_code),
        building=data.building,
        room=data.room,
        area_m2=data.area_m2,
        user=api.user_by_name(data.username, "username") if data.username else None,
        verify=data.verify,
    )
    return 201, present.residence(row)


@router.post("/residences/{residence_id}/verify", response=ResidenceOut, summary="Verify (staff)")
def verify_residence(request: AuthedRequest, residence_id: int, area_m2: Decimal | None = None):
    """Staff confirm the record and its floor area (`area_m2`, else the area recorded)."""
    row = _api().get_visible(queries.residences_for(request.auth), residence_id, "residence")
    return present.residence(residence_actions.verify_residence(request.auth, row, area_m2=area_m2))


# --- Support threshold and metrics -----------------------------------------------------------


@router.post("/rules", response=dict, summary="Set a community's support threshold (staff)")
def set_rules(request: AuthedRequest, data: RulesIn):
    community = _api().place_by_code(data.community_code)
    config = proposal_actions.set_support_rules(
        request.auth, community, percent=data.support_percent, count=data.support_count
    )
    return {
        "community_code": community.code,
        "support_percent": config.support_percent,
        "support_count": config.support_count,
        "threshold_now": proposal_actions.support_threshold(community),
    }


@router.get("/metrics", response=list[dict], summary="Participation metrics per community")
def participation_metrics(request: AuthedRequest, community: QueryText | None = None):
    """For readers over communities (staff, leaders); each community of their jurisdiction."""
    codes = scope.jurisdiction_codes(request.auth, rules.READER_ROLES)
    from renzhi.core.models import Place, PlaceLevel

    qs = Place.objects.filter(level=PlaceLevel.COMMUNITY)
    if codes is not None:
        if not codes:
            raise PermissionRefused(_("Your role does not give access to participation metrics."))
        condition = Q(pk__in=[])
        for code in codes:
            condition |= Q(code__startswith=code)
        qs = qs.filter(condition)
    if community:
        qs = qs.filter(code=community)
    return [metrics.participation(p).as_dict() for p in qs.order_by("code")[:500]]
