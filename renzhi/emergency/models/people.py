"""People (人力资源) and the vulnerable register (重点人群).

A `PersonProfile` says what kind of helper an account is (social worker, volunteer, retired
cadre, community staff) and where they are; skills and certificates live in the shared core
`PersonSkill`, hours served in core `ServiceHours`. A `CallUp` mobilises one person for one
incident. The vulnerable register holds sensitive data: every read goes through
`renzhi.emergency.vulnerable.visible_residents`, which limits it to the community's staff and the
paired helper.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.models import Place

__all__ = [
    "NEEDS",
    "Availability",
    "CallUp",
    "CallUpStatus",
    "CheckIn",
    "CheckInOutcome",
    "PersonKind",
    "PersonProfile",
    "QualificationLevel",
    "Team",
    "TeamMember",
    "VulnerableCategory",
    "VulnerableResident",
]


class PersonKind(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Social worker")
    VOLUNTEER = "volunteer", _("Volunteer")
    RETIRED_CADRE = "retired_cadre", _("Retired cadre")
    COMMUNITY_STAFF = "community_staff", _("Community staff")


class QualificationLevel(models.TextChoices):
    NONE = "", _("None")
    ASSISTANT = "assistant", _("Assistant social worker")
    SOCIAL_WORKER = "social_worker", _("Social worker (intermediate)")
    SENIOR = "senior", _("Senior social worker")


class PersonProfile(models.Model):
    """A helper who can be mobilised. One per account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="emergency_profile",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PersonKind.choices)
    place = models.ForeignKey(
        Place, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    qualification_level = models.CharField(
        _("qualification level"),
        max_length=20,
        choices=QualificationLevel.choices,
        blank=True,
        default="",
    )
    certificate_no = models.CharField(_("certificate number"), max_length=64, blank=True)
    # Where the person usually is (home or office), for distance when finding candidates.
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    # Accident insurance for volunteers on duty (志愿者保险); None means not insured.
    insured_until = models.DateField(_("insured until"), null=True, blank=True)
    insurance_policy = models.CharField(_("insurance policy"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("person profile")
        verbose_name_plural = _("person profiles")
        ordering = ["place__code", "user__username"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=PersonKind.SOCIAL_WORKER) | ~Q(certificate_no=""),
                name="social_worker_has_certificate",
            ),
        ]

    def __str__(self) -> str:
        return self.user.display_name or self.user.username

    def insured_on(self, day) -> bool:
        return self.insured_until is not None and self.insured_until >= day


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class Availability(models.Model):
    """A weekly window when the person can be called up, and where (None: anywhere in
    their community)."""

    profile = models.ForeignKey(
        PersonProfile,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="availability",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        ordering = ["weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="availability_weekday"),
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")), name="availability_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile} · {self.weekday} {self.starts}-{self.ends}"


class Team(models.Model):
    """A standing team (应急分队) of a community or street."""

    name = models.CharField(_("name"), max_length=100)
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeamMember",
        verbose_name=_("members"),
        related_name="emergency_teams",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["place__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["place", "name"], name="team_name_once_per_place"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.user}"


class CallUpStatus(models.TextChoices):
    SENT = "sent", pgettext_lazy("call-up", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("call-up", "Accepted")
    DECLINED = "declined", pgettext_lazy("call-up", "Declined")
    CHECKED_IN = "checked_in", pgettext_lazy("call-up", "On duty")
    CHECKED_OUT = "checked_out", pgettext_lazy("call-up", "Checked out")
    CANCELLED = "cancelled", pgettext_lazy("call-up", "Cancelled")


class CallUp(models.Model):
    """One person called up for one incident (召集): sent → accepted/declined → on duty →
    checked out, with the hours served written to core `ServiceHours` at check-out."""

    incident = models.ForeignKey(
        "emergency.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="callups",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="emergency_callups",
    )
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CallUpStatus.choices, default=CallUpStatus.SENT
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=200, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    check_in_lat = models.FloatField(null=True, blank=True)
    check_in_lng = models.FloatField(null=True, blank=True)
    # Whether accident insurance covered the person when they went on duty.
    insured = models.BooleanField(_("insured on duty"), default=False)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("call-up")
        verbose_name_plural = _("call-ups")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="callup_once_per_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_status_display()}"


class VulnerableCategory(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    DISABLED = "disabled", pgettext_lazy("vulnerable category", "Disabled")
    CHRONICALLY_ILL = "chronically_ill", _("Chronically ill")
    PREGNANT = "pregnant", _("Pregnant")
    LEFT_BEHIND_CHILD = "left_behind_child", _("Child left behind")
    LOW_INCOME = "low_income", _("Low-income household")


NEEDS = {
    "medicine": _("Regular medicine"),
    "mobility": _("Mobility aid / cannot use stairs"),
    "oxygen": _("Home oxygen"),
    "dialysis": _("Dialysis"),
    "insulin": _("Insulin (cold chain)"),
    "hearing": _("Hearing impaired"),
    "sight": _("Visually impaired"),
    "cognitive": _("Dementia / cognitive"),
    "food": _("Food delivery"),
}


class VulnerableResident(models.Model):
    """A person on the vulnerable register. Sensitive: read only through
    `renzhi.emergency.vulnerable`, which scopes and masks."""

    place = models.ForeignKey(
        Place, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised code of `place` for scope filters without a join.
    place_code = models.CharField(max_length=15, db_index=True)
    name = models.CharField(_("full name"), max_length=50)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200)
    categories = models.JSONField(_("categories"), default=list)
    needs = models.JSONField(_("needs"), default=list)
    needs_note = models.CharField(_("needs in detail"), max_length=300, blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=50, blank=True)
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=20, blank=True
    )
    # Consent to be registered and contacted (知情同意): how and when, recorded by whom.
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_at = models.DateTimeField(_("consent recorded at"), null=True, blank=True)
    consent_method = models.CharField(_("consent method"), max_length=100, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("consent recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("paired helper"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="paired_residents",
    )
    paired_at = models.DateTimeField(_("paired at"), null=True, blank=True)
    last_reached_at = models.DateTimeField(_("last reached at"), null=True, blank=True)
    next_check_due = models.DateTimeField(_("next check due"), null=True, blank=True)
    missed_checks = models.PositiveSmallIntegerField(_("unanswered checks in a row"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vulnerable resident")
        verbose_name_plural = _("vulnerable residents")
        ordering = ["place_code", "name", "id"]
        indexes = [models.Index(fields=["place_code", "next_check_due"])]

    def __str__(self) -> str:
        return self.name


class CheckInOutcome(models.TextChoices):
    SAFE = "safe", _("Reached, safe")
    NEEDS_HELP = "needs_help", _("Reached, needs help")
    NO_ANSWER = "no_answer", _("No answer")


class CheckIn(models.Model):
    """One attempt to reach a vulnerable resident (探访/电话), in or outside an incident."""

    resident = models.ForeignKey(
        VulnerableResident,
        verbose_name=_("resident"),
        on_delete=models.CASCADE,
        related_name="checkins",
    )
    incident = models.ForeignKey(
        "emergency.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vulnerable_checkins",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=CheckInOutcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    escalated = models.BooleanField(_("escalated"), default=False)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["incident", "resident"])]

    def __str__(self) -> str:
        return f"{self.resident} · {self.get_outcome_display()}"
