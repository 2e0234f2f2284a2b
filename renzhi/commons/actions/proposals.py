"""Deliberation (议事协商) in six steps.

征集议题 → 确定议题 → 协商讨论 → 形成决议 → 组织实施 → 公示评估.

Supports move a proposal onto the agenda when they reach its threshold; staff open the
discussion, then a vote (`actions.votes`), record the resolution, track its implementation,
publish the public report; residents evaluate; staff close it.
"""

from __future__ import annotations

import datetime as dt
import math

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.commons import origins, rules
from renzhi.commons.actions.guards import day, forbid, locked, refuse, text, wrong_state
from renzhi.commons.actions.organisations import may_act_for
from renzhi.commons.models import (
    Comment,
    DeliberationRules,
    Evaluation,
    ImplementationTask,
    ImplementationUpdate,
    Organisation,
    Origin,
    Phase,
    Proposal,
    ProposalOption,
    Residence,
    Support,
    VoteStatus,
)
from renzhi.core import audit, notify, uploads
from renzhi.core.errors import ErrorCode
from renzhi.core.models import Membership, Place, PlaceLevel, Role, User

P = Phase
TALKING = {P.COLLECTING, P.AGENDA, P.DISCUSSION, P.VOTING}
DEFAULT_PERCENT = 5
DEFAULT_COUNT = 3


def support_threshold(community: Place) -> int:
    """max(N, ceil(p % of verified residents)), at least 1 — fixed when the proposal is raised."""
    config = DeliberationRules.objects.filter(community=community).first()
    percent = config.support_percent if config else DEFAULT_PERCENT
    minimum = config.support_count if config else DEFAULT_COUNT
    electors = Residence.objects.filter(community=community, verified_at__isnull=False).count()
    return max(1, minimum, math.ceil(percent * electors / 100))


def set_support_rules(
    actor: User, community: Place, *, percent: int, count: int
) -> DeliberationRules:
    if not rules.is_staff_of(actor, community):
        forbid(_("Only the community's staff set the support threshold."), "community")
    if not 0 <= percent <= 100:
        refuse(_("Enter a share between 0 and 100."), "support_percent")
    if count < 1 or count > 100000:
        refuse(_("Enter a number of supports of at least 1."), "support_count")
    with transaction.atomic():
        config, _created = DeliberationRules.objects.select_for_update().get_or_create(
            community=community, defaults={"support_percent": percent, "support_count": count}
        )
        config.support_percent, config.support_count = percent, count
        config.save()
        audit.record(actor, "commons.rules.set", config, after={"percent": percent, "count": count})
    return config


def raise_proposal(
    actor: User,
    *,
    community: Place,
    title: str,
    body: str,
    organisation: Organisation | None = None,
    source: str = "",
    source_ref: str = "",
    building: str = "",
) -> Proposal:
    """征集议题: a resident, an organisation (by its leader), or staff raise a proposal."""
    if community.level != PlaceLevel.COMMUNITY:
        refuse(_("Choose a community."), "community")
    staff = rules.is_staff_of(actor, community)
    if organisation is not None:
        if organisation.community_id != community.pk or not may_act_for(actor, organisation):
            forbid(
                _("Only the leader of a filed organisation raises proposals in its name."),
                "organisation",
            )
        origin = Origin.ORGANISATION
    elif source in (Origin.HOT_ISSUE, Origin.APPEAL):
        if not staff and not rules.is_resident_of(actor, community):
            forbid(_("You can raise proposals only in your own community."), "community")
        source_ref = origins.check(actor, community, source, source_ref)
        origin = Origin(source)
    elif staff:
        origin = Origin.STAFF
    elif rules.is_resident_of(actor, community):
        origin = Origin.RESIDENT
    else:
        forbid(_("You can raise proposals only in your own community."), "community")
    title = text(title, "title", max_length=120)
    body = text(body, "body", max_length=8000)
    with transaction.atomic():
        proposal = Proposal.objects.create(
            community=community,
            title=title,
            body=body,
            origin=origin,
            author=actor,
            organisation=organisation,
            source_ref=source_ref.strip()[:40]
            if origin in (Origin.HOT_ISSUE, Origin.APPEAL)
            else "",
            building=building.strip()[:20],
            support_threshold=support_threshold(community),
        )
        audit.record(actor, "commons.proposal.raise", proposal, after={"origin": origin})
    return proposal


