"""Incidents (事件), plans (预案) with their response levels, tasks (任务), shelters (避难场所)
and after-action reviews (复盘).

An incident belongs to one owning place (`place`, the jurisdiction that runs it) and lists the
places it affects. Plans are versioned: a version is never edited after it exists, a change is a
new version, and an activation points at the version that was in force when it started — so a
review can always tell which rules were followed. Every row that records what happened (log
entries, activations, task reports, shelter stays) is append-only; a state is a column, never a
deletion.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.models import Place, Role, Unit

__all__ = [
    "OPEN_TASK_STATUSES",
    "ROMAN",
    "Activation",
    "Incident",
    "IncidentLog",
    "IncidentStatus",
    "IncidentType",
    "LogKind",
    "Plan",
    "PlanAction",
    "PlanLevel",
    "PlanPeople",
    "PlanReserve",
    "PlanVersion",
    "ResponseLevel",
    "Review",
    "ReviewAction",
    "ReviewChange",
    "Shelter",
    "ShelterStay",
    "Task",
    "TaskReport",
    "TaskStatus",
]


class IncidentType(models.TextChoices):
    PUBLIC_HEALTH = "public_health", _("Public health")
    FLOOD = "flood", _("Flood / waterlogging")
    FIRE = "fire", _("Fire")
    GAS = "gas", _("Gas")
    HEAT_COLD = "heat_cold", _("Heat or cold wave")
    OUTAGE = "outage", _("Power or water outage")
    SECURITY = "security", _("Public security")
    OTHER = "other", _("Other")


class ResponseLevel(models.IntegerChoices):
    """Response levels and severities share the national grading: I is the most serious."""

    I = 1, _("Level I (especially serious)")  # noqa: E741
    II = 2, _("Level II (serious)")
    III = 3, _("Level III (relatively serious)")
    IV = 4, _("Level IV (general)")


ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    VERIFIED = "verified", _("Verified")
    RESPONDING = "responding", _("Responding")
    RECOVERING = "recovering", _("Recovering")
    CLOSED = "closed", _("Closed")


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("type"), max_length=20, choices=IncidentType.choices)
    description = models.TextField(_("description"), blank=True)
    # The jurisdiction that runs the incident; every affected place lies inside it.
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    places = models.ManyToManyField(
        Place, verbose_name=_("affected places"), related_name="emergency_incidents"
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=ResponseLevel.choices)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=IncidentStatus.choices,
        default=IncidentStatus.REPORTED,
        db_index=True,
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    warnings = models.ManyToManyField(
        "warning.Warning", verbose_name=_("warnings"), blank=True, related_name="incidents"
    )
    appeals = models.ManyToManyField(
        "appeals.Appeal", verbose_name=_("appeals"), blank=True, related_name="incidents"
    )
    # The triage helper's hot issue this incident was opened from (its id, kept as text).
    hot_issue_ref = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="incident_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status == IncidentStatus.CLOSED

    @property
    def severity_roman(self) -> str:
        return ROMAN.get(self.severity, "")

    def current_activation(self) -> Activation | None:
        return self.activations.filter(ended_at=None).select_related("version__plan").first()


class LogKind(models.TextChoices):
    NOTE = "note", _("Note")
    STATUS = "status", _("Status change")
    ACTIVATION = "activation", _("Response level")
    TASK = "task", _("Task")
    SHELTER = "shelter", _("Shelter")
    LINK = "link", _("Link")


class IncidentLog(models.Model):
    """The live log: who said or did what, when. Append-only."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=LogKind.choices, default=LogKind.NOTE)
    text = models.TextField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]


# --- Plans ------------------------------------------------------------------------------------


class Plan(models.Model):
    """One plan per place and incident type; its content lives in numbered versions."""

    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("incident type"), max_length=20, choices=IncidentType.choices)
    title = models.CharField(_("title"), max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["place__code", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["place", "kind"], name="plan_one_per_place_and_type")
        ]

    def __str__(self) -> str:
        return self.title

    def version_in_force(self, at=None) -> PlanVersion | None:
        from django.utils import timezone

        at = at or timezone.now()
        return self.versions.filter(in_force_from__lte=at).order_by("-number").first()


class PlanVersion(models.Model):
    """A frozen version of a plan. Never edited once saved; a change is the next number."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    in_force_from = models.DateTimeField(_("in force from"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    # The review whose actions produced this version (the learning loop), if any.
    source_review = models.ForeignKey(
        "Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="plan_versions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class PlanLevel(models.Model):
    """One response level of a plan version: what to do, who does it, what to hold."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField(_("response level"), choices=ResponseLevel.choices)
    summary = models.TextField(_("when to use it"), blank=True)

    class Meta:
        ordering = ["version", "-level"]
        constraints = [models.UniqueConstraint(fields=["version", "level"], name="plan_level_once")]

    def __str__(self) -> str:
        return f"{self.version} · {ROMAN.get(self.level, '')}"

    @property
    def roman(self) -> str:
        return ROMAN.get(self.level, "")


class PlanAction(models.Model):
    """An action of a level; activation turns each one into a task for the responsible role."""

    level = models.ForeignKey(PlanLevel, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("action"), max_length=200)
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices)
    due_hours = models.PositiveIntegerField(_("due within (hours)"), default=2)

    class Meta:
        ordering = ["level", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(due_hours__gt=0), name="plan_action_due_positive")
        ]

    def __str__(self) -> str:
        return self.title


