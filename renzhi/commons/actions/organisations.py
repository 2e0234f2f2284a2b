"""Filing (备案) and approval (审批) of community organisations, their members and reports.

Community staff review; kinds in `APPROVAL_KINDS` go on to the street's leader for approval.
Four eyes: nobody decides on an organisation they created, lead, belong to *or ever belonged
to* (a member who left to review it is still barred), or whose filing they submitted, edited or
reported on — the organisation's own log (`OrgEvent`) and member rows are the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from renzhi.commons import rules
from renzhi.commons.actions.guards import forbid, locked, refuse, text, wrong_state
from renzhi.commons.models import (
    Activity,
    AnnualReport,
    Organisation,
    OrgEvent,
    OrgKind,
    OrgMember,
    OrgStatus,
)
from renzhi.commons.photos import check_charter
from renzhi.core import audit, notify, uploads
from renzhi.core.errors import ErrorCode
from renzhi.core.models import Place, PlaceLevel, User

S = OrgStatus
REVIEWABLE = {S.SUBMITTED, S.UNDER_REVIEW}


@dataclass(frozen=True)
class MemberIn:
    name: str
    duty: str = ""
    user: User | None = None


def file_organisation(
    actor: User,
    *,
    community: Place,
    name: str,
    kind: str,
    purpose: str,
    activity_area: str,
    leader: User | None = None,
    members: list[MemberIn] | None = None,
    charter: UploadedFile | None = None,
    submit: bool = False,
) -> Organisation:
    """Create the filing as a draft (or submit it at once)."""
    if community.level != PlaceLevel.COMMUNITY:
        refuse(_("Choose a community."), "community")
    if not (rules.is_resident_of(actor, community) or rules.is_staff_of(actor, community)):
        forbid(_("You can file an organisation only in your own community."), "community")
    if kind not in OrgKind.values:
        refuse(_("Choose a kind of organisation."), "kind")
    checked_charter = check_charter(charter) if charter is not None else None
    fields = {
        "name": text(name, "name", max_length=100),
        "purpose": text(purpose, "purpose", max_length=4000),
        "activity_area": text(activity_area, "activity_area", max_length=200),
    }
    with transaction.atomic():
        if Organisation.objects.filter(community=community, name=fields["name"]).exists():
            refuse(
                _("An organisation with this name already exists in the community."),
                "name",
                ErrorCode.DUPLICATE,
            )
        org = Organisation.objects.create(
            community=community,
            kind=kind,
            leader=leader or actor,
            created_by=actor,
            **fields,
        )
        if checked_charter is not None:
            uploads.store(org.charter, checked_charter)
            org.save(update_fields=["charter"])
        head = leader or actor
        OrgMember.objects.create(
            organisation=org,
            user=head,
            name=head.display_name or head.username,
            duty=pgettext("commons", "Leader"),
        )
        for member in members or []:
            _add_member(org, member)
        _log(org, actor, "file", "", S.DRAFT)
        audit.record(actor, "commons.organisation.file", org, after={"kind": kind})
        if submit:
            _move(org, actor, "submit", S.SUBMITTED)
            org.submitted_at = timezone.now()
            org.save(update_fields=["status", "submitted_at", "updated_at"])
    return org


def submit_organisation(actor: User, org: Organisation) -> Organisation:
    _require_applicant(actor, org)
    with transaction.atomic():
        org = locked(org)
        if org.status != S.DRAFT:
            wrong_state()
        _move(org, actor, "submit", S.SUBMITTED)
        org.submitted_at = timezone.now()
        org.save(update_fields=["status", "submitted_at", "updated_at"])
        _notify_staff(org, _("An organisation was submitted for filing"))
    return org


def edit_organisation(
    actor: User, org: Organisation, *, purpose: str | None = None, activity_area: str | None = None
) -> Organisation:
    """The applicant amends a draft (e.g. after staff asked for changes)."""
    _require_applicant(actor, org)
    with transaction.atomic():
        org = locked(org)
        if org.status != S.DRAFT:
            wrong_state()
        if purpose is not None:
            org.purpose = text(purpose, "purpose", max_length=4000)
        if activity_area is not None:
            org.activity_area = text(activity_area, "activity_area", max_length=200)
        org.save()
        _log(org, actor, "edit", S.DRAFT, S.DRAFT)
        audit.record(actor, "commons.organisation.edit", org)
    return org


def start_review(actor: User, org: Organisation) -> Organisation:
    _require_reviewer(actor, org)
    with transaction.atomic():
        org = locked(org)
        if org.status != S.SUBMITTED:
            wrong_state()
        _move(org, actor, "start_review", S.UNDER_REVIEW)
        org.save(update_fields=["status", "updated_at"])
    return org


def comment_on_review(actor: User, org: Organisation, note: str) -> OrgEvent:
    _require_reviewer(actor, org)
    note = text(note, "note", max_length=2000)
    with transaction.atomic():
        org = locked(org)
        event = _log(org, actor, "comment", org.status, org.status, note)
        audit.record(actor, "commons.organisation.comment", org, after={"note": note})
        notify.notify(
            org.created_by,
            notify.Message("commons.organisation", _("Staff commented on your filing"), note),
        )
    return event


def request_changes(actor: User, org: Organisation, reason: str) -> Organisation:
    _require_reviewer(actor, org)
    reason = text(reason, "reason", max_length=500)
    with transaction.atomic():
        org = locked(org)
        if org.status not in REVIEWABLE:
            wrong_state()
        org.decision_reason = reason
        _move(org, actor, "request_changes", S.DRAFT, reason)
        org.save(update_fields=["status", "decision_reason", "updated_at"])
        _tell_applicant(org, _("Please amend your filing"), reason)
    return org


def approve_organisation(actor: User, org: Organisation, reason: str = "") -> Organisation:
    """Community staff accept the filing: filed, or sent to the street for approval (审批)."""
    _require_reviewer(actor, org)
    _refuse_own(actor, org)
    with transaction.atomic():
        org = locked(org)
        if org.status not in REVIEWABLE:
            wrong_state()
        org.decision_reason = reason.strip()[:500]
        if org.needs_approval:
            _move(org, actor, "escalate", S.AWAITING_APPROVAL, reason)
            org.save(update_fields=["status", "decision_reason", "updated_at"])
            _notify_street(org)
        else:
            _activate(org, actor, S.FILED, reason)
    return org


def decide_approval(
    actor: User, org: Organisation, *, approve: bool, reason: str = ""
) -> Organisation:
    """The street's leader approves (审批) or refuses an escalated organisation."""
    if not rules.approves_for_street(actor, org.community):
        forbid(_("Only a leader of the street approves this organisation."), "organisation")
    _refuse_own(actor, org)
    if not approve:
        reason = text(reason, "reason", max_length=500)
    with transaction.atomic():
        org = locked(org)
        if org.status != S.AWAITING_APPROVAL:
            wrong_state()
        if approve:
            _activate(org, actor, S.APPROVED, reason)
        else:
            org.decision_reason = reason
            _move(org, actor, "refuse_approval", S.REJECTED, reason)
            org.save(update_fields=["status", "decision_reason", "updated_at"])
            _tell_applicant(org, _("Your organisation was not approved"), reason)
    return org