def support(actor: User, proposal: Proposal) -> Proposal:
    """One verified resident, one support; the threshold puts the proposal on the agenda."""
    if not rules.is_elector(actor, proposal.community, proposal.building):
        forbid(_("Only verified residents of the community can support proposals."), "proposal")
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != P.COLLECTING:
            refuse(
                _("This proposal no longer collects supports."), "proposal", ErrorCode.INVALID_STATE
            )
        try:
            with transaction.atomic():
                Support.objects.create(proposal=proposal, user=actor)
        except IntegrityError:
            refuse(_("You have already supported this proposal."), "proposal", ErrorCode.DUPLICATE)
        Proposal.objects.filter(pk=proposal.pk).update(supports_count=F("supports_count") + 1)
        proposal.refresh_from_db()
        audit.record(actor, "commons.proposal.support", proposal)
        if proposal.supports_count >= proposal.support_threshold:
            _to_agenda(proposal, None)
    return proposal


def set_agenda(actor: User, proposal: Proposal) -> Proposal:
    """确定议题: staff put a proposal on the agenda (residents' proposals need their supports)."""
    _require_staff(actor, proposal)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != P.COLLECTING:
            wrong_state("phase")
        # Only what staff raised skips the supports; a resident's appeal origin still needs them.
        needs_supports = proposal.origin in (Origin.RESIDENT, Origin.ORGANISATION) or not (
            rules.is_staff_of(proposal.author, proposal.community)
        )
        if needs_supports and proposal.supports_count < proposal.support_threshold:
            refuse(
                _("This proposal has not reached its support threshold yet."),
                "supports",
                ErrorCode.INVALID_STATE,
            )
        _to_agenda(proposal, actor)
    return proposal


def decline(actor: User, proposal: Proposal, reason: str) -> Proposal:
    _require_staff(actor, proposal)
    reason = text(reason, "reason", max_length=500)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase not in (P.COLLECTING, P.AGENDA, P.DISCUSSION):
            wrong_state("phase")
        proposal.decline_reason = reason
        _phase(proposal, actor, P.DECLINED, extra=["decline_reason"])
        _tell_author(proposal, _("Your proposal was declined"), reason)
    return proposal


def open_discussion(actor: User, proposal: Proposal) -> Proposal:
    """协商讨论 starts."""
    _require_staff(actor, proposal)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != P.AGENDA:
            wrong_state("phase")
        _phase(proposal, actor, P.DISCUSSION)
    return proposal


def comment(actor: User, proposal: Proposal, body: str, parent: Comment | None = None) -> Comment:
    _require_voice(actor, proposal)
    body = text(body, "body", max_length=2000)
    if parent is not None and parent.proposal_id != proposal.pk:
        refuse(_("The comment you reply to belongs to another proposal."), "parent")
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase not in TALKING:
            refuse(_("The discussion of this proposal is over."), "body", ErrorCode.INVALID_STATE)
        row = Comment.objects.create(proposal=proposal, author=actor, body=body, parent=parent)
        audit.record(actor, "commons.proposal.comment", proposal, after={"comment": row.pk})
    return row


def edit_comment(actor: User, row: Comment, body: str) -> Comment:
    """Edits are allowed until someone replies: a reply must keep meaning what it answered."""
    if row.author_id != actor.pk:
        forbid(_("You can edit only your own comments."), "comment")
    body = text(body, "body", max_length=2000)
    with transaction.atomic():
        row = locked(row)
        if row.hidden_reason:
            refuse(_("A hidden comment cannot be edited."), "body", ErrorCode.INVALID_STATE)
        if Comment.objects.filter(parent=row).exists():
            refuse(
                _("Someone has replied to this comment; it can no longer be edited."),
                "body",
                ErrorCode.INVALID_STATE,
            )
        before = row.body
        row.body, row.edited_at = body, timezone.now()
        row.save(update_fields=["body", "edited_at"])
        audit.record(
            actor, "commons.comment.edit", row, before={"body": before}, after={"body": body}
        )
    return row


def hide_comment(actor: User, row: Comment, reason: str) -> Comment:
    """Moderation: the comment is hidden, the reason is shown in its place."""
    _require_staff(actor, row.proposal)
    reason = text(reason, "reason", max_length=300)
    with transaction.atomic():
        row = locked(row)
        if row.hidden_reason:
            wrong_state("comment")
        row.hidden_reason, row.hidden_by = reason, actor
        row.save(update_fields=["hidden_reason", "hidden_by"])
        audit.record(actor, "commons.comment.hide", row, after={"reason": reason})
    return row


