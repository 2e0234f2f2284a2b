"""Appeals (诉求): one record per resident need or risk signal, whatever channel it came from.

The case moves through the states of `renzhi.appeals.states`; every step appends an
`AppealEvent` to its timeline (全程留痕). Place codes and the community/street are denormalised
onto the appeal so scoped lists and 三率 metrics need no joins over millions of rows.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renzhi.core.models import Place, Unit, UnitKind


def new_public_id() -> str:
    """A random public id for an appeal (128 bits, URL-safe, 22 characters)."""
    return secrets.token_urlsafe(16)


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    HOTLINE = "hotline", _("Hotline")
    PATROL = "patrol", _("Grid patrol")
    API = "api", _("Partner API")
    IMPORT = "import", _("Excel import")
    OPEN311 = "open311", _("Open311")


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    DISPATCHED = "dispatched", _("Dispatched")
    SIGNED = "signed", _("Signed for")
    HANDLING = "handling", _("Handling")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged")


OPEN_STATES = [
    State.RECEIVED,
    State.ACCEPTED,
    State.DISPATCHED,
    State.SIGNED,
    State.HANDLING,
    State.SUSPENDED,
]
FINAL_STATES = [State.REJECTED, State.CLOSED, State.WITHDRAWN, State.MERGED]


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Not satisfied")


class Category(models.Model):
    """Two-level appeal category tree (一级/二级分类)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    default_unit_kind = models.CharField(
        _("default unit kind"), max_length=20, choices=UnitKind.choices, blank=True
    )
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    public = models.BooleanField(_("open to residents"), default=True)
    # Published as an Open311 service (its published appeals readable by anyone): off until an
    # administrator decides, since even a category name can be sensitive (see docs/open311.md).
    open311_public = models.BooleanField(_("published on Open311"), default=False)
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name

    @property
    def top(self) -> Category:
        return self.parent if self.parent_id and self.parent else self