def reject_organisation(actor: User, org: Organisation, reason: str) -> Organisation:
    _require_reviewer(actor, org)
    _refuse_own(actor, org)
    reason = text(reason, "reason", max_length=500)
    with transaction.atomic():
        org = locked(org)
        if org.status not in REVIEWABLE:
            wrong_state()
        org.decision_reason = reason
        _move(org, actor, "reject", S.REJECTED, reason)
        org.save(update_fields=["status", "decision_reason", "updated_at"])
        _tell_applicant(org, _("Your filing was rejected"), reason)
    return org


def suspend_organisation(actor: User, org: Organisation, reason: str) -> Organisation:
    _require_reviewer(actor, org)
    reason = text(reason, "reason", max_length=500)
    with transaction.atomic():
        org = locked(org)
        if not org.is_active:
            wrong_state()
        org.decision_reason = reason
        _move(org, actor, "suspend", S.SUSPENDED, reason)
        org.save(update_fields=["status", "decision_reason", "updated_at"])
        _tell_applicant(org, _("Your organisation was suspended"), reason)
    return org


def reinstate_organisation(actor: User, org: Organisation, reason: str = "") -> Organisation:
    _require_reviewer(actor, org)
    with transaction.atomic():
        org = locked(org)
        if org.status != S.SUSPENDED:
            wrong_state()
        target = S.APPROVED if org.needs_approval else S.FILED
        _move(org, actor, "reinstate", target, reason)
        org.save(update_fields=["status", "updated_at"])
    return org


