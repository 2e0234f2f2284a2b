"""Votes (表决) with a secret ballot.

Who may vote, who voted and what was voted live in tables that share nothing but the vote:
- `Elector` (vote, user, floor area): the electorate frozen when the vote opened — who was a
  verified resident then, with the floor area confirmed then. Later verifications, new homes or
  edited areas do not change it.
- `Participation` (vote, voter, at, proxy): one row per elector — the register of who voted,
  unique per vote × voter, so a second vote is refused by the database too.
- `SealedBallot` (the ballot box): what a voter chose, sealed (encrypted and authenticated with
  a key derived from the server key) while the vote is open. It is written in the same
  transaction as the participation, so its position could pair it with the voter — which is why
  its content is sealed and why it is gone once the vote closes.
- `Ballot` (random UUID, vote, choice, bucketed area, receipt hash): written only when the vote
  closes, all at once and in a shuffled order, from the opened box. No voter, no participation
  id, no timestamp, no sequence; every ballot of a vote shares one transaction, so neither row
  order (rowid, ctid) nor the writing transaction (xmin) says whose it is. The floor area is
  rounded to a bucket so that an unusual flat does not name its owner.
See docs/security.md "Civic processes" and docs/commons-staff.md "无记名投票".
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VoteMethod(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no / abstain")
    SINGLE = "single", _("Single choice")
    RANKED = "ranked", _("Ranked (instant runoff)")
    APPROVAL = "approval", _("Approval")


class QuorumRule(models.TextChoices):
    NONE = "none", _("No quorum")
    PERCENT = "percent", _("Share of electors")
    DOUBLE_TWO_THIRDS = "double_two_thirds", _("Two thirds by area and by headcount")


class PassRule(models.TextChoices):
    SIMPLE = "simple", _("More than half")
    TWO_THIRDS = "two_thirds", _("At least two thirds")
    THREE_QUARTERS = "three_quarters", _("At least three quarters")


class VoteStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", pgettext_lazy("commons", "Open")
    CLOSED = "closed", pgettext_lazy("commons", "Closed")


class Vote(models.Model):
    proposal = models.OneToOneField(
        "commons.Proposal", on_delete=models.CASCADE, related_name="vote"
    )
    method = models.CharField(
        pgettext_lazy("commons", "method"), max_length=20, choices=VoteMethod.choices
    )
    building = models.CharField(_("building"), max_length=20, blank=True)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    quorum_rule = models.CharField(
        _("quorum"), max_length=20, choices=QuorumRule.choices, default=QuorumRule.PERCENT
    )
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (%)"), default=50)
    pass_rule = models.CharField(
        _("pass threshold"), max_length=20, choices=PassRule.choices, default=PassRule.SIMPLE
    )
    by_area = models.BooleanField(_("count floor area too"), default=False)
    allow_change = models.BooleanField(_("votes may be changed until close"), default=False)
    status = models.CharField(max_length=20, choices=VoteStatus.choices, default=VoteStatus.OPEN)
    # Snapshot of the electorate when the vote opened: the denominators of quorum and turnout.
    electorate_size = models.PositiveIntegerField(default=0)
    electorate_area = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    ballots_cast = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="vote_window"
            ),
            models.CheckConstraint(
                condition=models.Q(quorum_percent__lte=100), name="vote_quorum_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class VoteOption(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(_("option"), max_length=200)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "position"], name="vote_option_position")
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Elector(models.Model):
    """One elector of a vote, frozen when the vote opened (with the floor area confirmed then)."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="electors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    area_m2 = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "user"], name="elector_once")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Participation(models.Model):
    """Who voted (and who cast it for them). Nothing here says what they voted."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="participations")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proxy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proxy_note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "voter"], name="participation_once")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class SealedBallot(models.Model):
    """A ballot in the box while the vote is open: its content sealed, opened only at the count.

    `receipt_hash` (HMAC of the voter's secret receipt, or empty) lets a voter who holds the
    receipt replace their choice; it says nothing about who they are.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="sealed_ballots")
    sealed = models.TextField()
    receipt_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "receipt_hash"],
                condition=~models.Q(receipt_hash=""),
                name="sealed_ballot_receipt_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Ballot(models.Model):
    """What was voted. Deliberately without voter, participation, timestamp or sequence.

    Written only at the count, in a shuffled batch (see `renzhi.commons.ballot_box`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="ballots")
    # Option positions: [p] for yes/no and single choice, a preference order for ranked,
    # the approved set (sorted) for approval.
    choice = models.JSONField()
    # Floor area of the elector's home rounded to COMMONS_BALLOT_AREA_BUCKET m², kept only when
    # the vote counts area (双三分之二). The count itself uses the exact confirmed areas.
    weight_area = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # HMAC of the voter's secret receipt, only when votes may be changed; empty otherwise.
    receipt_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "receipt_hash"],
                condition=~models.Q(receipt_hash=""),
                name="ballot_receipt_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
