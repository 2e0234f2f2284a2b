"""Community organisations (社区社会组织) and their filing (备案) or approval (审批).

Status: draft → submitted → under review → filed (备案) or approved (审批, for kinds that
need the street's approval) → suspended → dissolved; a request for changes sends it back to
draft, a refusal ends it as rejected. Only filed or approved organisations act in their name.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.models import Place


class OrgKind(models.TextChoices):
    LIFE_SERVICE = "life_service", _("Life service")
    CULTURE_SPORTS = "culture_sports", _("Culture and sports")
    MUTUAL_AID = "mutual_aid", _("Mutual aid")
    CHARITY = "charity", _("Charity")
    MEDIATION = "mediation", _("Mediation")


# Kinds that raise money or settle disputes need the street's approval (审批), not only filing.
APPROVAL_KINDS = frozenset({OrgKind.CHARITY, OrgKind.MEDIATION})


class OrgStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting street approval")
    FILED = "filed", _("Filed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", pgettext_lazy("commons", "Rejected")
    SUSPENDED = "suspended", _("Suspended")
    DISSOLVED = "dissolved", _("Dissolved")


ACTIVE_STATUSES = frozenset({OrgStatus.FILED, OrgStatus.APPROVED})


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    community = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    purpose = models.TextField(_("purpose"))
    activity_area = models.CharField(_("activity area"), max_length=200)
    charter = models.FileField(_("charter"), upload_to="commons/charters/%Y/%m/", blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_organisations",
        verbose_name=_("leader"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrgStatus.choices, default=OrgStatus.DRAFT
    )
    decision_reason = models.CharField(_("reason"), max_length=500, blank=True)
    filing_no = models.CharField(_("filing number"), max_length=32, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="organisation_name_once")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def needs_approval(self) -> bool:
        return self.kind in APPROVAL_KINDS

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class OrgMember(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=50)
    duty = models.CharField(_("duty"), max_length=50, blank=True)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=models.Q(user__isnull=False),
                name="org_member_once",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrgEvent(models.Model):
    """The organisation's log: review comments, decisions, reports, activities held."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    verb = models.CharField(max_length=32)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class AnnualReport(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="annual_reports"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    summary = models.TextField(pgettext_lazy("commons", "summary"))
    members_count = models.PositiveIntegerField(_("members"), default=0)
    activities_count = models.PositiveIntegerField(_("activities"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year"], name="annual_report_once")
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