class PlanReserve(models.Model):
    """Reserves a level requires, per 1,000 residents of each affected community."""

    level = models.ForeignKey(PlanLevel, on_delete=models.CASCADE, related_name="reserves")
    item_code = models.CharField(_("item code"), max_length=40)
    per_thousand = models.DecimalField(_("per 1,000 residents"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["level", "item_code"]
        constraints = [
            models.UniqueConstraint(fields=["level", "item_code"], name="plan_reserve_once"),
            models.CheckConstraint(condition=Q(per_thousand__gt=0), name="plan_reserve_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item_code} × {self.per_thousand}"


class PlanPeople(models.Model):
    """People with a skill a level mobilises (call-ups are sent on activation)."""

    level = models.ForeignKey(PlanLevel, on_delete=models.CASCADE, related_name="people")
    skill_code = models.CharField(_("skill code"), max_length=40)
    count = models.PositiveIntegerField(_("people"))

    class Meta:
        ordering = ["level", "skill_code"]
        constraints = [
            models.UniqueConstraint(fields=["level", "skill_code"], name="plan_people_once"),
            models.CheckConstraint(condition=Q(count__gt=0), name="plan_people_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.skill_code} × {self.count}"


class Activation(models.Model):
    """A response level in force for an incident, from `started_at` until `ended_at`.

    Raising or lowering the level ends the current row and starts the next, so the timeline
    keeps every level and its clock. At most one open activation per incident.
    """

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="activations")
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="activations")
    level = models.PositiveSmallIntegerField(_("response level"), choices=ResponseLevel.choices)
    started_at = models.DateTimeField(_("activated at"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(ended_at__isnull=True),
                name="activation_one_open_per_incident",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident} · {ROMAN.get(self.level, '')}"

    @property
    def roman(self) -> str:
        return ROMAN.get(self.level, "")


# --- Tasks ------------------------------------------------------------------------------------


class TaskStatus(models.TextChoices):
    # With a context: the project catalogue's appeal states ("Accepted" 已受理) must not win.
    OPEN = "open", pgettext_lazy("task status", "Open")
    ACCEPTED = "accepted", pgettext_lazy("task status", "Accepted")
    IN_PROGRESS = "in_progress", pgettext_lazy("task status", "In progress")
    DONE = "done", pgettext_lazy("task status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("task status", "Cancelled")


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)


class Task(models.Model):
    """Work for a person, a team or a unit, with a deadline. A task nobody could be found for
    keeps its `role` so the board shows who should pick it up."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="tasks")
    activation = models.ForeignKey(
        Activation, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    plan_action = models.ForeignKey(
        PlanAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emergency_tasks",
    )
    team = models.ForeignKey(
        "emergency.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("handling unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deadline = models.DateTimeField(_("deadline"), db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    # 0 not escalated, 1 told the jurisdiction's staff, 2 told the leaders.
    escalation = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES


class TaskReport(models.Model):
    """A check-in report on a task: what was done, where, with photos. Append-only."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(_("report"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    photo = models.ImageField(_("photo"), upload_to="emergency/tasks/%Y/%m/", blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.note[:60]


# --- Shelters ---------------------------------------------------------------------------------


class Shelter(models.Model):
    """A shelter (避难场所). `occupancy` is moved only with F() under the row lock, and the
    database refuses a value above capacity — so two check-ins can never overfill it."""

    name = models.CharField(_("name"), max_length=120)
    place = models.ForeignKey(
        Place, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    occupancy = models.PositiveIntegerField(_("occupancy"), default=0)
    # Codes from `renzhi.emergency.shelters.FACILITIES`.
    facilities = models.JSONField(_("facilities"), default=list, blank=True)
    is_open = models.BooleanField(pgettext_lazy("emergency", "open"), default=True)

    class Meta:
        verbose_name = _("shelter")
        verbose_name_plural = _("shelters")
        ordering = ["place__code", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(occupancy__lte=F("capacity")), name="shelter_not_over_capacity"
            ),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="shelter_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ShelterStay(models.Model):
    """One party staying at a shelter, from check-in to check-out."""

    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="stays")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="shelter_stays"
    )
    name = models.CharField(_("name"), max_length=80)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    people = models.PositiveSmallIntegerField(_("people"), default=1)
    checked_in_at = models.DateTimeField()
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_out_at = models.DateTimeField(null=True, blank=True)
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(people__gt=0), name="shelter_stay_people_positive")
        ]

    def __str__(self) -> str:
        return self.name


# --- Reviews ----------------------------------------------------------------------------------


class Review(models.Model):
    """The after-action review of a closed incident. `figures` is the measured snapshot taken
    when the review was written (it must not drift when later data arrives)."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="review")
    summary = models.TextField(pgettext_lazy("emergency", "summary"))
    lessons = models.TextField(_("lessons"))
    figures = models.JSONField(default=dict)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.incident)


class ReviewChange(models.TextChoices):
    ADD_ACTION = "add_action", _("Add an action")
    SET_RESERVE = "set_reserve", _("Set a reserve norm")
    SET_PEOPLE = "set_people", _("Set people to mobilise")


class ReviewAction(models.Model):
    """A change a review asks of a plan; applying the review's actions makes a new version."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("response level"), choices=ResponseLevel.choices)
    change = models.CharField(_("change"), max_length=20, choices=ReviewChange.choices)
    # add_action: the action's title; set_reserve: item code; set_people: skill code.
    target = models.CharField(_("action or code"), max_length=200)
    role = models.CharField(_("responsible role"), max_length=20, choices=Role.choices, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    applied_version = models.ForeignKey(
        PlanVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.target