def dissolve_organisation(actor: User, org: Organisation, reason: str) -> Organisation:
    """The leader dissolves it, or staff do (e.g. after a long suspension)."""
    if not (org.leader_id == actor.pk or rules.is_staff_of(actor, org.community)):
        forbid(_("Only the leader or community staff dissolve an organisation."), "organisation")
    reason = text(reason, "reason", max_length=500)
    with transaction.atomic():
        org = locked(org)
        if org.status not in {S.FILED, S.APPROVED, S.SUSPENDED}:
            wrong_state()
        org.decision_reason = reason
        _move(org, actor, "dissolve", S.DISSOLVED, reason)
        org.save(update_fields=["status", "decision_reason", "updated_at"])
    return org


def add_member(actor: User, org: Organisation, member: MemberIn) -> OrgMember:
    _require_runner(actor, org)
    with transaction.atomic():
        org = locked(org)
        if org.status in {S.DISSOLVED, S.REJECTED}:
            wrong_state()
        row = _add_member(org, member)
        _log(org, actor, "add_member", org.status, org.status, row.name)
        audit.record(actor, "commons.organisation.add_member", org, after={"name": row.name})
    return row


def remove_member(actor: User, member: OrgMember) -> OrgMember:
    org = member.organisation
    _require_runner(actor, org)
    if member.user_id is not None and member.user_id == org.leader_id:
        refuse(_("The leader cannot be removed; name a new leader first."), "member")
    with transaction.atomic():
        member = locked(member)
        if member.left_on is not None:
            wrong_state("member")
        member.left_on = timezone.localdate()
        member.save(update_fields=["left_on"])
        _log(org, actor, "remove_member", org.status, org.status, member.name)
        audit.record(actor, "commons.organisation.remove_member", org, after={"name": member.name})
    return member


def submit_annual_report(
    actor: User, org: Organisation, *, year: int, summary: str
) -> AnnualReport:
    _require_runner(actor, org)
    summary = text(summary, "summary", max_length=8000)
    this_year = timezone.localdate().year
    if year < 2000 or year > this_year:
        refuse(_("Choose a year up to this year."), "year")
    with transaction.atomic():
        org = locked(org)
        if org.status not in {S.FILED, S.APPROVED, S.SUSPENDED}:
            wrong_state()
        if AnnualReport.objects.filter(organisation=org, year=year).exists():
            refuse(
                _("The report for this year was already submitted."), "year", ErrorCode.DUPLICATE
            )
        report = AnnualReport.objects.create(
            organisation=org,
            year=year,
            summary=summary,
            members_count=org.members.filter(left_on__isnull=True).count(),
            activities_count=Activity.objects.filter(
                organisation=org, starts_at__year=year
            ).count(),
            submitted_by=actor,
        )
        _log(org, actor, "annual_report", org.status, org.status, str(year))
        audit.record(actor, "commons.organisation.annual_report", org, after={"year": year})
    return report


def may_act_for(user: User, org: Organisation) -> bool:
    """Leader or creator of an active organisation may publish in its name."""
    return org.is_active and user.pk in {org.leader_id, org.created_by_id}


# --- Internals -------------------------------------------------------------------------------