class SlaRule(models.Model):
    """Deadlines by category and priority.

    The most specific rule wins: the category's own, then its parent's, then the default."""

    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("category")
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    sign_hours = models.FloatField(_("sign within (working hours)"))
    resolve_days = models.FloatField(_("resolve within (working days)"))
    warn_ratio = models.FloatField(_("warn at share of time used"), default=0.8)

    class Meta:
        verbose_name = _("SLA rule")
        verbose_name_plural = _("SLA rules")
        constraints = [
            # NULL category = the default rule; partial indexes keep both unique on SQLite too.
            models.UniqueConstraint(
                fields=["category", "priority"],
                name="sla_rule_unique",
                condition=Q(category__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["priority"],
                name="sla_rule_default_unique",
                condition=Q(category__isnull=True),
            ),
            models.CheckConstraint(
                condition=Q(sign_hours__gt=0)
                & Q(resolve_days__gt=0)
                & Q(warn_ratio__gt=0)
                & Q(warn_ratio__lt=1),
                name="sla_rule_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} {self.priority}: {self.sign_hours}h / {self.resolve_days}d"


class RoutingRule(models.Model):
    """Category × place → handling unit. A rule applies to its place's whole subtree; a rule
    without category is the default for that place (e.g. one per street)."""

    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("category")
    )
    place = models.ForeignKey(Place, on_delete=models.CASCADE, verbose_name=_("place"))
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, verbose_name=_("unit"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "place", "unit"],
                name="routing_rule_unique",
                condition=Q(category__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["place", "unit"],
                name="routing_rule_default_unique",
                condition=Q(category__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} @ {self.place} → {self.unit}"


class Appeal(models.Model):
    tracking_no = models.CharField(_("tracking number"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.RECEIVED
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("category")
    )
    category_top = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first-level category"),
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    description = models.TextField(_("description"))

    # Where: the grid found from lat/lng (or chosen), with its community and street denormalised.
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("grid"),
    )
    community = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("community"),
    )
    street = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("street"),
    )
    place_code = models.CharField(max_length=15, blank=True, db_index=True)

    # Who.
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        verbose_name=_("resident"),
    )
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    anonymous = models.BooleanField(_("hide my identity from others"), default=False)
    # The resident's consent at intake to publish the appeal (redacted, location coarsened) on
    # Open311; appeals filed through Open311 are published without it. See docs/open311.md.
    public = models.BooleanField(_("publish on the open data service"), default=False)
    # The id the public sees (Open311 service_request_id): random, so it tells nothing about
    # the tracking number, the date or how many appeals there are.
    public_id = models.CharField(
        max_length=24, unique=True, null=True, blank=True, editable=False, default=new_public_id
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    external_ref = models.CharField(max_length=100, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    # Handling.
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("handling unit")
    )
    escalation_level = models.CharField(max_length=10, default="", blank=True)
    supervised = models.BooleanField(_("under supervision"), default=False)
    supervise_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    return_count = models.PositiveIntegerField(default=0)
    transfer_count = models.PositiveIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
        verbose_name=_("merged into"),
    )
    state_before_suspend = models.CharField(max_length=12, blank=True)
    result = models.TextField(_("result"), blank=True)

    # Clock (UTC). Deadlines move when time is suspended or an extension is approved.
    received_at = models.DateTimeField(_("received at"), db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    first_dispatched_at = models.DateTimeField(null=True, blank=True)
    sign_deadline = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_in_time = models.BooleanField(null=True)
    resolve_deadline = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_in_time = models.BooleanField(null=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    handling_hours = models.FloatField(null=True, blank=True)  # working hours dispatch → resolve

    # Feedback.
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    feedback = models.TextField(_("feedback"), blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="appeal_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="appeal_rating_range",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "received_at"]),
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["community", "received_at"]),
            models.Index(fields=["street", "received_at"]),
            models.Index(fields=["category_top", "received_at"]),
            models.Index(fields=["resident", "received_at"]),
            models.Index(fields=["overdue", "state"]),
            # For the 三率 dashboard and its daily rollup (see renzhi.appeals.rollup).
            models.Index(fields=["first_dispatched_at"], name="appeal_first_dispatched_idx"),
            models.Index(fields=["updated_at"], name="appeal_updated_idx"),
            models.Index(
                fields=["resolve_deadline"],
                condition=Q(overdue=True),
                name="appeal_overdue_deadline_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_no

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AppealEvent(models.Model):
    """One step of an appeal's timeline. Append-only."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    verb = models.CharField(max_length=30)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    public = models.BooleanField(default=True)  # shown to the resident
    automatic = models.BooleanField(default=False)  # done by the system, not a person
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["appeal", "at"])]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.verb}"


class Attachment(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(
        AppealEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.ImageField(upload_to="appeals/%Y/%m/")
    thumbnail = models.ImageField(upload_to="appeals/thumbs/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.file.name or ""


class ExtensionRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="extensions")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    days = models.FloatField(_("extra working days"))
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"], condition=Q(status="pending"), name="one_pending_extension"
            ),
            models.CheckConstraint(condition=Q(days__gt=0), name="extension_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} +{self.days}d"


class TrackingCounter(models.Model):
    """Last tracking number issued per local day; incremented under a row lock."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class ImportJob(models.Model):
    """One Excel/CSV bulk intake file and its progress (see `renzhi.appeals.actions.imports`).

    The uploaded bytes are kept in the row (not under MEDIA_ROOT: they hold phone numbers) until
    the job finishes. `errors` lists every bad row as {row, column, message}; a job with errors
    wrote no appeal. `processed` counts rows done in the current phase (validating, importing).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking rows")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Rejected: rows with errors")
        ERROR = "error", _("Stopped by an internal error")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    filename = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(max_length=10)  # xlsx | csv
    language = models.CharField(max_length=10, blank=True)  # messages in the importer's language
    content = models.BinaryField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows processed"), default=0)
    created = models.PositiveIntegerField(_("appeals created"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.ERROR)
