"""Data of the early-warning app: series and their counts, detector settings, signals,
graded warnings with their CAP messages, and the distribution channels (subscriptions,
webhooks, delivery log).

A series is (source, place, category); its daily counts live in `SeriesCount`, weekly sums in
`SeriesWeek`. Appeals are the first source; other apps can add sources later by writing counts
with another `source` value (the detection job does not care where counts come from).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.core.datebounds import displayable
from renzhi.core.models import Place


class Level(models.IntegerChoices):
    """Grade of a warning: I is the most severe (red), IV the least (blue)."""

    I = 1, _("Level I (red, especially serious)")  # noqa: E741
    II = 2, _("Level II (orange, serious)")
    III = 3, _("Level III (yellow, relatively serious)")
    IV = 4, _("Level IV (blue, general)")


COLOUR = {Level.I: "red", Level.II: "orange", Level.III: "yellow", Level.IV: "blue"}
ROMAN = {Level.I: "I", Level.II: "II", Level.III: "III", Level.IV: "IV"}
COLOUR_LABEL = {
    "red": _("red"),
    "orange": _("orange"),
    "yellow": _("yellow"),
    "blue": _("blue"),
}


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", pgettext_lazy("warning", "Submitted")
    APPROVED = "approved", pgettext_lazy("warning", "Approved")
    PUBLISHED = "published", _("Published")
    UPDATED = "updated", _("Updated")
    CANCELLED = "cancelled", pgettext_lazy("warning", "Cancelled")
    EXPIRED = "expired", _("Expired")


# A warning residents currently see.
LIVE_STATUSES = (Status.PUBLISHED, Status.UPDATED)


class Origin(models.TextChoices):
    MANUAL = "manual", _("Created by hand")
    SIGNAL = "signal", _("Proposed from signals")
    CAP_IMPORT = "cap_import", _("Imported CAP feed")


class CapCategory(models.TextChoices):
    """CAP 1.2 <category> values."""

    GEO = "Geo", _("Geophysical")
    MET = "Met", _("Meteorological")
    SAFETY = "Safety", _("Public safety")
    SECURITY = "Security", _("Security")
    RESCUE = "Rescue", _("Rescue")
    FIRE = "Fire", _("Fire")
    HEALTH = "Health", _("Health")
    ENV = "Env", _("Environment")
    TRANSPORT = "Transport", _("Transport")
    INFRA = "Infra", _("Infrastructure")
    CBRNE = "CBRNE", _("CBRNE")
    OTHER = "Other", _("Other")


class Warning(models.Model):
    level = models.PositiveSmallIntegerField(
        pgettext_lazy("warning", "level"), choices=Level.choices
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    headline = models.CharField(_("headline"), max_length=160)
    headline_en = models.CharField(_("headline (English)"), max_length=160, blank=True)
    event = models.CharField(_("event"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    instructions = models.TextField(_("instructions to residents"), blank=True)
    instructions_en = models.TextField(_("instructions (English)"), blank=True)
    cap_category = models.CharField(
        _("CAP category"), max_length=10, choices=CapCategory.choices, default=CapCategory.SAFETY
    )
    category = models.ForeignKey(
        "appeals.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    areas = models.ManyToManyField(
        Place, verbose_name=_("area"), blank=True, related_name="warnings"
    )
    # The jurisdiction that owns the warning (creator's place); decides who may approve.
    owner_place = models.ForeignKey(
        Place,
        verbose_name=pgettext_lazy("warning", "owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    origin = models.CharField(
        pgettext_lazy("warning", "origin"),
        max_length=12,
        choices=Origin.choices,
        default=Origin.MANUAL,
    )
    source = models.CharField(_("source"), max_length=200, blank=True)
    external_identifier = models.CharField(max_length=200, blank=True, db_index=True)
    onset_at = models.DateTimeField(_("onset"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Everyone who drafted, edited or submitted it: none of them may approve it (four eyes).
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("editors"), blank=True, related_name="+"
    )
    rejection_note = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.headline

    @classmethod
    def from_db(cls, db, field_names, values):
        """A time stored out of range (before the bounds of issue 23 #4) is read clamped, so no
        page or feed showing it fails; the inputs no longer accept such values."""
        instance = super().from_db(db, field_names, values)
        for name in ("onset_at", "expires_at"):
            value = instance.__dict__.get(name)
            if value is not None:
                instance.__dict__[name] = displayable(value)
        return instance

    @property
    def colour(self) -> str:
        return COLOUR[Level(self.level)]

    @property
    def roman(self) -> str:
        return ROMAN[Level(self.level)]

    @property
    def colour_label(self) -> str:
        return str(COLOUR_LABEL[self.colour])

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class CapMessage(models.Model):
    """One CAP alert as sent: kept verbatim so references and the feed stay stable."""

    class MsgType(models.TextChoices):
        ALERT = "Alert", _("Alert")
        UPDATE = "Update", _("Update")
        CANCEL = "Cancel", pgettext_lazy("warning", "Cancel")

    warning = models.ForeignKey(Warning, on_delete=models.PROTECT, related_name="cap_messages")
    identifier = models.CharField(max_length=200, unique=True)
    msg_type = models.CharField(max_length=8, choices=MsgType.choices)
    sent = models.DateTimeField()
    xml = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent", "-id"]

    def __str__(self) -> str:
        return self.identifier


# ---------------------------------------------------------------- series


class Series(models.Model):
    """A count stream: (source, place, category). category NULL means all categories."""

    source = models.CharField(_("source"), max_length=20, default="appeals")
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    place_level = models.CharField(max_length=10)
    category = models.ForeignKey(
        "appeals.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "place", "category"], name="warning_series_unique"
            ),
            models.UniqueConstraint(
                fields=["source", "place"],
                condition=Q(category__isnull=True),
                name="warning_series_unique_all",
            ),
        ]

    def __str__(self) -> str:
        cat = self.category.name if self.category_id and self.category else _("all categories")
        return f"{self.place.name} · {cat}"


class SeriesCount(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="counts")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "day"], name="warning_count_unique")
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.series_id}@{self.day}: {self.count}"


class SeriesWeek(models.Model):
    """Weekly sums (week starts on Monday) for weekly detectors such as Farrington."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="weeks")
    week_start = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "week_start"], name="warning_week_unique")
        ]

    def __str__(self) -> str:
        return f"{self.series_id}@{self.week_start}: {self.count}"


