"""Votes (表决): open with a fixed window, cast secretly, close and count.

Opening freezes the electorate: an `Elector` row for every resident verified by then, with the
floor area confirmed then; only they vote, with that weight, whatever happens to household
records afterwards. Casting locks the vote row, so parallel ballots queue on it: the
participation register and the sealed ballot box grow together, and `ballots_cast` equals both.
A second participation is refused under the lock, and the unique (vote, voter) constraint
refuses it again in the database. What was chosen is sealed in the box while the vote is open
and written to `Ballot` only at the count, shuffled (see `renzhi.commons.ballot_box`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.commons import ballot_box, ballots, rules
from renzhi.commons.actions.guards import forbid, locked, moment, refuse
from renzhi.commons.models import (
    Elector,
    Participation,
    PassRule,
    Phase,
    Proposal,
    QuorumRule,
    Residence,
    Vote,
    VoteMethod,
    VoteOption,
    VoteStatus,
)
from renzhi.core import audit, notify
from renzhi.core.errors import ErrorCode
from renzhi.core.models import User

MAX_DAYS = 60


@dataclass(frozen=True)
class CastResult:
    """`receipt` is shown to the voter once (only when the vote allows changes)."""

    receipt: str
    changed: bool


def open_vote(
    actor: User,
    proposal: Proposal,
    *,
    method: str,
    closes_at: dt.datetime,
    opens_at: dt.datetime | None = None,
    options: Sequence[str] = (),
    quorum_rule: str = QuorumRule.PERCENT,
    quorum_percent: int = 50,
    pass_rule: str = PassRule.SIMPLE,
    by_area: bool = False,
    allow_change: bool = False,
) -> Vote:
    """Staff open the vote on a discussed proposal; the electorate is fixed now."""
    if not rules.is_staff_of(actor, proposal.community):
        forbid(_("Only the community's staff open a vote."), "proposal")
    now = timezone.now()
    opens_at = moment(opens_at or now, "opens_at", past=dt.timedelta(days=1))
    closes_at = moment(closes_at, "closes_at", past=dt.timedelta(0))
    if method not in VoteMethod.values:
        refuse(_("Choose a voting method."), "method")
    if quorum_rule not in QuorumRule.values:
        refuse(_("Choose a quorum rule."), "quorum_rule")
    if pass_rule not in PassRule.values:
        refuse(_("Choose a pass threshold."), "pass_rule")
    if not 0 <= quorum_percent <= 100:
        refuse(_("Enter a share between 0 and 100."), "quorum_percent")
    if closes_at <= opens_at or closes_at <= now:
        refuse(_("The vote must close after it opens, in the future."), "closes_at")
    if closes_at - opens_at > dt.timedelta(days=MAX_DAYS):
        refuse(_("A vote lasts at most %(n)d days.") % {"n": MAX_DAYS}, "closes_at")
    labels = _labels(method, proposal, options)
    with transaction.atomic():
        proposal = locked(proposal)
        if proposal.phase != Phase.DISCUSSION:
            refuse(_("A vote follows the discussion."), "proposal", ErrorCode.INVALID_STATE)
        electors = Residence.objects.filter(
            community=proposal.community, verified_at__lte=min(opens_at, now)
        )
        if proposal.building:
            electors = electors.filter(building=proposal.building)
        size = electors.aggregate(n=Count("id"), area=Sum("area_m2"))
        if not size["n"]:
            refuse(
                _("The community has no verified residents to vote."),
                "proposal",
                ErrorCode.INVALID_STATE,
            )
        counts_area = by_area or quorum_rule == QuorumRule.DOUBLE_TWO_THIRDS
        if counts_area and not size["area"]:
            refuse(_("Counting by floor area needs the residents' floor areas."), "by_area")
        vote = Vote.objects.create(
            proposal=proposal,
            method=method,
            building=proposal.building,
            opens_at=opens_at,
            closes_at=closes_at,
            quorum_rule=quorum_rule,
            quorum_percent=quorum_percent,
            pass_rule=pass_rule,
            by_area=by_area,
            allow_change=allow_change,
            status=VoteStatus.OPEN,
            electorate_size=size["n"],
            electorate_area=size["area"] or 0,
        )
        # The electorate, frozen: who is verified now, with the area confirmed now.
        Elector.objects.bulk_create(
            [
                Elector(vote=vote, user_id=user_id, area_m2=area)
                for user_id, area in electors.values_list("user_id", "area_m2")
            ]
        )
        VoteOption.objects.bulk_create(
            [VoteOption(vote=vote, position=i, label=label) for i, label in enumerate(labels)]
        )
        proposal.phase = Phase.VOTING
        proposal.save(update_fields=["phase"])
        audit.record(
            actor, "commons.vote.open", vote, after={"method": method, "electorate": size["n"]}
        )
        voters = list(User.objects.filter(pk__in=electors.values("user")))
        notify.notify(
            voters,
            notify.Message(
                "commons.vote",
                _("A vote is open"),
                proposal.title,
                link=f"/commons/proposals/{proposal.pk}/",
                object_type="commons.proposal",
                object_id=str(proposal.pk),
            ),
        )
    return vote


def cast_vote(
    actor: User,
    vote: Vote,
    choice: Sequence[int] | int,
    *,
    receipt: str = "",
    on_behalf_of: User | None = None,
    proxy_note: str = "",
) -> CastResult:
    """One verified resident, one vote; staff may cast for an elderly resident (recorded)."""
    voter = on_behalf_of or actor
    community = vote.proposal.community
    if on_behalf_of is not None:
        if not rules.is_staff_of(actor, community):
            forbid(_("Only community staff cast a vote on someone's behalf."), "on_behalf_of")
        if not proxy_note.strip():
            refuse(
                _("Say why and with whose consent you vote on their behalf."),
                "proxy_note",
                ErrorCode.REQUIRED,
            )
        if receipt:
            refuse(_("A proxy vote cannot be changed."), "receipt")
    positions = list(vote.options.values_list("position", flat=True))
    picked = ballots.clean_choice(vote, choice, positions)
    with transaction.atomic():
        vote = locked(vote)
        _require_open(vote)
        # The electorate frozen at opening decides, not today's household records.
        elector = Elector.objects.filter(vote=vote, user=voter).first()
        if elector is None:
            forbid(
                _("Only residents verified before the vote opened can vote in it."),
                "on_behalf_of" if on_behalf_of is not None else "voter",
            )
        already = Participation.objects.filter(vote=vote, voter=voter).exists()
        if already:
            return _change(vote, voter, picked, receipt)
        Participation.objects.create(
            vote=vote,
            voter=voter,
            proxy=actor if on_behalf_of is not None else None,
            proxy_note=proxy_note.strip()[:200],
        )
        new_receipt = ballots.new_receipt() if vote.allow_change and on_behalf_of is None else ""
        ballot_box.put(
            vote,
            picked,
            elector.area_m2 if _counts_area(vote) else None,
            ballots.receipt_hash(vote, new_receipt) if new_receipt else "",
        )
        Vote.objects.filter(pk=vote.pk).update(ballots_cast=F("ballots_cast") + 1)
        # Who voted (and who cast it) is public record; what they chose is not in the event.
        audit.record(
            actor,
            "commons.vote.participate",
            vote,
            after={"voter": voter.pk, "proxy": actor.pk if on_behalf_of else None},
        )
    return CastResult(receipt=new_receipt, changed=False)


def close_vote(actor: User | None, vote: Vote, *, now: dt.datetime | None = None) -> Vote:
    """Count once the window has passed (a fixed window: nobody closes a vote early)."""
    now = now or timezone.now()
    if actor is not None and not rules.is_staff_of(actor, vote.proposal.community):
        forbid(_("Only the community's staff close a vote."), "vote")
    with transaction.atomic():
        vote = locked(vote)
        if vote.status == VoteStatus.CLOSED:
            refuse(_("This vote is already closed."), "vote", ErrorCode.INVALID_STATE)
        if now < vote.closes_at:
            refuse(
                _("The vote is still open until its closing time."), "vote", ErrorCode.INVALID_STATE
            )
        outcome = ballot_box.count_and_empty(vote)
        vote.result = outcome.as_json()
        vote.passed = outcome.passed
        vote.status = VoteStatus.CLOSED
        vote.save(update_fields=["result", "passed", "status"])
        proposal = locked(vote.proposal)
        if not outcome.passed:
            proposal.phase = Phase.REJECTED
            proposal.closed_at = now
            proposal.save(update_fields=["phase", "closed_at"])
        audit.record(
            actor,
            "commons.vote.close",
            vote,
            after={"passed": outcome.passed, "cast": outcome.cast},
        )
        notify.notify(
            proposal.author,
            notify.Message(
                "commons.vote",
                _("The vote is counted"),
                proposal.title,
                link=f"/commons/proposals/{proposal.pk}/",
            ),
        )
    return vote


def close_due_votes(now: dt.datetime | None = None) -> int:
    """Periodic task: count every vote whose window has passed."""
    now = now or timezone.now()
    closed = 0
    for vote in Vote.objects.filter(status=VoteStatus.OPEN, closes_at__lte=now).select_related(
        "proposal__community"
    ):
        close_vote(None, vote, now=now)
        closed += 1
    return closed


def _change(vote: Vote, voter: User, picked: list[int], receipt: str) -> CastResult:
    if not vote.allow_change:
        refuse(_("You have already voted in this vote."), "voter", ErrorCode.DUPLICATE)
    if not receipt.strip():
        refuse(
            _("You have already voted; enter your receipt to change your vote."),
            "receipt",
            ErrorCode.REQUIRED,
        )
    if not ballot_box.replace(vote, ballots.receipt_hash(vote, receipt), picked):
        refuse(_("This receipt does not match a ballot of this vote."), "receipt")
    audit.record(voter, "commons.vote.change", vote, after={"voter": voter.pk})
    return CastResult(receipt=receipt.strip(), changed=True)


def _require_open(vote: Vote) -> None:
    now = timezone.now()
    if vote.status != VoteStatus.OPEN or now >= vote.closes_at:
        refuse(_("The vote is closed."), "vote", ErrorCode.INVALID_STATE)
    if now < vote.opens_at:
        refuse(_("The vote has not opened yet."), "vote", ErrorCode.INVALID_STATE)


def _counts_area(vote: Vote) -> bool:
    return vote.by_area or vote.quorum_rule == QuorumRule.DOUBLE_TWO_THIRDS


def _labels(method: str, proposal: Proposal, options: Sequence[str]) -> list[str]:
    if method == VoteMethod.YES_NO:
        return [_("Yes"), _("No"), _("Abstain")]
    labels = [o.strip() for o in options if o and o.strip()]
    if not labels:
        labels = list(proposal.options.filter(withdrawn=False).values_list("label", flat=True))
    if len(labels) < 2:
        refuse(_("A choice needs at least two options."), "options")
    if len(set(labels)) != len(labels):
        refuse(_("Two options have the same text."), "options")
    return [label[:200] for label in labels]


__all__ = ["CastResult", "cast_vote", "close_due_votes", "close_vote", "open_vote"]
