"""Triage data: trained model versions, one suggestion per appeal, urgency rules, hot issues.

A `ModelVersion` is one trained classifier file (heads: category, unit, urgency) plus what it
measured on data it did not train on (out-of-fold): per-class precision/recall/F1, the
confusion matrix and the per-class confidence thresholds that hit the target precision (the
urgency head: one threshold on p(urgent) chosen for recall, see `urgency_model`). Exactly
one version per head is active (a partial unique constraint), so switching and rolling back
are one transaction each.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renzhi.appeals.models import Appeal, Category
from renzhi.core.models import Place, Unit


class Head(models.TextChoices):
    CATEGORY = "category", _("Category")
    UNIT = "unit", _("Handling unit")
    URGENCY = "urgency", _("Urgency")


class ModelVersion(models.Model):
    head = models.CharField(_("head"), max_length=10, choices=Head.choices)
    file = models.CharField(_("model file"), max_length=300)
    created_at = models.DateTimeField(_("trained at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rows = models.PositiveIntegerField(_("training rows"), default=0)
    classes = models.JSONField(default=list)
    names = models.JSONField(default=dict)  # label → display name at training time
    accuracy = models.FloatField(_("accuracy"), default=0)
    macro_f1 = models.FloatField(_("macro F1"), default=0)
    per_class = models.JSONField(default=dict)  # label → {precision, recall, f1, support}
    confusion = models.JSONField(default=list)  # rows: true class, columns: predicted
    thresholds = models.JSONField(default=dict)  # label → confidence for automatic routing
    target_precision = models.FloatField(default=0.95)
    auto_share = models.FloatField(default=0)  # validation rows above their threshold
    auto_precision = models.FloatField(null=True, blank=True)  # precision on those rows
    fit_seconds = models.FloatField(default=0)
    # Head-specific numbers; the urgency head keeps its recall-oriented measures here
    # (threshold, target and achieved recall, precision, flagged share, rules vs model).
    measures = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["head"], condition=Q(active=True), name="triage_one_active_per_head"
            )
        ]

    def __str__(self) -> str:
        return f"{self.head} #{self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class Decision(models.TextChoices):
    AUTO = "auto", _("Routed automatically")
    QUEUED = "queued", _("Waiting in the triage queue")
    ACCEPTED = "accepted", _("Suggestion accepted")
    CORRECTED = "corrected", _("Corrected by the dispatcher")


class TriageSuggestion(models.Model):
    """What triage proposed for one appeal and what the dispatcher finally chose."""

    appeal = models.OneToOneField(Appeal, on_delete=models.PROTECT, related_name="triage")
    created_at = models.DateTimeField(default=timezone.now)
    category_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unit_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    categories = models.JSONField(default=list)  # top 3: [[code, probability], …]
    units = models.JSONField(default=list)  # top 3: [[code, probability], …]
    auto_category = models.BooleanField(default=False)
    auto_unit = models.BooleanField(default=False)
    urgent = models.BooleanField(default=False)
    urgent_phrases = models.JSONField(default=list)
    urgency_score = models.FloatField(default=0)
    urgency_probability = models.FloatField(null=True, blank=True)  # the urgency model's, if any
    urgent_by_model = models.BooleanField(default=False)  # the model flagged it (rules or not)
    similar = models.JSONField(default=list)  # near-duplicate open appeals: [[no, score], …]
    status = models.CharField(max_length=10, choices=Decision.choices, default=Decision.QUEUED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    final_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    final_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("triage suggestion")
        verbose_name_plural = _("triage suggestions")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.status}"


class UrgencyRule(models.Model):
    """A phrase that marks danger to life or property; weights add up, 1.0 makes it urgent."""

    phrase = models.CharField(_("phrase"), max_length=50, unique=True)
    weight = models.FloatField(_("weight"), default=1.0)
    enabled = models.BooleanField(_("enabled"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("urgency rule")
        verbose_name_plural = _("urgency rules")
        ordering = ["-weight", "phrase"]

    def __str__(self) -> str:
        return f"{self.phrase} ({self.weight})"


class HotIssue(models.Model):
    """One cluster of similar appeals in one area over the last days (热点问题)."""

    computed_at = models.DateTimeField(db_index=True)
    current = models.BooleanField(default=True)  # from the latest refresh
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    rank = models.PositiveIntegerField()
    heat = models.FloatField(_("heat"))
    count = models.PositiveIntegerField(_("appeals"))
    recent = models.PositiveIntegerField(default=0)  # in the later half of the window
    earlier = models.PositiveIntegerField(default=0)  # in the earlier half
    residents = models.PositiveIntegerField(_("distinct residents"))
    concentration = models.FloatField(_("place concentration"))
    title = models.CharField(max_length=100)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    community = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    street = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    place_code = models.CharField(max_length=15, blank=True, db_index=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    points = models.JSONField(default=list)  # [[lat, lng], …] of the members that have one
    representatives = models.JSONField(default=list)  # tracking numbers, most typical first
    appeals = models.ManyToManyField(Appeal, related_name="+")

    class Meta:
        verbose_name = _("hot issue")
        verbose_name_plural = _("hot issues")
        ordering = ["rank"]
        indexes = [models.Index(fields=["current", "rank"])]

    def __str__(self) -> str:
        return self.title