class Watermark(models.Model):
    """How far the incremental refresh has counted each source (last primary key seen)."""

    source = models.CharField(max_length=20, unique=True)
    last_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source}: {self.last_id}"


# ---------------------------------------------------------------- detection


class Method(models.TextChoices):
    EARS_C1 = "ears_c1", _("EARS C1")
    EARS_C2 = "ears_c2", _("EARS C2")
    EARS_C3 = "ears_c3", _("EARS C3")
    FARRINGTON = "farrington", _("Farrington (flexible)")
    CUSUM = "cusum", _("CUSUM")


class DetectorConfig(models.Model):
    """Which detector runs on a category's series. category NULL is the default for all."""

    category = models.ForeignKey(
        "appeals.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    method = models.CharField(
        pgettext_lazy("warning", "method"), max_length=12, choices=Method.choices
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    min_count = models.PositiveIntegerField(
        _("minimum count"),
        default=3,
        help_text=_("Alarms on days with fewer appeals than this are ignored."),
    )
    severity = models.PositiveSmallIntegerField(
        _("category severity"),
        choices=Level.choices,
        default=Level.IV,
        help_text=_("Warning level proposed for a single strong signal of this category."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("detector setting")
        verbose_name_plural = _("detector settings")
        constraints = [
            models.UniqueConstraint(fields=["category", "method"], name="warning_detector_unique"),
            models.UniqueConstraint(
                fields=["method"],
                condition=Q(category__isnull=True),
                name="warning_detector_default_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} ({self.category_id or '*'})"


class SignalStatus(models.TextChoices):
    NEW = "new", _("New")
    PROPOSED = "proposed", _("Warning proposed")
    DISMISSED = "dismissed", _("Dismissed")


class Signal(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="signals")
    day = models.DateField(_("date"), db_index=True)
    method = models.CharField(
        pgettext_lazy("warning", "method"), max_length=12, choices=Method.choices
    )
    observed = models.FloatField(_("observed"))
    expected = models.FloatField(_("expected"), null=True)
    upperbound = models.FloatField(_("upper bound"), null=True)
    score = models.FloatField(_("score"))
    status = models.CharField(
        _("status"), max_length=10, choices=SignalStatus.choices, default=SignalStatus.NEW
    )
    dismiss_reason = models.CharField(_("reason"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    warning = models.ForeignKey(
        Warning, null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("signal")
        verbose_name_plural = _("signals")
        ordering = ["-day", "-score"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "day", "method"], name="warning_signal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series_id}@{self.day} {self.method}"


# ---------------------------------------------------------------- distribution


class Subscription(models.Model):
    """A user's wish to be told of warnings for a place (and optionally one category)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="warning_subscriptions"
    )
    place = models.ForeignKey(Place, verbose_name=_("place"), on_delete=models.CASCADE)
    cap_category = models.CharField(
        _("CAP category"), max_length=10, choices=CapCategory.choices, blank=True
    )
    min_level = models.PositiveSmallIntegerField(
        _("from level"), choices=Level.choices, default=Level.IV
    )
    sms = models.BooleanField(_("also by SMS"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "place", "cap_category"], name="warning_subscription_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.place_id}"


def _new_secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """An outside system told of every CAP message for places under `place`."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=128, default=_new_secret)
    place = models.ForeignKey(Place, verbose_name=_("place"), on_delete=models.PROTECT)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """Log of one message sent over one channel (webhook attempt, MQTT, SMS)."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        MQTT = "mqtt", "MQTT"
        SMS = "sms", _("SMS (stub)")

    class Outcome(models.TextChoices):
        PENDING = "pending", pgettext_lazy("warning", "Pending")
        OK = "ok", _("Delivered")
        RETRY = "retry", _("Failed, will retry")
        FAILED = "failed", _("Failed")

    message = models.ForeignKey(CapMessage, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    target = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.PENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk}"