def propose_option(actor: User, proposal: Proposal, label: str) -> ProposalOption:
    _require_voice(actor, proposal)
    label = text(label, "label", max_length=200)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != P.DISCUSSION:
            refuse(
                _("Options are proposed during the discussion."), "label", ErrorCode.INVALID_STATE
            )
        if proposal.options.filter(label=label, withdrawn=False).exists():
            refuse(_("This option was already proposed."), "label", ErrorCode.DUPLICATE)
        option = ProposalOption.objects.create(proposal=proposal, label=label, proposed_by=actor)
        audit.record(actor, "commons.proposal.option", proposal, after={"label": label})
    return option


def amend_option(actor: User, option: ProposalOption, label: str) -> ProposalOption:
    if option.proposed_by_id != actor.pk and not rules.is_staff_of(
        actor, option.proposal.community
    ):
        forbid(_("Only its proposer or staff amend an option."), "option")
    label = text(label, "label", max_length=200)
    with transaction.atomic():
        proposal = locked(option.proposal)
        if proposal.phase != P.DISCUSSION:
            refuse(
                _("Options can be amended only during the discussion."),
                "label",
                ErrorCode.INVALID_STATE,
            )
        option = locked(option)
        before = option.label
        option.label, option.amended_at = label, timezone.now()
        option.save(update_fields=["label", "amended_at"])
        audit.record(
            actor, "commons.option.amend", option, before={"label": before}, after={"label": label}
        )
    return option


def record_resolution(actor: User, proposal: Proposal, resolution: str) -> Proposal:
    """形成决议: after a passed vote, staff write down what was decided."""
    _require_staff(actor, proposal)
    resolution = text(resolution, "resolution", max_length=8000)
    with transaction.atomic():
        proposal = locked(proposal)
        vote = getattr(proposal, "vote", None)
        if proposal.phase != P.VOTING or vote is None or vote.status != VoteStatus.CLOSED:
            refuse(_("A resolution follows a closed vote."), "resolution", ErrorCode.INVALID_STATE)
        if not vote.passed:
            refuse(
                _("The vote did not pass; there is nothing to resolve."),
                "resolution",
                ErrorCode.INVALID_STATE,
            )
        proposal.resolution = resolution
        proposal.resolved_at = timezone.now()
        _phase(proposal, actor, P.RESOLVED, extra=["resolution", "resolved_at"])
        _tell_followers(proposal, _("A resolution was adopted"))
    return proposal


def add_task(
    actor: User, proposal: Proposal, *, title: str, owner: User, due_on: dt.date | None = None
) -> ImplementationTask:
    """组织实施: a task with an owner; the first task starts the implementation."""
    _require_staff(actor, proposal)
    title = text(title, "title", max_length=200)
    if due_on is not None:
        due_on = day(due_on, "due_on", past=dt.timedelta(days=30))
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase not in (P.RESOLVED, P.IMPLEMENTING):
            wrong_state("phase")
        task = ImplementationTask.objects.create(
            proposal=proposal, title=title, owner=owner, due_on=due_on
        )
        audit.record(actor, "commons.task.add", proposal, after={"task": title, "owner": owner.pk})
        if proposal.phase == P.RESOLVED:
            _phase(proposal, actor, P.IMPLEMENTING)
        notify.notify(
            owner,
            notify.Message(
                "commons.task",
                _("You own an implementation task"),
                title,
                link=f"/commons/proposals/{proposal.pk}/",
            ),
        )
    return task


def report_progress(
    actor: User,
    task: ImplementationTask,
    *,
    progress: int,
    note: str = "",
    photo: UploadedFile | None = None,
) -> ImplementationUpdate:
    if task.owner_id != actor.pk and not rules.is_staff_of(actor, task.proposal.community):
        forbid(_("Only the task's owner or staff report progress."), "task")
    if not 0 <= progress <= 100:
        refuse(_("Progress is a percentage from 0 to 100."), "progress")
    note = text(note, "note", max_length=2000, required=False)
    checked = None
    if photo is not None:
        from renzhi.commons.photos import check_photo

        checked = check_photo(photo, "photo")
    with transaction.atomic():
        proposal = locked(task.proposal)
        if proposal.phase != P.IMPLEMENTING:
            wrong_state("phase")
        task = locked(task)
        if task.done_at is not None:
            refuse(_("This task is already done."), "progress", ErrorCode.INVALID_STATE)
        update = ImplementationUpdate(task=task, actor=actor, progress=progress, note=note)
        if checked is not None:
            uploads.store(update.photo, checked)
        update.save()
        task.progress = progress
        task.done_at = timezone.now() if progress == 100 else None
        task.save(update_fields=["progress", "done_at"])
        audit.record(actor, "commons.task.progress", task, after={"progress": progress})
    return update


