"""Deliberation (议事协商) in the six steps of Chinese community councils.

征集议题 collecting → 确定议题 agenda → 协商讨论 discussion → voting → 形成决议 resolved →
组织实施 implementing → 公示评估 evaluating → closed. A proposal that does not gather enough
supports, or that staff decline, ends as `declined`; one whose vote fails ends as `rejected`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.models import Place


class Origin(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    ORGANISATION = "organisation", _("Organisation")
    STAFF = "staff", _("Community staff")
    HOT_ISSUE = "hot_issue", _("Hot issue")
    APPEAL = "appeal", _("Appeal")


class Phase(models.TextChoices):
    COLLECTING = "collecting", _("Collecting supports")
    AGENDA = "agenda", _("On the agenda")
    DISCUSSION = "discussion", _("Under discussion")
    VOTING = "voting", _("Voting")
    RESOLVED = "resolved", pgettext_lazy("commons", "Resolved")
    IMPLEMENTING = "implementing", _("Being implemented")
    EVALUATING = "evaluating", _("Public report and evaluation")
    CLOSED = "closed", pgettext_lazy("commons", "Closed")
    DECLINED = "declined", _("Declined")
    REJECTED = "rejected", _("Rejected by vote")


class Proposal(models.Model):
    community = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("description"))
    origin = models.CharField(_("origin"), max_length=20, choices=Origin.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "commons.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("organisation"),
    )
    source_ref = models.CharField(_("source"), max_length=40, blank=True)
    building = models.CharField(_("building"), max_length=20, blank=True)
    phase = models.CharField(
        _("phase"), max_length=20, choices=Phase.choices, default=Phase.COLLECTING
    )
    support_threshold = models.PositiveIntegerField(_("supports needed"))
    supports_count = models.PositiveIntegerField(default=0)
    resolution = models.TextField(_("resolution"), blank=True)
    decline_reason = models.CharField(_("reason"), max_length=500, blank=True)
    public_report = models.TextField(_("public report"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    agenda_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "phase"])]

    def __str__(self) -> str:
        return self.title


class Support(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="support_once")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Comment(models.Model):
    """A threaded comment. It cannot be edited once someone replied; moderation hides it with a
    reason that stays visible in its place."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    hidden_reason = models.CharField(_("reason"), max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_reason)


class ProposalOption(models.Model):
    """An option proposed (and amended by its author) during discussion; becomes a vote option."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("option"), max_length=200)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class ImplementationTask(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=pgettext_lazy("commons", "owner"),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="task_progress")
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class ImplementationUpdate(models.Model):
    task = models.ForeignKey(ImplementationTask, on_delete=models.CASCADE, related_name="updates")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    note = models.TextField(_("note"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="commons/progress/%Y/%m/", blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Evaluation(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="evaluations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="evaluation_once"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1) & models.Q(rating__lte=5),
                name="evaluation_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class DeliberationRules(models.Model):
    """A community's support threshold: a proposal enters the agenda with at least
    max(`support_count`, ceil(`support_percent` % of verified residents)) supports."""

    community = models.OneToOneField(
        Place, on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    support_percent = models.PositiveSmallIntegerField(
        _("supports needed (percent of electors)"), default=5
    )
    support_count = models.PositiveIntegerField(_("supports needed (at least)"), default=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(support_percent__lte=100), name="rules_support_percent"
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