def _activate(org: Organisation, actor: User, status: str, reason: str) -> None:
    org.filed_at = timezone.now()
    org.filing_no = org.filing_no or f"{org.community.code[-6:]}-{org.pk:05d}"
    _move(org, actor, "approve", status, reason)
    org.save(update_fields=["status", "decision_reason", "filed_at", "filing_no", "updated_at"])
    _tell_applicant(org, _("Your organisation is filed"), reason)


def _move(org: Organisation, actor: User, verb: str, to: str, note: str = "") -> None:
    before = org.status
    org.status = to
    _log(org, actor, verb, before, to, note)
    audit.record(
        actor, f"commons.organisation.{verb}", org, before={"status": before}, after={"status": to}
    )


def _log(
    org: Organisation, actor: User | None, verb: str, before: str, after: str, note: str = ""
) -> OrgEvent:
    return OrgEvent.objects.create(
        organisation=org, actor=actor, verb=verb, from_status=before, to_status=after, note=note
    )


def _add_member(org: Organisation, member: MemberIn) -> OrgMember:
    name = text(
        member.name or (member.user.display_name if member.user else ""), "members", max_length=50
    )
    try:
        with transaction.atomic():
            return OrgMember.objects.create(
                organisation=org,
                user=member.user,
                name=name,
                duty=(member.duty or "")[:50],
                joined_on=timezone.localdate(),
            )
    except IntegrityError:
        refuse(_("This person is already a member."), "members", ErrorCode.DUPLICATE)


def _require_applicant(actor: User, org: Organisation) -> None:
    if actor.pk not in {org.created_by_id, org.leader_id}:
        forbid(_("Only the applicant or the leader may do this."), "organisation")


def _require_runner(actor: User, org: Organisation) -> None:
    if actor.pk != org.leader_id and not rules.is_staff_of(actor, org.community):
        forbid(_("Only the leader or community staff may do this."), "organisation")


def _require_reviewer(actor: User, org: Organisation) -> None:
    if not rules.is_staff_of(actor, org.community):
        forbid(_("Only the community's staff review organisations."), "organisation")


APPLICANT_VERBS = ("file", "submit", "edit", "annual_report", "add_member", "remove_member")


def _refuse_own(actor: User, org: Organisation) -> None:
    own = (
        actor.pk in {org.created_by_id, org.leader_id}
        or org.members.filter(user=actor).exists()  # past members too
        or org.events.filter(actor=actor, verb__in=APPLICANT_VERBS).exists()
    )
    if own:
        forbid(_("You cannot decide on an organisation you belong to."), "organisation")


def _tell_applicant(org: Organisation, title: str, body: str = "") -> None:
    notify.notify(
        list({org.created_by_id: org.created_by, org.leader_id: org.leader}.values()),
        notify.Message(
            "commons.organisation",
            title,
            body,
            link=f"/commons/organisations/{org.pk}/",
            object_type="commons.organisation",
            object_id=str(org.pk),
        ),
    )


def _notify_staff(org: Organisation, title: str) -> None:
    from renzhi.core.models import Membership, Role

    staff = [
        m.user
        for m in Membership.objects.filter(
            role=Role.COMMUNITY_STAFF, place=org.community
        ).select_related("user")
    ]
    notify.notify(
        staff,
        notify.Message(
            "commons.organisation",
            title,
            org.name,
            link=f"/commons/organisations/{org.pk}/",
            object_type="commons.organisation",
            object_id=str(org.pk),
        ),
    )


def _notify_street(org: Organisation) -> None:
    from renzhi.core.models import Membership, Role

    leaders = [
        m.user
        for m in Membership.objects.filter(
            role=Role.LEADER, place__pk=org.community.parent_id or 0
        ).select_related("user")
    ]
    notify.notify(
        leaders,
        notify.Message(
            "commons.organisation",
            _("An organisation awaits the street's approval"),
            org.name,
            link=f"/commons/organisations/{org.pk}/",
            object_type="commons.organisation",
            object_id=str(org.pk),
        ),
    )