def publish_report(actor: User, proposal: Proposal, report: str) -> Proposal:
    """公示评估: every task done, the public report opens the residents' evaluation."""
    _require_staff(actor, proposal)
    report = text(report, "report", max_length=8000)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != P.IMPLEMENTING:
            wrong_state("phase")
        if proposal.tasks.filter(done_at__isnull=True).exists():
            refuse(
                _("Every task must be done before the public report."),
                "report",
                ErrorCode.INVALID_STATE,
            )
        proposal.public_report = report
        _phase(proposal, actor, P.EVALUATING, extra=["public_report"])
        _tell_followers(proposal, _("The public report is out: please evaluate"))
    return proposal


def evaluate(actor: User, proposal: Proposal, *, rating: int, comment_text: str = "") -> Evaluation:
    if not rules.is_resident_of(actor, proposal.community):
        forbid(_("Only residents of the community evaluate."), "proposal")
    if not 1 <= rating <= 5:
        refuse(_("Choose a rating from 1 to 5."), "rating")
    comment_text = text(comment_text, "comment", max_length=500, required=False)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != P.EVALUATING:
            refuse(
                _("This proposal is not open for evaluation."), "rating", ErrorCode.INVALID_STATE
            )
        try:
            with transaction.atomic():
                row = Evaluation.objects.create(
                    proposal=proposal, user=actor, rating=rating, comment=comment_text
                )
        except IntegrityError:
            refuse(_("You have already evaluated this proposal."), "rating", ErrorCode.DUPLICATE)
        audit.record(actor, "commons.proposal.evaluate", proposal, after={"rating": rating})
    return row


def close_proposal(actor: User, proposal: Proposal) -> Proposal:
    _require_staff(actor, proposal)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != P.EVALUATING:
            wrong_state("phase")
        proposal.closed_at = timezone.now()
        _phase(proposal, actor, P.CLOSED, extra=["closed_at"])
    return proposal


# --- Internals -------------------------------------------------------------------------------


def _to_agenda(proposal: Proposal, actor: User | None) -> None:
    proposal.agenda_at = timezone.now()
    _phase(proposal, actor, P.AGENDA, extra=["agenda_at"])
    staff = [
        m.user
        for m in Membership.objects.filter(
            role=Role.COMMUNITY_STAFF, place=proposal.community
        ).select_related("user")
    ]
    notify.notify(
        [*staff, proposal.author],
        notify.Message(
            "commons.proposal",
            _("A proposal is on the agenda"),
            proposal.title,
            link=f"/commons/proposals/{proposal.pk}/",
            object_type="commons.proposal",
            object_id=str(proposal.pk),
        ),
    )


def _phase(proposal: Proposal, actor: User | None, to: str, extra: list[str] | None = None) -> None:
    before = proposal.phase
    proposal.phase = to
    proposal.save(update_fields=["phase", *(extra or [])])
    audit.record(
        actor, f"commons.proposal.{to}", proposal, before={"phase": before}, after={"phase": to}
    )


def _require_staff(actor: User, proposal: Proposal) -> None:
    if not rules.is_staff_of(actor, proposal.community):
        forbid(_("Only the community's staff may do this."), "proposal")


def _require_voice(actor: User, proposal: Proposal) -> None:
    if not (
        rules.is_resident_of(actor, proposal.community)
        or rules.is_staff_of(actor, proposal.community)
    ):
        forbid(
            _("Only residents and staff of the community take part in its deliberation."),
            "proposal",
        )


def _tell_author(proposal: Proposal, title: str, body: str = "") -> None:
    notify.notify(
        proposal.author,
        notify.Message(
            "commons.proposal",
            title,
            body or proposal.title,
            link=f"/commons/proposals/{proposal.pk}/",
        ),
    )


def _tell_followers(proposal: Proposal, title: str) -> None:
    supporters = list(
        User.objects.filter(pk__in=Support.objects.filter(proposal=proposal).values("user"))
    )
    notify.notify(
        [proposal.author, *supporters],
        notify.Message(
            "commons.proposal", title, proposal.title, link=f"/commons/proposals/{proposal.pk}/"
        ),
    )
